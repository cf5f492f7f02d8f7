// Issue 11, flows 2 and 5 together: the code a carrier's group shares extends the pickup time of
// every member still stored, all or nothing, under the carrier's rule (carriers[].pickupExtension),
// with one parcel.pickup_extended per parcel naming the group. A member already collected is
// done; a member past its time goes back to the carrier first; if one member's extensions are
// used up, none is changed. No try is taken from the keypad budget by the group's code.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { PickupExtensionStore } from '../../../src/store/pickupExtensions.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

const HOUR = 3_600_000;
const carrier = { kind: 'carrier', id: 'swiftpost' } as const;

async function store(d: DomainLocker, waybill: string): Promise<{ compartment: string; code?: string }> {
  const started = await d.settle(d.locker.startDeposit(d.courier, { waybill, size: 'S' }));
  const compartment = started.compartment.id;
  d.put(compartment);
  d.close(compartment);
  const view = await d.until('stored', () => {
    const v = d.locker.depositView(d.courier, started.id);
    return v.state === 'stored' ? v : undefined;
  });
  return { compartment, ...(view.pickupCode ? { code: view.pickupCode } : {}) };
}

/** Three grouped deliveries, stored a minute apart, with the carrier's rule in force. */
async function groupOfThree(rule: { maxHours: number; times: number } | undefined): Promise<{ d: DomainLocker; code: string; waybills: string[] }> {
  const d = await domainLocker({ sizes: ['S', 'S', 'S', 'S'] });
  const c = d.store.carriers()[0];
  if (!c) throw new Error('no carrier');
  const { pickupExtension: _old, ...rest } = c;
  d.store.upsertCarrier(rule ? { ...rest, pickupExtension: rule } : rest, d.clock.now());
  const waybills = ['GX-1', 'GX-2', 'GX-3'];
  for (const w of waybills) d.locker.announce('swiftpost', { waybill: w, size: 'S', kind: 'delivery', group: 'rcpt-7' }, carrier);
  let code = '';
  for (const w of waybills) {
    const s = await store(d, w);
    code ||= s.code ?? '';
    d.clock.set(d.clock.now() + 60_000);
  }
  if (!code) throw new Error('the group got no code');
  return { d, code, waybills };
}

const expiry = (d: DomainLocker, w: string): number | null | undefined => d.store.liveParcelByWaybill('swiftpost', w)?.expiresAt;

describe("a group's code extends every member", () => {
  it('moves every stored member by the same hours, one event per parcel with the group, and no try is taken', async () => {
    const g = await groupOfThree({ maxHours: 24, times: 1 });
    dl = g.d;
    const before = g.waybills.map((w) => expiry(dl as DomainLocker, w) ?? 0);
    const left = dl.locker.lockout().failuresLeft;

    const r = dl.locker.extendPickup(g.code, 12);
    expect(r).toEqual({ expiresAt: Math.min(...before) + 12 * HOUR, hours: 12, extensionsLeft: 0, parcels: 3 });
    expect(g.waybills.map((w) => expiry(dl as DomainLocker, w))).toEqual(before.map((b) => b + 12 * HOUR));
    const events = dl.events('parcel.pickup_extended');
    expect(events.map((e) => [e.carrier, e.data.waybill, e.data.group, e.data.hours, e.data.times, e.data.expiresAt])).toEqual(
      g.waybills.map((w, i) => ['swiftpost', w, 'rcpt-7', 12, 1, (before[i] ?? 0) + 12 * HOUR]),
    );
    expect(JSON.stringify(dl.events())).not.toContain(g.code);
    expect(dl.locker.lockout().failuresLeft).toBe(left);

    // Once: the second time every member is used up, and nothing changes.
    expect(() => dl?.locker.extendPickup(g.code, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.EXTENSION_NOT_ALLOWED, context: expect.objectContaining({ reason: 'used', grouped: true, parcels: 3, used: 3 }) }));
    expect(dl.events('parcel.pickup_extended')).toHaveLength(3);
  });

  it('is all or nothing: one member already extended on its own means none is changed', async () => {
    const g = await groupOfThree({ maxHours: 48, times: 1 });
    dl = g.d;
    const second = dl.store.liveParcelByWaybill('swiftpost', 'GX-2');
    if (!second?.expiresAt) throw new Error('GX-2 not stored');
    // GX-2 was extended with its own pickup QR token before (the same table the kiosk writes).
    const own = second.expiresAt;
    const extensions = new PickupExtensionStore(dl.store.db);
    const now = dl.clock.now();
    dl.store.transaction(() => extensions.extend(second.id, own, own + HOUR, 1, now));
    const before = g.waybills.map((w) => expiry(dl as DomainLocker, w));
    expect(() => dl?.locker.extendPickup(g.code)).toThrow(expect.objectContaining({ code: ErrorCodes.EXTENSION_NOT_ALLOWED, context: { reason: 'used', grouped: true, parcels: 3, used: 1 } }));
    expect(g.waybills.map((w) => expiry(dl as DomainLocker, w))).toEqual(before);
    expect(dl.events('parcel.pickup_extended')).toEqual([]);
  });

  it('leaves collected members alone, sends an expired one back first, and extends the rest', async () => {
    const g = await groupOfThree({ maxHours: 24, times: 2 });
    dl = g.d;
    // The first door is collected with the group's code.
    const opened = await dl.settle(dl.locker.pickup(g.code));
    dl.take(opened.compartment.id);
    dl.close(opened.compartment.id);
    await dl.until('door closed', () => dl?.doors.door(opened.compartment.id).open === false);
    // GX-2's time runs out (the fixture's dwell is 1 h; GX-3 was stored a minute later).
    const gx2 = expiry(dl, 'GX-2') ?? 0;
    dl.clock.set(gx2);
    const r = dl.locker.extendPickup(g.code, 5);
    expect(r).toMatchObject({ hours: 5, parcels: 1, extensionsLeft: 1 });
    expect(dl.events('parcel.expired').map((e) => e.data.waybill)).toEqual(['GX-2']);
    expect(dl.events('parcel.pickup_extended').map((e) => e.data.waybill)).toEqual(['GX-3']);
    // With nothing stored any more, the code has expired.
    dl.clock.set(r.expiresAt);
    expect(() => dl?.locker.extendPickup(g.code, 1)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_EXPIRED }));
  });

  it('is refused where the carrier offers none, and asks no more than the rule allows', async () => {
    const none = await groupOfThree(undefined);
    dl = none.d;
    expect(() => dl?.locker.extendPickup(none.code)).toThrow(expect.objectContaining({ code: ErrorCodes.EXTENSION_NOT_ALLOWED, context: { reason: 'not_offered', grouped: true } }));
    await dl.stop();
    const g = await groupOfThree({ maxHours: 10, times: 1 });
    dl = g.d;
    expect(() => dl?.locker.extendPickup(g.code, 11)).toThrow(expect.objectContaining({ code: ErrorCodes.INPUT_INVALID, context: { maxHours: 10 } }));
    expect(dl.locker.extendPickup(g.code)).toMatchObject({ hours: 10, parcels: 3 });
  });
});
