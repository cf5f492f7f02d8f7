// Issue 11, defect 2: what the server says about a code reaches the person in its own words:
// a pickup code typed at drop-off (with a way to collect instead), a drop-off code typed at
// pickup, a code already used, and an expired code (whose parcel is still in the locker).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness, until } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('codedErrorsHaveTheirOwnWords', { overrides: { codes: { length: 8, burst: 10, refillPerHour: 6 } } });
});
afterAll(async () => {
  await h?.close();
});

async function typeCode(mode: 'collect' | 'send', code: string): Promise<void> {
  await h.tap(`[data-ref="${mode}"]`);
  await h.waitForScreen('code');
  await h.typeOnKeypad(code);
  await h.page.waitForSelector('#screen > [data-screen="wrong-code"], #screen > [data-screen="door-open"], #screen > [data-screen="error"]');
}

it('names a pickup code at drop-off, a drop-off code at pickup, a used code and an expired one', async () => {
  const parcel = await h.storeParcel('SP-ERR-0001', 'S');

  // A pickup code at drop-off: said so, with one tap to the pickup keypad.
  await typeCode('send', parcel.code);
  expect(await h.text('h1')).toBe('This is a pickup code');
  await h.screenshot('pickup-code-at-dropoff');
  await h.tapText('Collect a parcel');
  await h.waitForScreen('code');
  expect(await h.text('h1')).toBe('Enter your pickup code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.tapText('Done');
  await h.waitForScreen('home');

  // The same code again: already collected.
  await typeCode('collect', parcel.code);
  expect(await h.text('h1')).toBe('This parcel has already been collected');
  await h.screenshot('already-collected');
  await h.tapText('Home');
  await h.waitForScreen('home');

  // A drop-off code at pickup.
  const { code: dropoff } = await h.api<{ code?: string }>('POST', '/sim/carriers/swiftpost/reservations', { waybill: 'SP-RET-0009', size: 'S', kind: 'dropoff' });
  await typeCode('collect', dropoff ?? '');
  expect(await h.text('h1')).toBe('This is a drop-off code');
  await h.tapText('Send or return a parcel');
  await h.waitForScreen('code');
  expect(await h.text('h1')).toBe('Enter your drop-off code');
  await h.tapText('Back');
  await h.waitForScreen('home');

  // Expired: the parcel is still here, on its way back to the carrier.
  await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill: 'SP-EXP-0001', size: 'S', dwellHours: 0.001 });
  const late = await h.storeParcel('SP-EXP-0001', 'S');
  const token = await h.courierToken();
  await until(async () => (await h.api<{ items: unknown[] }>('GET', '/api/courier/collections', undefined, token)).items.length > 0, 15_000, 'the parcel to expire');
  await typeCode('collect', late.code);
  expect(await h.text('h1')).toBe('This code has expired');
  const text = await h.visibleText();
  expect(text).toContain('Your parcel is still in the locker');
  expect(text).not.toContain('no longer in this locker');
  await h.screenshot('expired');
  expect(h.pageErrors).toEqual([]);
});
