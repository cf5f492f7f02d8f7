// Issue 11, flow 5: a consumer extends the pickup time at the kiosk with the code, where the
// carrier allows it (carriers[].pickupExtension: up to maxHours, `times` per parcel). The
// carrier gets parcel.pickup_extended; the parcel then expires at the new time, not the old one.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

const HOUR = 3_600_000;

async function lockerWithRule(rule: { maxHours: number; times: number } | undefined): Promise<DomainLocker> {
  const d = await domainLocker();
  const carrier = d.store.carriers()[0];
  if (!carrier) throw new Error('no carrier');
  const { pickupExtension: _old, ...rest } = carrier;
  d.store.upsertCarrier(rule ? { ...rest, pickupExtension: rule } : rest, d.clock.now());
  return d;
}

describe('extending the pickup time with the code', () => {
  it('moves expires_at by the hours asked, once, records the carrier event, and the parcel expires at the new time', async () => {
    dl = await lockerWithRule({ maxHours: 24, times: 1 });
    const { code, compartment } = await dl.deposit('SP-EXT-1');
    const before = dl.store.liveParcelByWaybill('swiftpost', 'SP-EXT-1');
    const oldExpiry = before?.expiresAt ?? 0;
    expect(oldExpiry).toBe((before?.storedAt ?? 0) + HOUR); // the fixture's dwell is 1 h

    const r = dl.locker.extendPickup(code, 12);
    expect(r).toEqual({ expiresAt: oldExpiry + 12 * HOUR, hours: 12, extensionsLeft: 0 });
    expect(dl.store.liveParcelByWaybill('swiftpost', 'SP-EXT-1')?.expiresAt).toBe(oldExpiry + 12 * HOUR);
    const [ev] = dl.events('parcel.pickup_extended');
    expect(ev?.carrier).toBe('swiftpost');
    expect(ev?.data).toEqual({ parcelId: before?.id, waybill: 'SP-EXT-1', compartment, hours: 12, previousExpiresAt: oldExpiry, expiresAt: oldExpiry + 12 * HOUR, times: 1 });
    // No code in the event, the audit row or anywhere in the outbox.
    expect(JSON.stringify(dl.events())).not.toContain(code);

    // Once only.
    expect(() => dl?.locker.extendPickup(code, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.EXTENSION_NOT_ALLOWED, context: expect.objectContaining({ reason: 'used' }) }));

    // Past the old expiry the code still opens; the sweep leaves it alone until the new one.
    dl.clock.set(oldExpiry + HOUR);
    expect(dl.locker.expireDue()).toBe(0);
    dl.clock.set(oldExpiry + 12 * HOUR);
    expect(dl.locker.expireDue()).toBe(1);
  });

  it('asks for the most the carrier allows when no hours are given, and refuses more', async () => {
    dl = await lockerWithRule({ maxHours: 48, times: 2 });
    const { code } = await dl.deposit('SP-EXT-2');
    expect(() => dl?.locker.extendPickup(code, 49)).toThrow(expect.objectContaining({ code: ErrorCodes.INPUT_INVALID, context: { maxHours: 48 } }));
    expect(dl.locker.extendPickup(code)).toMatchObject({ hours: 48, extensionsLeft: 1 });
    expect(dl.locker.extendPickup(code, 1)).toMatchObject({ hours: 1, extensionsLeft: 0 });
    expect(dl.events('parcel.pickup_extended').map((e) => e.data['times'])).toEqual([1, 2]);
  });

  it('is refused where the carrier offers none, for an expired parcel, and a wrong code takes a keypad try', async () => {
    dl = await lockerWithRule(undefined);
    const { code } = await dl.deposit('SP-EXT-3');
    expect(() => dl?.locker.extendPickup(code, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.EXTENSION_NOT_ALLOWED, context: { reason: 'not_offered' } }));
    const left = dl.locker.lockout().failuresLeft;
    expect(() => dl?.locker.extendPickup('0000000000', 1)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_UNKNOWN }));
    expect(dl.locker.lockout().failuresLeft).toBe(left - 1);
    dl.clock.set(dl.clock.now() + 2 * HOUR);
    expect(() => dl?.locker.extendPickup(code, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_EXPIRED }));
    expect(dl.events('parcel.pickup_extended')).toEqual([]);
  });
});
