// Retrievals and Placements against in-process fakes of their narrow dependencies: the door
// outcome drives each machine, and the right records and events come out. No bus, no store.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { ErrorCodes } from '../../../kernel/errors.js';
import { type DoorOutcome, type DoorRunner } from '../../../src/domain/doorRunner.js';
import { type RecordSpec } from '../../../src/domain/eventRecorder.js';
import { type LockerEvent } from '../../../src/domain/lockerEvents.js';
import { Placements, type PlacementDeps } from '../../../src/domain/placements.js';
import { Retrievals, type RetrievalDeps } from '../../../src/domain/retrievals.js';
import { type CompartmentView } from '../../../src/domain/views.js';
import { silentLogger } from '../../../src/logger.js';
import { type CompartmentRow, type ParcelRow } from '../../../src/store/lockerStore.js';

type Outcome = (o: DoorOutcome) => void;
type OnOutcome = (o: DoorOutcome, r: DoorRunner) => void;
/** The runners never look at the DoorRunner handed to them. */
const noRunner = undefined as unknown as DoorRunner;

function world() {
  const clock = new ManualClock();
  let n = 0;
  const records: RecordSpec[] = [];
  const calls: string[] = [];
  const doors = new Map<string, Outcome>();
  const busy = new Set<string>();
  const rows = new Map<string, Partial<CompartmentRow>>([
    ['K1', { id: 'K1', size: 'S', inService: true, fault: null }],
    ['K2', { id: 'K2', size: 'S', inService: true, fault: null }],
  ]);
  const view = (id: string): CompartmentView => ({ id, size: 'S', accessible: false, column: 1, row: 1, state: 'free', door: 'closed' });
  const notices: LockerEvent[] = [];
  const held = new Set<string>();
  const store = {
    insertSession: (s: { id: string; purpose: string }) => calls.push(`session ${s.purpose}`),
    endSession: (id: string, state: string, outcome: string) => (calls.push(`end ${state} ${outcome}`), true),
    transitionParcel: (id: string, from: string, to: string) => void calls.push(`move ${from}->${to}`),
    compartment: (id: string) => rows.get(id) as CompartmentRow | undefined,
    setService: (id: string, inService: boolean, fault: string | null) => {
      calls.push(`service ${id} ${inService} ${fault}`);
      rows.set(id, { ...rows.get(id), inService, fault });
    },
    parcel: () => undefined,
    transaction: <T>(fn: () => T) => fn(),
    storeParcel: () => calls.push('storeParcel'),
    insertParcel: () => calls.push('insertParcel'),
    setTokenDigest: () => calls.push('token'),
  };
  const common = {
    uncertain: (u: { compartment: string; kind: string }) => void calls.push(`uncertain ${u.kind} ${u.compartment}`),
    doors: {
      busy: (id: string) => busy.has(id),
      reachable: () => true,
      busConnected: () => true,
      position: (id: string) => ({ id, bus: 'bus0', board: 0, lock: 1 }),
      open: (id: string, _session: string, cb: OnOutcome): DoorRunner => {
        if (busy.has(id)) throw new Error('busy');
        doors.set(id, (o) => cb(o, noRunner));
        return noRunner;
      },
    },
    recorder: {
      commit: <T>(spec: RecordSpec, change?: () => T): T => {
        records.push(spec);
        return change ? change() : (undefined as T);
      },
    },
    alarms: {
      latchJammed: (c: string) => {
        calls.push(`jammed ${c}`);
        rows.set(c, { ...rows.get(c), inService: false, fault: ErrorCodes.LATCH_JAMMED });
      },
      doorLeftOpen: (c: string) => calls.push(`left open ${c}`),
      raise: (a: { type: string }) => calls.push(`alarm ${a.type}`),
    },
    clock,
    newId: () => `id${++n}`,
    logger: silentLogger(),
    notify: (e: LockerEvent) => notices.push(e),
  };
  const retrievalDeps: RetrievalDeps = { ...common, store, views: { one: view } };
  const placementDeps: PlacementDeps = {
    ...common,
    store: store as unknown as PlacementDeps['store'],
    views: {
      one: view,
      candidates: () => [...rows.values()].map((r) => ({ id: r.id ?? '', size: 'S' as const, accessible: false, available: r.inService === true && !held.has(r.id ?? '') })),
      carrier: (id: string) => ({ id, name: id, signingKeys: [], dwellHours: 72, adHocDeposit: true, couriers: [] }),
    },
    held,
    codes: {
      newUniqueCode: () => '1234567890',
      digestOf: () => 'digest',
      newPickupToken: () => ({ token: 't', digest: 'td' }),
      groups: { groupOf: () => undefined, digestOf: () => undefined, memberIds: () => [], create: () => {} },
    },
    encryptCode: async () => undefined,
    revealCodes: false,
  };
  const door = (id: string): Outcome => {
    const cb = doors.get(id);
    if (!cb) throw new Error(`door ${id} was not opened`);
    return cb;
  };
  return { clock, records, calls, notices, held, retrievals: new Retrievals(retrievalDeps), placements: new Placements(placementDeps), door, busy };
}

