// Issue 11, defects 4 and 5: "The door did not open" names the door that failed and shows the
// support number the operator configured; "Home" on an open-door screen asks first, reminding
// to close the door.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('doorFailedNamesDoorAndNumber', {
    overrides: { doors: { openTimeoutMs: 800, jamRetries: 0 }, locker: { id: 'demo-locker-1', name: 'Demo locker (simulator)' }, support: { phone: '+44 20 7946 0000' } },
  });
});
afterAll(async () => {
  await h?.close();
});

it('names the failed door and the support number', async () => {
  const parcel = await h.storeParcel('SP-JAM-0100', 'S');
  await h.sim(`compartments/${parcel.compartment}/jam`);
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-failed', 20_000);
  const text = await h.visibleText();
  expect(text).toContain(`Door ${parcel.compartment} did not open.`);
  expect(text).toContain('+44 20 7946 0000');
  await h.screenshot('door-failed-named');
  await h.sim(`compartments/${parcel.compartment}/unjam`);
  expect(h.pageErrors).toEqual([]);
});

it('asks before leaving an open door with Home', async () => {
  const parcel = await h.storeParcel('SP-HOME-0100', 'S');
  await h.tapText('Home');
  await h.waitForScreen('home');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await h.tap('#home-button');
  // Still the door screen, with a reminder and a choice.
  await h.page.locator('[data-ref="confirm"]', { hasText: `Please close door ${parcel.compartment}` }).waitFor();
  expect(await h.currentScreen()).toBe('door-open');
  await h.screenshot('home-asks-first');
  await h.tapText('Stay here');
  await h.page.locator('[data-ref="confirm"]').waitFor({ state: 'detached' });
  await h.tap('#home-button');
  await h.tapText('Leave anyway');
  await h.waitForScreen('home');
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  expect(h.pageErrors).toEqual([]);
});
