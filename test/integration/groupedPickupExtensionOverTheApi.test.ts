// Issue 11, flows 2 and 5 over the kiosk API of the running lockerd (simulator): POST
// /api/pickup/extend with a group's shared code extends every member still stored, or refuses
// with a coded error and changes nothing: the carrier offers no extension (409
// EXTENSION_NOT_ALLOWED, reason not_offered), more hours than its rule (400 INPUT_INVALID), the
// second time (409, reason used). The door never opens; the group's code takes no keypad try.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';

let h: LockerHarness;
beforeAll(async () => {
  h = await LockerHarness.start();
});
afterAll(async () => {
  await h?.cleanup();
});

interface ApiError {
  error: { code: string; context?: Record<string, unknown> };
}

/** Announces the waybills as one group of `carrier`, a courier stores each; returns the group's code and the doors. */
async function storeGroup(carrier: string, courier: string, group: string, waybills: string[]): Promise<{ code: string; doors: string[] }> {
  for (const waybill of waybills) await h.api('POST', `/sim/carriers/${carrier}/reservations`, { waybill, size: 'S', group });
  const token = await h.courierLogin(carrier, courier);
  const doors: string[] = [];
  let code = '';
  for (const waybill of waybills) {
    const started = await h.startDeposit(token, waybill, 'S');
    const compartment = started.body.deposit.compartment.id;
    h.put(compartment);
    h.close(compartment);
    await h.waitForDeposit(token, started.body.deposit.id, 'stored');
    if (!code) code = await waitFor('the group code', async () => (await h.depositView(token, started.body.deposit.id)).pickupCode, 5_000);
    doors.push(compartment);
  }
  return { code, doors };
}

const expiries = (carrier: string, waybills: string[]): (number | null | undefined)[] => waybills.map((w) => h.running.store.liveParcelByWaybill(carrier, w)?.expiresAt);

describe('POST /api/pickup/extend with a group code', () => {
  it('extends both members once by the carrier allowance, then refuses the second time', async () => {
    const waybills = ['SP-GEXT-1', 'SP-GEXT-2'];
    const g = await storeGroup('swiftpost', 'c-ext', 'rcpt-ext', waybills);
    const before = expiries('swiftpost', waybills);
    const left = h.running.locker.lockout().failuresLeft;

    const tooMany = await h.api<ApiError>('POST', '/api/pickup/extend', { code: g.code, hours: 49 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toMatchObject({ code: 'INPUT_INVALID', context: { maxHours: 48 } });
    expect(expiries('swiftpost', waybills)).toEqual(before);

    const ok = await h.api<{ hours: number; parcels: number; expiresAt: number; extensionsLeft: number }>('POST', '/api/pickup/extend', { code: g.code });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ hours: 48, parcels: 2, extensionsLeft: 0 });
    expect(expiries('swiftpost', waybills)).toEqual(before.map((b) => (b ?? 0) + 48 * 3_600_000));
    expect(h.read.events('parcel.pickup_extended').filter((e) => e.data.group === 'rcpt-ext').map((e) => e.data.waybill)).toEqual(waybills);

    const again = await h.api<ApiError>('POST', '/api/pickup/extend', { code: g.code });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'EXTENSION_NOT_ALLOWED', context: { reason: 'used', grouped: true, parcels: 2, used: 2 } });
    expect(JSON.stringify(again.body)).not.toContain(g.code);

    // No door opened, no keypad try was taken.
    for (const d of g.doors) expect(h.simLock(d).doorOpen).toBe(false);
    expect(h.running.locker.lockout().failuresLeft).toBe(left);
  });

  it("is refused where the group's carrier offers no extension, and nothing changes", async () => {
    const waybills = ['PG-GEXT-1', 'PG-GEXT-2'];
    const g = await storeGroup('parcelgo', 'c-pg', 'rcpt-pg', waybills);
    const before = expiries('parcelgo', waybills);
    const r = await h.api<ApiError>('POST', '/api/pickup/extend', { code: g.code, hours: 1 });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'EXTENSION_NOT_ALLOWED', context: { reason: 'not_offered', grouped: true } });
    expect(expiries('parcelgo', waybills)).toEqual(before);
    expect(h.read.events('parcel.pickup_extended').filter((e) => e.data.group === 'rcpt-pg')).toEqual([]);
  });
});