const parcel = (over: Partial<ParcelRow> = {}): ParcelRow =>
  ({ id: 'p1', carrier: 'swiftpost', waybill: 'WB-1', kind: 'delivery', state: 'stored', size: 'S', compartmentId: 'K1', codeDigest: 'd', dwellHours: null, announcedAt: null, storedAt: 1, expiresAt: 2, closedAt: null, ...over }) as ParcelRow;

const eventsOf = (records: RecordSpec[]) => records.flatMap((r) => r.events ?? []);

describe('Retrievals', () => {
  it('a pickup commits when the door is seen open, with parcel.picked_up and pickedUpAt', async () => {
    const w = world();
    const opened = w.retrievals.pickup(parcel());
    w.door('K1')({ type: 'opened' });
    await expect(opened).resolves.toMatchObject({ sessionId: 'id1', compartment: { id: 'K1' } });
    expect(eventsOf(w.records)).toEqual([{ carrier: 'swiftpost', type: 'parcel.picked_up', data: { parcelId: 'p1', waybill: 'WB-1', compartment: 'K1', pickedUpAt: w.clock.now() } }]);
    expect(w.calls).toEqual(['session pickup', 'move stored->picked_up', 'end done picked_up']);
    expect(w.notices).toContainEqual({ type: 'session', sessionId: 'id1', compartment: 'K1', state: 'opened' });
  });

  it('a jam consumes nothing: out of service with parcel.pickup_failed for the carrier, LATCH_JAMMED with codeStillValid', async () => {
    const w = world();
    const opened = w.retrievals.pickup(parcel());
    w.door('K1')({ type: 'did_not_open', attempts: 2 });
    await expect(opened).rejects.toMatchObject({ code: ErrorCodes.LATCH_JAMMED, context: { codeStillValid: true } });
    expect(w.calls).toEqual(['session pickup', 'jammed K1']);
  });

  it('a door that opens after a jam is recovered: back in service with compartment.recovered', async () => {
    const w = world();
    const first = w.retrievals.pickup(parcel());
    w.door('K1')({ type: 'did_not_open', attempts: 2 });
    await first.catch(() => undefined);
    const second = w.retrievals.collect(parcel({ state: 'expired' }), { carrier: 'swiftpost', courierId: 'c1', permissions: ['collect'] });
    w.door('K1')({ type: 'opened' });
    await second;
    expect(eventsOf(w.records).map((e) => e.type)).toEqual(['parcel.retrieved', 'compartment.recovered']);
    expect(eventsOf(w.records)[0]?.data).toMatchObject({ courier: 'c1', retrievedAt: w.clock.now() });
    expect(w.calls).toContain('service K1 true null');
  });

  it('a door left open is an alarm, not a machine input; a busy door is refused before anything is recorded', async () => {
    const w = world();
    const opened = w.retrievals.remoteOpen('K1', 'check', { kind: 'operator', id: 'op' });
    w.door('K1')({ type: 'opened' });
    await opened;
    w.door('K1')({ type: 'left_open_alarm' });
    expect(w.calls).toContain('left open K1');
    w.busy.add('K2');
    expect(() => w.retrievals.remoteOpen('K2', 'check', { kind: 'operator', id: 'op' })).toThrow(expect.objectContaining({ code: ErrorCodes.DOOR_BUSY }));
    expect(w.records.filter((r) => r.subject === 'K2')).toEqual([]);
  });
});

