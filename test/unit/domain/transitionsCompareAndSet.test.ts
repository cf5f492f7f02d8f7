// Issue 9, finding 3: every parcel transition is a compare-and-set on the state that was read,
// and its audit row and events are written only when it moves. Expiry is checked against
// expires_at when the code is used, not only when the sweep next runs.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

describe('transitions are compare-and-set', () => {
  let h: DomainLocker | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('a pickup whose parcel the expiry sweep expired while the door was opening records no picked_up; an operator alarm says what happened', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-RACE-1', 'S');
    const parcel = h.store.liveParcelByWaybill('swiftpost', 'SP-RACE-1');
    const expiresAt = parcel?.expiresAt ?? 0;
    // One second before expiry the consumer types the code: the unlock is under way.
    h.clock.set(expiresAt - 1_000);
    const pickup = h.locker.pickup(code);
    pickup.catch(() => undefined);
    // The sweep runs before the door is seen open and commits the expiry first.
    h.clock.set(expiresAt + 10);
    expect(h.locker.expireDue()).toBe(1);
    const auditBefore = h.store.auditActions().length;
    // Now the door opens: the pickup's transition must not commit.
    await expect(h.settle(pickup)).rejects.toMatchObject({ code: ErrorCodes.TRANSACTION_STATE });
    expect(h.store.parcel(parcel?.id ?? '')?.state).toBe('expired');
    expect(h.events('parcel.picked_up')).toEqual([]);
    expect(h.store.auditActions()).not.toContain('parcel.picked_up');
    expect(h.events('parcel.expired')).toHaveLength(1);
    // The door did open: the operator hears of it, and the session is not left in flight.
    const conflict = h.events('alarm.transition_conflict');
    expect(conflict).toHaveLength(1);
    expect(conflict[0]?.data).toMatchObject({ compartment, parcelId: parcel?.id, purpose: 'pickup', expected: 'stored', found: 'expired' });
    expect(h.store.auditActions().slice(auditBefore)).toContain('alarm.transition_conflict');
    expect(h.store.inFlightSessions()).toEqual([]);
    // The expired parcel is still listed for its courier to take back.
    expect(h.locker.collections(h.courier).map((c) => c.parcelId)).toEqual([parcel?.id]);
  });

  it('a sweep that reads a parcel its pickup has just taken writes no parcel.expired', async () => {
    h = await domainLocker();
    const { code } = await h.deposit('SP-RACE-2', 'S');
    const parcel = h.store.liveParcelByWaybill('swiftpost', 'SP-RACE-2');
    if (!parcel?.expiresAt) throw new Error('no parcel');
    await h.settle(h.locker.pickup(code));
    expect(h.store.parcel(parcel.id)?.state).toBe('picked_up');
    // The sweep's read is stale: it still sees the parcel stored.
    const store = h.store;
    const stale = store.dueForExpiry.bind(store);
    store.dueForExpiry = () => [{ ...parcel, state: 'stored' }];
    h.clock.set(parcel.expiresAt + 10);
    expect(h.locker.expireDue()).toBe(0);
    store.dueForExpiry = stale;
    expect(h.store.parcel(parcel.id)?.state).toBe('picked_up');
    expect(h.events('parcel.expired')).toEqual([]);
    expect(h.store.auditActions()).not.toContain('parcel.expired');
  });

  it('a code used 1 s after expires_at, before the sweep ran, is refused as expired and opens no door', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-LATE-1', 'S');
    const parcel = h.store.liveParcelByWaybill('swiftpost', 'SP-LATE-1');
    const expiresAt = parcel?.expiresAt ?? 0;
    h.clock.set(expiresAt + 1_000);
    const sessionsBefore = h.store.doorSessions().length;
    await expect(h.settle(h.locker.pickup(code))).rejects.toMatchObject({ code: ErrorCodes.CODE_EXPIRED });
    expect(h.store.doorSessions()).toHaveLength(sessionsBefore);
    expect(h.world.lock(h.position(compartment)).doorOpen).toBe(false);
    // Refused, and the record caught up: the parcel is expired (one event), no try was taken.
    expect(h.store.parcel(parcel?.id ?? '')?.state).toBe('expired');
    expect(h.events('parcel.expired')).toHaveLength(1);
    expect(h.store.budget('keypad')).toBeUndefined();
  });

  it('a parcel past its expires_at is listed for collection and opens for its courier before the sweep ran', async () => {
    h = await domainLocker();
    const { compartment } = await h.deposit('SP-LATE-2', 'S');
    const parcel = h.store.liveParcelByWaybill('swiftpost', 'SP-LATE-2');
    h.clock.set((parcel?.expiresAt ?? 0) + 1_000);
    expect(h.locker.collections(h.courier).map((c) => c.parcelId)).toEqual([parcel?.id]);
    const opened = await h.settle(h.locker.openCollection(h.courier, parcel?.id ?? ''));
    expect(opened.compartment.id).toBe(compartment);
    expect(h.store.parcel(parcel?.id ?? '')?.state).toBe('retrieved');
    expect(h.events().map((e) => e.type).filter((t) => t.startsWith('parcel.'))).toEqual(['parcel.stored', 'parcel.expired', 'parcel.retrieved']);
  });
});
