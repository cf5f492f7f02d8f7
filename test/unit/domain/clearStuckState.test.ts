// Issue 11, flow 8: service mode "clear a stuck state". A door session left in flight whose
// runner is gone (no door is being driven) holds its compartment from reconciliation and keeps
// updates waiting. The operator ends it, with an event to the operator stream and an audit
// row; never while the door is open or a session is really live. A placement's session is not
// guessed: its compartment goes to inspection. A retrieval's parcel stays where it is.
import { afterEach, describe, expect, it } from 'vitest';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

const lockers: DomainLocker[] = [];
afterEach(async () => {
  for (const l of lockers.splice(0)) await l.stop();
});

const op = { kind: 'operator' as const, id: 'ops-1' };

async function withStuckSession(purpose: 'pickup' | 'deposit'): Promise<{ l: DomainLocker; parcelId: string }> {
  const l = await domainLocker({ itemSensors: false });
  lockers.push(l);
  const { compartment } = await l.deposit('SP-ST1');
  expect(compartment).toBe('K1');
  const parcel = l.store.liveParcelByWaybill('swiftpost', 'SP-ST1');
  if (!parcel) throw new Error('no parcel');
  // A session on record with no runner behind it (its runner is gone).
  l.store.transaction(() =>
    l.store.insertSession({ id: 'S-STUCK', compartmentId: 'K1', purpose, actor: 'consumer', context: { parcelId: parcel.id, waybill: 'SP-ST1', carrier: 'swiftpost' }, startedAt: l.clock.now() }),
  );
  await l.until('K1 read shut', () => l.doors.door('K1').open === false);
  return { l, parcelId: parcel.id };
}

function auditRows(l: DomainLocker, action: string): { actor: string; subject: string; data: string }[] {
  return l.db.prepare('SELECT actor, subject, data FROM audit WHERE action = ?').all(action) as { actor: string; subject: string; data: string }[];
}

describe('clear a stuck state', () => {
  it('ends a retrieval session whose runner is gone: the parcel stays, an operator event and an audit row', async () => {
    const { l, parcelId } = await withStuckSession('pickup');
    const view = l.locker.clearStuck('K1', 'session left after a crash', op);
    expect(view.id).toBe('K1');
    expect(l.store.inFlightSessions()).toEqual([]);
    expect(l.store.parcel(parcelId)?.state).toBe('stored');
    const events = l.events('compartment.stuck_cleared');
    expect(events.map((e) => [e.stream, e.data])).toEqual([
      ['op', { compartment: 'K1', sessions: [{ id: 'S-STUCK', purpose: 'pickup', outcome: 'cleared' }], hold: false, reason: 'session left after a crash' }],
    ]);
    expect(auditRows(l, 'compartment.stuck_cleared')).toEqual([expect.objectContaining({ actor: 'operator:ops-1', subject: 'K1' })]);
    // Nothing stuck any more: a second clear is refused, the first is not repeated.
    expect(() => l.locker.clearStuck('K1', 'again', op)).toThrow(expect.objectContaining({ code: 'NOTHING_STUCK' }));
  });

  it('a placement session is not guessed: the compartment goes to inspection', async () => {
    const { l } = await withStuckSession('deposit');
    l.locker.clearStuck('K1', 'deposit session left behind', op);
    expect(l.store.inFlightSessions()).toEqual([]);
    expect(l.store.compartment('K1')).toMatchObject({ inService: false, fault: 'NEEDS_INSPECTION' });
    expect(l.events('compartment.stuck_cleared').map((e) => e.data)).toEqual([
      expect.objectContaining({ sessions: [{ id: 'S-STUCK', purpose: 'deposit', outcome: 'inspection' }] }),
    ]);
    expect(l.locker.inspectionList()).toEqual([expect.objectContaining({ compartment: 'K1', purpose: 'deposit' })]);
  });

  it('refuses while the door is open', async () => {
    const { l } = await withStuckSession('pickup');
    l.world.forceOpen(l.position('K1'));
    await l.until('K1 read open', () => l.doors.door('K1').open === true);
    expect(() => l.locker.clearStuck('K1', 'x', op)).toThrow(expect.objectContaining({ code: 'DOOR_NOT_CLOSED' }));
    expect(l.store.inFlightSessions()).toHaveLength(1);
    expect(l.events('compartment.stuck_cleared')).toEqual([]);
  });

  it('refuses while a session is really live (a door being driven for a deposit)', async () => {
    const l = await domainLocker({ itemSensors: true });
    lockers.push(l);
    const started = await l.settle(l.locker.startDeposit(l.courier, { waybill: 'SP-LIVE', size: 'S' }));
    const id = started.compartment.id;
    expect(() => l.locker.clearStuck(id, 'x', op)).toThrow(expect.objectContaining({ code: 'DOOR_BUSY', context: expect.objectContaining({ reason: 'session' }) }));
    l.close(id);
    await l.until('the door read shut', () => l.doors.door(id).open === false && !l.doors.busy(id));
    // Closed with nothing inside: the courier's placement still holds the door (waiting for a reopen or cancel): live too.
    expect(l.locker.depositView(l.courier, started.id).state).toBe('open'); // closed empty: still the courier's
    expect(() => l.locker.clearStuck(id, 'x', op)).toThrow(expect.objectContaining({ code: 'DOOR_BUSY', context: expect.objectContaining({ reason: 'placement' }) }));
    expect(l.events('compartment.stuck_cleared')).toEqual([]);
  });

  it('refuses a compartment with nothing stuck, an unknown one and an empty reason', async () => {
    const l = await domainLocker({ itemSensors: false });
    lockers.push(l);
    await l.until('K1 read shut', () => l.doors.door('K1').open === false);
    expect(() => l.locker.clearStuck('K1', 'x', op)).toThrow(expect.objectContaining({ code: 'NOTHING_STUCK' }));
    expect(() => l.locker.clearStuck('NOPE', 'x', op)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => l.locker.clearStuck('K1', '  ', op)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});
