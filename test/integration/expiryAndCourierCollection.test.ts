// A parcel nobody collected within its dwell time: its code stops working (not counted as a
// wrong code), it is listed for collection to couriers of its own carrier only, and the
// courier's collection opens the door and records parcel.retrieved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decryptCodeJwe } from '../../src/crypto/codeJwe.js';
import { errorCode, LockerHarness, seqGaps, type CompartmentJson } from '../support/lockerHarness.js';
import { OffsetClock } from '../support/offsetClock.js';

interface Collections {
  items: { parcelId: string; kind: string; waybill: string; compartment: CompartmentJson }[];
}

describe('expiry and courier collection', () => {
  let h: LockerHarness;
  let clock: OffsetClock;
  beforeEach(async () => {
    clock = new OffsetClock();
    h = await LockerHarness.start({ clock });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('an expired parcel refuses its code and goes back with a courier of its carrier', async () => {
    // ParcelGo requires a reservation: its back end announces the parcel with a tiny dwell (3.6 s).
    const announced = await h.announce('parcelgo', { waybill: 'PG-EXP-1', size: 'S', kind: 'parcel', dwellHours: 0.001 });
    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');
    const { code, compartment, deposit } = await h.deposit(pg, 'PG-EXP-1', 'S');
    expect(compartment).toBe('A1');
    expect(h.read.parcel(announced.parcelId)).toMatchObject({ state: 'stored', compartment_id: 'A1' });
    const expiresAt = deposit.expiresAt ?? 0;
    expect(expiresAt - clock.now()).toBeLessThanOrEqual(3_600);

    // Before the dwell ends nothing expires.
    expect(h.running.locker.expireDue()).toBe(0);
    // The exact bound is tested on the manual clock (test/unit/domain/doorTiming.test.ts); here the
    // clock jumps past it instead of waiting.
    clock.jump(Math.max(0, expiresAt - clock.now()) + 50);
    expect(h.running.locker.expireDue()).toBe(1);
    expect(h.read.parcel(announced.parcelId)?.state).toBe('expired');

    // The code is refused with 410 and does not count as a failure.
    const refused = await h.pickup(code);
    expect(refused.status).toBe(410);
    expect(errorCode(refused)).toBe('CODE_EXPIRED');
    expect((await h.api<{ failuresLeft: number; lockedOut: boolean }>('GET', '/api/lockout')).body).toMatchObject({ lockedOut: false, failuresLeft: 10 });
    // So is the parcel's pickup QR token.
    const stored = h.read.events('parcel.stored').find((e) => e.data.waybill === 'PG-EXP-1');
    const carrierKey = h.demo.keys.carriers.parcelgo?.encryption;
    if (!carrierKey) throw new Error('no demo key for parcelgo');
    const { pickupToken } = await decryptCodeJwe(stored?.data.codeJwe, carrierKey);
    const byToken = await h.pickup(pickupToken ?? '');
    expect(byToken.status).toBe(410);
    expect(errorCode(byToken)).toBe('CODE_EXPIRED');
    expect(h.read.keypadBudget()?.tokens ?? 10).toBe(10);
    expect(h.simLock('A1').doorOpen).toBe(false);

    // Another carrier's courier sees nothing and cannot open it.
    const sp = await h.courierLogin('swiftpost', 'sp-courier-1');
    const spList = await h.api<Collections>('GET', '/api/courier/collections', undefined, sp);
    expect(spList.status).toBe(200);
    expect(spList.body.items).toEqual([]);
    const spOpen = await h.api('POST', `/api/courier/collections/${announced.parcelId}/open`, {}, sp);
    expect(spOpen.status).toBe(404);
    expect(errorCode(spOpen)).toBe('NOT_FOUND');
    expect(h.simLock('A1').doorOpen).toBe(false);

    // A courier of the right carrier without the collect permission may not either.
    const depositOnly = await h.courierLogin('parcelgo', 'pg-courier-2', ['deposit']);
    const forbidden = await h.api('GET', '/api/courier/collections', undefined, depositOnly);
    expect(forbidden.status).toBe(403);
    expect(errorCode(forbidden)).toBe('NOT_PERMITTED');

    const pgList = await h.api<Collections>('GET', '/api/courier/collections', undefined, pg);
    expect(pgList.body.items).toHaveLength(1);
    expect(pgList.body.items[0]).toMatchObject({ parcelId: announced.parcelId, kind: 'expired', waybill: 'PG-EXP-1', compartment: { id: 'A1', state: 'occupied' } });

    const opened = await h.api<{ sessionId: string; compartment: CompartmentJson }>('POST', `/api/courier/collections/${announced.parcelId}/open`, {}, pg);
    expect(opened.status).toBe(200);
    expect(opened.body.compartment.id).toBe('A1');
    expect(h.simLock('A1').doorOpen).toBe(true);
    expect(h.read.parcel(announced.parcelId)?.state).toBe('retrieved');
    h.take('A1');
    h.close('A1');
    await h.waitForDoor('A1', 'closed');

    const events = h.read.outbox('c/parcelgo');
    expect(events.map((e) => e.type)).toEqual(['parcel.announced', 'parcel.stored', 'parcel.expired', 'parcel.retrieved']);
    expect(events[3]?.data).toMatchObject({ parcelId: announced.parcelId, waybill: 'PG-EXP-1', compartment: 'A1', courier: 'pg-courier-1' });
    expect(h.read.outbox('c/swiftpost')).toEqual([]);
    expect(seqGaps(h.read.outbox())).toEqual([]);

    expect((await h.api<Collections>('GET', '/api/courier/collections', undefined, pg)).body.items).toEqual([]);
    const op = await h.operatorLogin();
    expect(await h.operatorCompartment(op, 'A1')).toMatchObject({ state: 'free', door: 'closed' });
    // The spent code stays refused.
    expect(errorCode(await h.pickup(code))).toBe('CODE_UNKNOWN');
  });

  it('a parcel still within its dwell time is not listed and its code works', async () => {
    await h.announce('parcelgo', { waybill: 'PG-EXP-2', size: 'M', kind: 'parcel' });
    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');
    const { code, deposit } = await h.deposit(pg, 'PG-EXP-2', 'M');
    expect((deposit.expiresAt ?? 0) - Date.now()).toBeGreaterThan(47 * 3_600_000);
    expect(h.running.locker.expireDue()).toBe(0);
    expect((await h.api<Collections>('GET', '/api/courier/collections', undefined, pg)).body.items).toEqual([]);
    const r = await h.pickup(code);
    expect(r.status).toBe(200);
  });
});
