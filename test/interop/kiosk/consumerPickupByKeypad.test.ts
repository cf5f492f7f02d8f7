// A consumer collects a parcel by typing the pickup code on the keypad: the door opens, the
// screen says which door and where, and the closed door ends on the thank-you screen.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('consumerPickupByKeypad');
});
afterAll(async () => {
  await h?.close();
});

it('opens the right door for a typed code and thanks the consumer once it is closed', async () => {
  const parcel = await h.storeParcel('SP-KEYPAD-0001', 'M');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('home');

  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code.slice(0, 3));
  await h.tap('.keypad [data-key="Backspace"]');
  await h.typeOnKeypad(parcel.code.slice(2, 5));
  expect(await h.text('.code-boxes')).toBe(parcel.code.slice(0, 5));
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('keypad');
  // The same screen on a portrait display.
  await h.page.setViewportSize({ width: 800, height: 1280 });
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('keypad-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });

  await h.typeOnKeypad(parcel.code.slice(5));
  await h.waitForScreen('door-open');
  await h.waitForDoor(parcel.compartment, true);
  const [door] = (await h.compartments()).filter((c) => c.id === parcel.compartment);
  expect(await h.text('.door-badge strong')).toBe(parcel.compartment);
  expect(await h.text('h1')).toBe(`Door ${parcel.compartment} is open`);
  expect(await h.text('.where')).toBe(`Column ${door?.column} from the left, row ${door?.row} from the top`);
  expect(await h.visibleText()).toContain('Close the door when you are done.');
  expect(await h.visibleText()).not.toContain(parcel.code);
  await h.screenshot('door-open');

  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  expect(await h.text('h1')).toBe('Thank you!');
  await h.screenshot('thank-you');

  const after = (await h.compartments()).find((c) => c.id === parcel.compartment);
  expect(after?.state).toBe('free');
  await h.tapText('Done');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});
