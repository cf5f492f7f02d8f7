// A courier logs in with a badge and deposits two parcels in a row; the second does not fit
// its door, so the courier asks for a larger one and closes the first door empty.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('courierTwoDepositsOneWrongSize');
});
afterAll(async () => {
  await h?.close();
});

const doorOnScreen = () => h.text('.door-badge strong');

it('stores two parcels, the second after a wrong size', async () => {
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-7', ['deposit', 'collect']));
  await h.waitForScreen('menu');
  expect(await h.text('h1')).toBe('Courier: swiftpost');
  await h.screenshot('courier-menu');

  // First parcel: waybill typed on the on-screen keyboard.
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');
  await h.typeOnKeyboard('SP-0001');
  expect(await h.text('[data-ref="value"]')).toBe('SP-0001');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.page.setViewportSize({ width: 800, height: 1280 });
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.page.setViewportSize({ width: 1280, height: 800 });
  await h.screenshot('waybill-typed');
  await h.tapText('Next');
  await h.waitForScreen('size');
  expect(await h.smallTouchTargets()).toEqual([]);
  // Each size says how many are free (issue 11, flow 7).
  const freeS = (await h.compartments()).filter((c) => c.size === 'S' && c.state === 'free').length;
  await h.page.locator('[data-size="S"] .size-free', { hasText: `${freeS} free` }).waitFor();
  await h.screenshot('size-choice');
  await h.tap('[data-size="S"]');
  await h.waitForScreen('deposit-door');
  const first = await doorOnScreen();
  expect(await h.visibleText()).toContain('Put parcel SP-0001 in.');
  await h.screenshot('first-door-open');
  await h.waitForDoor(first, true);
  await h.sim(`compartments/${first}/put`);
  await h.sim(`compartments/${first}/close`);
  await h.waitForScreen('stored');
  expect(await h.visibleText()).toContain(`Parcel SP-0001 is in door ${first}.`);
  await h.screenshot('first-stored');

  // Second parcel: waybill scanned; it does not fit the small door.
  await h.tapText('Next parcel');
  await h.waitForScreen('waybill');
  expect(await h.text('[data-ref="count"]')).toBe('Parcels stored: 1');
  await h.scan('SP-0002');
  await h.waitForScreen('size');
  await h.tap('[data-size="S"]');
  await h.waitForScreen('deposit-door');
  const small = await doorOnScreen();
  expect(small).not.toBe(first);
  await h.waitForDoor(small, true);
  await h.screenshot('second-door-open');

  await h.tapText('Does not fit');
  await h.waitForScreen('size');
  expect(await h.text('h1')).toBe('Choose a larger compartment');
  expect(await h.attributes('[data-size]', 'data-size')).toEqual(['M', 'L', 'XL']);
  await h.screenshot('larger-size');
  await h.tap('[data-size="M"]');
  await h.waitForScreen('deposit-door');
  const larger = await doorOnScreen();
  expect(larger).not.toBe(small);
  expect(await h.visibleText()).toContain(`Close door ${small} empty.`);
  expect(await h.text('.where')).toMatch(/^Size M, /);
  await h.screenshot('larger-door-open');

  await h.waitForDoor(larger, true);
  await h.sim(`compartments/${small}/close`);
  await h.sim(`compartments/${larger}/put`);
  await h.sim(`compartments/${larger}/close`);
  await h.waitForScreen('stored');
  expect(await h.visibleText()).toContain(`Parcel SP-0002 is in door ${larger}.`);
  await h.screenshot('second-stored');

  const byId = new Map((await h.compartments()).map((c) => [c.id, c]));
  expect(byId.get(first)?.state).toBe('occupied');
  expect(byId.get(larger)?.state).toBe('occupied');
  expect(byId.get(small)?.state).toBe('free');

  await h.tapText('Finish');
  await h.waitForScreen('menu');
  await h.tapText('Log out');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});
