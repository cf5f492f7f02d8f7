// Issue 11, flow 8: touching a compartment in service mode shows what is in it (parcel state,
// carrier by name, since when) and its last door events, newest first, in words.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('compartmentDetailsInServiceMode');
});
afterAll(async () => {
  await h?.close();
});

it('shows the parcel, its carrier, since when and the last door events', async () => {
  const parcel = await h.storeParcel('SP-DET-0001', 'M');
  await h.scan(await h.demo.mintOperatorBadge('ops-2'));
  await h.waitForScreen('operator');
  await h.tap(`.tile[data-compartment="${parcel.compartment}"]`);
  const details = h.page.locator('[data-ref="details"]');
  await details.locator('.parcel-line').waitFor();
  const text = (await details.textContent()) ?? '';
  expect(text).toContain('Stored');
  expect(text).toContain('SwiftPost');
  expect(text).toMatch(/since \d{1,2}:\d\d/);
  expect(text).not.toContain('SP-DET-0001');
  expect(text).not.toContain(parcel.code);
  expect(await details.locator('.door-event').first().textContent()).toContain('Courier deposit');
  await h.screenshot('compartment-details');
  expect(h.pageErrors).toEqual([]);
});
