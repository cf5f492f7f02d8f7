// The latch of the parcel's door is jammed: the screen says the door did not open and that
// the code is still valid; once the latch works again the same code opens the door.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('pickupDoorDidNotOpen', { overrides: { doors: { openTimeoutMs: 1000, jamRetries: 1 } } });
});
afterAll(async () => {
  await h?.close();
});

it('keeps the code valid when the door does not open', async () => {
  const parcel = await h.storeParcel('SP-JAM-0001', 'M');
  await h.sim(`compartments/${parcel.compartment}/jam`);

  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('busy');
  await h.screenshot('opening');
  await h.waitForScreen('door-failed', 20_000);
  expect(await h.text('h1')).toBe(`Door ${parcel.compartment} did not open.`);
  expect(await h.visibleText()).toContain('Your code is still valid. Nothing has been collected.');
  await h.screenshot('door-did-not-open');
  expect((await h.simLock(parcel.compartment)).doorOpen).toBe(false);

  await h.sim(`compartments/${parcel.compartment}/unjam`);
  await h.tapText('Home');
  await h.waitForScreen('home');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open', 20_000);
  expect(await h.text('.door-badge strong')).toBe(parcel.compartment);
  await h.screenshot('door-open-after-unjam');

  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.screenshot('thank-you');
  const after = (await h.compartments()).find((c) => c.id === parcel.compartment);
  expect(after?.state).toBe('free');
  expect(h.pageErrors).toEqual([]);
});
