// The simulator panel's HTTP routes (docs/kiosk-api.md, "Simulator"): they act on the simulated
// world the way a person or a fault would, and stand in for a carrier's back end to announce
// parcels. Registered only when lockerd runs on the simulator.
import { type ServerResponse } from 'node:http';
import { z } from 'zod';
import { SizeClass, type CompartmentConfig } from '../../src/config/schema.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Locker } from '../../src/domain/locker.js';
import { type Router, type RouteContext, type HANDLED } from '../../src/kiosk/http.js';
import { type SimWorld, type SimPosition, type SimWorldEvent } from '../world.js';
import { type SimClock } from '../simClock.js';

export interface SimRoutesDeps {
  router: Router;
  world: SimWorld;
  locker: Locker;
  compartments: () => CompartmentConfig[];
  openEventStream: (ctx: RouteContext, streams: Set<ServerResponse>) => typeof HANDLED;
  scannerNoise: (bytes: number) => Uint8Array;
  /** The wall clock the panel moves forward; absent when a test injected its own clock. */
  clock?: SimClock;
}

const compartmentActions = ['close', 'put', 'take', 'jam', 'unjam', 'force-open', 'bounce'] as const;

export function registerSimRoutes(d: SimRoutesDeps): () => void {
  const streams = new Set<ServerResponse>();
  const revealed: { carrier: string; waybill: string; kind: string; code: string }[] = [];
  const position = (id: string): SimPosition => {
    const c = d.compartments().find((x) => x.id === id);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${id}`);
    return { bus: c.bus, board: c.board, lock: c.lock };
  };
  const compartmentAt = (p: SimPosition): string | undefined => d.compartments().find((c) => c.bus === p.bus && c.board === p.board && c.lock === p.lock)?.id;
  const act = (fn: () => void): Record<string, never> => {
    try {
      fn();
    } catch (e) {
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, (e as Error).message);
    }
    return {};
  };

  // lockerd's own view of each compartment (state, fault, the parcel's waybill and state),
  // in cabinet order: column by column from the left, top to bottom.
  const lockerdView = () => {
    const parcels = new Map<string, { waybill: string; carrier: string; state: string; expiresAt: number | null }>();
    for (const c of d.locker.views.carriers())
      for (const p of d.locker.carrierParcels(c.id))
        if (p.compartment && (p.state === 'stored' || p.state === 'expired' || p.state === 'dropped_off')) parcels.set(p.compartment, { waybill: p.waybill, carrier: c.id, state: p.state, expiresAt: p.expiresAt });
    const world = new Map(d.world.allLocks().map((l) => [compartmentAt(l.position), l]));
    return d.locker
      .compartments()
      .sort((a, b) => a.column - b.column || a.row - b.row || a.id.localeCompare(b.id))
      .map((c) => {
        const w = world.get(c.id);
        return { ...c, parcel: parcels.get(c.id) ?? null, world: w ? { doorOpen: w.doorOpen, latched: w.latched, itemPresent: w.itemPresent, jammed: w.jammed } : null };
      });
  };

  d.router.add('GET', '/sim/state', () => ({
    compartments: lockerdView(),
    carriers: d.locker.views.carriers().map((c) => ({ id: c.id, name: c.name, dwellHours: c.dwellHours })),
    locks: d.world.allLocks().map((s) => ({ compartment: compartmentAt(s.position) ?? null, position: s.position, latched: s.latched, doorOpen: s.doorOpen, itemPresent: s.itemPresent, jammed: s.jammed })),
    boards: [...new Set(d.world.allLocks().map((s) => `${s.position.bus}/${s.position.board}`))].map((k) => {
      const [bus = '', board = '0'] = k.split('/');
      return { bus, board: Number(board), silent: d.world.isBoardSilent(bus, Number(board)) };
    }),
    scanner: { plugged: d.world.scannerIsPlugged },
    // The buzzer and compartment LEDs of hardware.indicator (sim/gpio/simIndicator.ts); streamed as 'indicator' events.
    indicator: d.world.indicator(),
    revealedCodes: revealed.slice(-20),
    clock: { now: d.clock?.now() ?? Date.now(), offsetMs: d.clock?.offsetMs ?? 0, movable: d.clock !== undefined },
  }));

  // The clock control: time forward (never back) to show expiry and collection; the expiry
  // sweep runs at once rather than at its next minute.
  d.router.add('POST', '/sim/clock/advance', async (ctx) => {
    const { hours } = await ctx.body(z.object({ hours: z.number().positive().max(30 * 24) }));
    if (!d.clock) throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'this lockerd runs on an injected clock');
    d.clock.advance(Math.round(hours * 3_600_000));
    const expired = d.locker.expireDue();
    const line = `data: ${JSON.stringify({ type: 'clock', hours, offsetMs: d.clock.offsetMs, expired })}\n\n`;
    for (const st of streams) st.write(line);
    return { now: d.clock.now(), offsetMs: d.clock.offsetMs, expired };
  });

  d.router.add('POST', '/sim/compartments/:id/:action', (ctx) => {
    const action = z.enum(compartmentActions).safeParse(ctx.params.action);
    if (!action.success) throw new LockerError(ErrorCodes.INPUT_INVALID, `unknown action ${ctx.params.action ?? ''}`);
    const p = position(ctx.params.id ?? '');
    return act(() => {
      switch (action.data) {
        case 'close':
          return d.world.closeDoor(p);
        case 'put':
          return d.world.putParcel(p);
        case 'take':
          return d.world.takeParcel(p);
        case 'jam':
          return d.world.setJammed(p, true);
        case 'unjam':
          return d.world.setJammed(p, false);
        case 'force-open':
          return d.world.forceOpen(p);
        case 'bounce':
          return d.world.bounceOnNextUnlock(p);
      }
    });
  });

  d.router.add('POST', '/sim/boards/:bus/:board/:action', (ctx) => {
    const board = Number(ctx.params.board);
    if (!Number.isInteger(board)) throw new LockerError(ErrorCodes.INPUT_INVALID, 'board must be a number');
    if (ctx.params.action !== 'silence' && ctx.params.action !== 'restore') throw new LockerError(ErrorCodes.INPUT_INVALID, 'action is silence or restore');
    d.world.setBoardSilent(ctx.params.bus ?? '', board, ctx.params.action === 'silence');
    return {};
  });

  d.router.add('POST', '/sim/buses/:bus/:action', async (ctx) => {
    const { count } = await ctx.body(z.object({ count: z.number().int().min(1).max(100).optional() }));
    if (ctx.params.action !== 'garble' && ctx.params.action !== 'truncate') throw new LockerError(ErrorCodes.INPUT_INVALID, 'action is garble or truncate');
    d.world.corruptReplies(ctx.params.bus ?? '', ctx.params.action, count ?? 1);
    return {};
  });

  d.router.add('POST', '/sim/scanner/:action', async (ctx) => {
    const body = await ctx.body(z.object({ text: z.string().max(4096).optional(), bytes: z.number().int().min(1).max(1_048_576).optional() }));
    switch (ctx.params.action) {
      case 'scan':
        if (!body.text) throw new LockerError(ErrorCodes.INPUT_INVALID, 'text is required');
        d.world.scan(body.text);
        return {};
      case 'unplug':
        d.world.setScannerPlugged(false);
        return {};
      case 'replug':
        d.world.setScannerPlugged(true);
        return {};
      case 'noise':
        d.world.scanBytes(d.scannerNoise(body.bytes ?? 256));
        return {};
      default:
        throw new LockerError(ErrorCodes.INPUT_INVALID, 'action is scan, unplug, replug or noise');
    }
  });

  d.router.add('POST', '/sim/carriers/:carrier/reservations', async (ctx) => {
    const body = await ctx.body(
      z.object({ waybill: z.string().trim().min(1).max(64), size: SizeClass, kind: z.enum(['parcel', 'dropoff']).default('parcel'), code: z.string().regex(/^[0-9]{6,10}$/).optional(), dwellHours: z.number().min(0.001).max(1440).optional(), group: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional() }),
    );
    const carrier = ctx.params.carrier ?? '';
    const out = d.locker.announce(
      carrier,
      { waybill: body.waybill, size: body.size, kind: body.kind === 'dropoff' ? 'dropoff' : 'delivery', ...(body.code ? { code: body.code } : {}), ...(body.dwellHours ? { dwellHours: body.dwellHours } : {}), ...(body.group ? { group: body.group } : {}) },
      { kind: 'carrier', id: carrier },
    );
    if (out.code) {
      revealed.push({ carrier, waybill: body.waybill, kind: body.kind, code: out.code });
      if (revealed.length > 50) revealed.shift();
    }
    return out;
  });

  d.router.add('GET', '/sim/events', (ctx) => d.openEventStream(ctx, streams));

  const off = d.world.on((e: SimWorldEvent) => {
    const payload =
      e.type === 'lock'
        ? { type: 'lock', cause: e.cause, compartment: compartmentAt(e.state.position) ?? null, latched: e.state.latched, doorOpen: e.state.doorOpen, itemPresent: e.state.itemPresent, jammed: e.state.jammed }
        : e.type === 'scan'
          ? { type: 'scan', bytes: e.bytes.length }
          : e;
    const line = `data: ${JSON.stringify(payload)}\n\n`;
    for (const s of streams) s.write(line);
  });
  const offLocker = d.locker.on((e) => {
    if (e.type === 'demo-code') {
      revealed.push({ carrier: e.carrier, waybill: e.waybill, kind: 'parcel', code: e.code });
      if (revealed.length > 50) revealed.shift();
    }
    // The panel's events name waybills: deposits and drop-offs as they go, and what lockerd
    // changes in a compartment (a pickup, an expiry, a service change).
    let payload: Record<string, unknown> | undefined;
    if (e.type === 'deposit' && e.deposit.state === 'stored') payload = { type: 'stored', compartment: e.deposit.compartment.id, waybill: e.deposit.waybill };
    else if (e.type === 'deposit') payload = { type: 'deposit', kind: e.deposit.kind, compartment: e.deposit.compartment.id, waybill: e.deposit.waybill, state: e.deposit.state };
    else if (e.type === 'compartment') payload = { type: 'compartment', compartment: e.compartment.id, state: e.compartment.state };
    if (payload) {
      const line = `data: ${JSON.stringify(payload)}\n\n`;
      for (const s of streams) s.write(line);
    }
  });
  return () => {
    off();
    offLocker();
    for (const s of streams) s.end();
  };
}
