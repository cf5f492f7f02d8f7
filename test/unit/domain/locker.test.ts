// Locker, end to end in the domain: deposit, pickup, collection, remote open and reconciliation
// on the real bus over the simulator, on a manual clock (test/support/domainLocker.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { type DomainLocker, domainLocker, CARRIER } from '../../support/domainLocker.js';

describe('Locker (domain fixture, manual clock)', () => {
  let h: DomainLocker;
  afterEach(async () => {
    await h.stop();
  });

  it('deposits and picks up: parcel.stored then parcel.picked_up with pickedUpAt', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-1');
    const opened = await h.settle(h.locker.pickup(code));
    expect(opened.compartment.id).toBe(compartment);
    expect(h.events().map((e) => e.type)).toEqual(['parcel.stored', 'parcel.picked_up']);
    const picked = h.events('parcel.picked_up')[0];
    expect(picked?.data).toMatchObject({ waybill: 'SP-1', compartment, pickedUpAt: expect.any(Number) });
    expect(picked?.data).not.toHaveProperty('at');
  });

  it('a pickup interrupted by a power cut is reconciled with the same payload names (pickedUpAt, reconciled)', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-2');
    // The unlock is recorded, then the process "dies" before the door is seen open: the session
    // stays in flight. The door opened meanwhile (the consumer took the parcel).
    const session = h.locker.pickup(code);
    session.catch(() => undefined);
    await h.flush();
    h.doors.stop();
    expect(h.store.inFlightSessions().map((s) => s.purpose)).toEqual(['pickup']);
    h.world.energise(h.position(compartment), 100);
    await h.advance(300);
    h.doors.start();
    const result = await h.settle(h.locker.reconcile());
    expect(result).toEqual({ resolved: 1, pending: 0 });
    const picked = h.events('parcel.picked_up');
    expect(picked).toHaveLength(1);
    expect(picked[0]?.data).toMatchObject({ compartment, pickedUpAt: expect.any(Number), reconciled: true });
    expect(picked[0]?.data).not.toHaveProperty('at');
  });

  it('collects an expired parcel: parcel.retrieved carries retrievedAt', async () => {
    h = await domainLocker();
    const { compartment } = await h.deposit('SP-3');
    await h.clock.advance(61 * 60_000);
    expect(h.locker.expireDue()).toBe(1);
    const [item] = h.locker.collections(h.courier);
    expect(item).toMatchObject({ kind: 'expired', waybill: 'SP-3' });
    await h.settle(h.locker.openCollection(h.courier, item?.parcelId ?? ''));
    expect(h.events().filter((e) => e.carrier === CARRIER).map((e) => e.type)).toEqual(['parcel.stored', 'parcel.expired', 'parcel.retrieved']);
    expect(h.events('parcel.retrieved')[0]?.data).toMatchObject({ compartment, courier: 'courier-1', retrievedAt: expect.any(Number) });
  });

  it('a remote open needs a reason and records door.remote_opened on the operator stream', async () => {
    h = await domainLocker();
    await expect(h.locker.remoteOpen('K1', '  ', { kind: 'operator', id: 'op' })).rejects.toMatchObject({ code: ErrorCodes.INPUT_INVALID });
    await h.settle(h.locker.remoteOpen('K1', 'inspection', { kind: 'operator', id: 'op' }));
    expect(h.events('door.remote_opened')).toEqual([expect.objectContaining({ stream: 'op', carrier: null, data: expect.objectContaining({ compartment: 'K1', reason: 'inspection', by: 'operator:op' }) })]);
  });

  it('compartments() is the read model: a held compartment shows occupied while its deposit is open', async () => {
    h = await domainLocker();
    const started = await h.settle(h.locker.startDeposit(h.courier, { waybill: 'SP-4', size: 'S' }));
    expect(h.locker.compartment(started.compartment.id).state).toBe('occupied');
    h.locker.cancel(h.courier, started.id);
    h.close(started.compartment.id);
    await h.until('released', () => h.locker.compartment(started.compartment.id).state === 'free');
    expect(h.events('deposit.cancelled')).toHaveLength(1);
  });
});
