// Kiosk routes of the consumer flows added for issue 11 (docs/kiosk-api.md): the cabinet map's
// layout, the help directory, and extending a pickup with the code. The KioskServer calls
// addFlowRoutes once; each handler only validates its input and calls the locker.
import { z } from 'zod';
import { type LockerConfig } from '../config/schema.js';
import { type Locker } from '../domain/locker.js';
import { type Router } from './http.js';
import { supportDirectory } from './support.js';

/** The cabinet as the map draws it: positions only, nothing about what is inside. */
export interface CabinetLayout {
  columns: number;
  rows: number;
  compartments: { id: string; column: number; row: number; size: string; accessible: boolean }[];
}

export function cabinetLayout(compartments: readonly { id: string; column: number; row: number; size: string; accessible: boolean }[]): CabinetLayout {
  const list = compartments.map((c) => ({ id: c.id, column: c.column, row: c.row, size: c.size, accessible: c.accessible }));
  return {
    columns: Math.max(1, ...list.map((c) => c.column)),
    rows: Math.max(1, ...list.map((c) => c.row)),
    compartments: list,
  };
}

export interface FlowRouteDeps {
  locker: Locker;
  config: LockerConfig;
  /** Runs a code use and then tells the screens the keypad budget (the server's own pickup path does the same). */
  withLockout: <T>(f: () => Promise<T> | T) => Promise<T>;
}

const Extend = z.strictObject({ code: z.string().min(1).max(512), hours: z.number().int().min(1).max(14 * 24).optional() });

export function addFlowRoutes(r: Router, d: FlowRouteDeps): void {
  r.add('GET', '/api/layout', () => cabinetLayout(d.locker.compartments()));
  r.add('GET', '/api/support', () => supportDirectory(d.config.support, d.locker.views.carriers()));
  r.add('POST', '/api/pickup/extend', async (ctx) => {
    const { code, hours } = await ctx.body(Extend);
    return d.withLockout(() => d.locker.extendPickup(code, hours));
  });
}