describe('Placements', () => {
  const request = { kind: 'deposit' as const, actor: { kind: 'system' as const }, carrier: 'swiftpost', waybill: 'WB-9', parcelId: 'p9', reservation: false, size: 'S' as const };

  it('start() takes one request, holds the compartment, resolves open; a close with the parcel stores it', async () => {
    const w = world();
    const started = w.placements.start(request);
    expect(w.held.has('K1')).toBe(true);
    w.door('K1')({ type: 'opened' });
    await expect(started).resolves.toMatchObject({ state: 'open', compartment: { id: 'K1' } });
    w.door('K1')({ type: 'closed', itemPresent: true });
    await w.clock.advance(0);
    await new Promise((r) => setImmediate(r));
    expect(eventsOf(w.records).map((e) => e.type)).toEqual(['parcel.stored']);
    expect(eventsOf(w.records)[0]?.data).toMatchObject({ compartment: 'K1', storedAt: w.clock.now(), codeChosenByCarrier: false });
    expect(w.held.has('K1')).toBe(false);
  });

  it('a jam moves the placement to another compartment of the size and takes the first out of service', async () => {
    const w = world();
    const started = w.placements.start(request);
    w.door('K1')({ type: 'did_not_open', attempts: 2 });
    w.door('K2')({ type: 'opened' });
    await expect(started).resolves.toMatchObject({ state: 'open', compartment: { id: 'K2' }, reassignedFrom: 'K1' });
    expect(w.calls).toContain('jammed K1');
    expect(w.calls).toContain('end failed LATCH_JAMMED');
  });

  it('a cancel proven empty records deposit.cancelled and releases the hold', async () => {
    const w = world();
    const courier = { carrier: 'swiftpost', courierId: 'c1', permissions: ['deposit' as const] };
    const started = w.placements.start({ ...request, actor: { kind: 'courier', courier } });
    w.door('K1')({ type: 'opened' });
    const view = await started;
    const txn = w.placements.own(courier, view.id);
    expect(() => w.placements.own({ ...courier, courierId: 'c2' }, view.id)).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_FOUND }));
    w.placements.drive(txn, { type: 'cancel' });
    w.door('K1')({ type: 'closed', itemPresent: false });
    expect(eventsOf(w.records)).toEqual([{ carrier: 'swiftpost', type: 'deposit.cancelled', data: { parcelId: 'p9', waybill: 'WB-9' } }]);
    expect(w.held.has('K1')).toBe(false);
  });

  it('commitRecovered records a placement found at boot with reconciled: true', async () => {
    const w = world();
    await w.placements.commitRecovered({ id: 't1', kind: 'dropoff', carrier: 'swiftpost', waybill: 'WB-R', parcelId: 'pR', reservation: true, compartment: 'K2', size: 'S', sessionId: 's1' });
    expect(eventsOf(w.records)).toEqual([{ carrier: 'swiftpost', type: 'dropoff.dropped_off', data: { parcelId: 'pR', waybill: 'WB-R', compartment: 'K2', size: 'S', droppedOffAt: w.clock.now(), reconciled: true } }]);
    expect(w.calls).toContain('end reconciled dropped_off');
  });
});
