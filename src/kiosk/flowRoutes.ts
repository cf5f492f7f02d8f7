// Kiosk routes of the consumer flows added for issue 11 (docs/kiosk-api.md): the cabinet map's
// layout, the help directory, and extending a pickup with the code. The KioskServer calls
// addFlowRoutes once; each handler only validates its input and calls the locker.
import { z } from 'zod';
import { type LockerConfig } from '../config/schema.js';
import { type Locker, pickupProblems } from '../domain/locker.js';
import { type PickupReports } from './pickupReports.js';
import { bearer } from './sessions.js';
import { HANDLED, type Router } from './http.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { SupportQrCodes } from './supportQr.js';
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
  reports: PickupReports;
  withLockout: <T>(f: () => Promise<T> | T) => Promise<T>;
}

const Extend = z.strictObject({ code: z.string().min(1).max(512), hours: z.number().int().min(1).max(14 * 24).optional() });

export function addFlowRoutes(r: Router, d: FlowRouteDeps): void {
  r.add('GET', '/api/layout', () => cabinetLayout(d.locker.compartments()));
  r.add('GET', '/api/support', () => supportDirectory(d.config.support, d.locker.views.carriers()));
  // The QR code of a support line's link: `locker` (the locker's own line) or a carrier's id.
  const qr = new SupportQrCodes();
  r.add('GET', '/api/info/support-qr/:who', async (ctx) => {
    const who = ctx.params.who ?? '';
    const dir = supportDirectory(d.config.support, d.locker.views.carriers());
    const url = (who === 'locker' ? dir.default : dir.carriers.find((c) => c.id === who)?.support)?.qrUrl;
    if (!url) throw new LockerError(ErrorCodes.NOT_FOUND, 'no support link to draw for this line', { who: who.slice(0, 64) });
    const svg = await qr.svg(url);
    ctx.res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8', 'content-length': Buffer.byteLength(svg), 'cache-control': 'no-cache' });
    ctx.res.end(svg);
    return HANDLED;
  });
  r.add('POST', '/api/pickup/extend', async (ctx) => {
    const { code, hours } = await ctx.body(Extend);
    return d.withLockout(() => d.locker.extendPickup(code, hours));
  });
  // Report a problem right after a pickup, with the pickup reply's `report` secret as the bearer.
  r.add('POST', '/api/pickup/:sessionId/report', async (ctx) => {
    const { problem } = await ctx.body(z.strictObject({ problem: z.enum(pickupProblems) }));
    const parcelId = d.reports.take(ctx.params.sessionId ?? '', bearer(ctx.req.headers.authorization));
    const r = await d.locker.reportProblem(parcelId, problem);
    return { problem, ...(r.reopened ? { reopened: r.reopened } : {}) };
  });
}
