// A consumer holds the QR code from the carrier's message under the scanner: on the pickup
// screen the scan submits the code (a link carrying it), and on the home screen a bare code
// goes straight to the pickup too.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('consumerPickupByScannedQr');
});
afterAll(async () => {
  await h?.close();
});

it('opens the door for a QR code scanned on the pickup screen', async () => {
  const parcel = await h.storeParcel('SP-QR-0001', 'S');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  expect(await h.text('[data-ref="scanHint"]')).toBe('Or hold the QR code from your message under the scanner');
  await h.screenshot('pickup-screen');

  await h.scan(`https://swiftpost.example/locker?code=${parcel.code}`);
  await h.waitForScreen('door-open');
  expect(await h.text('.door-badge strong')).toBe(parcel.compartment);
  await h.screenshot('door-open');

  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.screenshot('thank-you');
});

it('takes a bare scanned code on the home screen as a pickup', async () => {
  const parcel = await h.storeParcel('SP-QR-0002', 'S');
  await h.reload();
  await h.scan(parcel.code);
  await h.waitForScreen('door-open');
  expect(await h.text('.door-badge strong')).toBe(parcel.compartment);
  await h.screenshot('door-open-from-home');
  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  expect(h.pageErrors).toEqual([]);
});
