// A courier changes their mind about one parcel (cancel: take it out, close the door), and
// shuts another door before the parcel is in: the item sensors see it empty, the screen offers
// to reopen it, and the parcel is stored after the second close.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoHardwareWithItemSensors } from '../../support/demoLocker.js';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('courierCancelsThenReopens', { overrides: { hardware: demoHardwareWithItemSensors() } });
});
afterAll(async () => {
  await h?.close();
});

it('cancels one deposit and reopens a door closed empty', async () => {
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-5'));
  await h.waitForScreen('menu');
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');

  await h.scan('SP-CANCEL-1');
  await h.waitForScreen('size');
  await h.tap('[data-size="M"]');
  await h.waitForScreen('deposit-door');
  const cancelled = await h.text('.door-badge strong');
  await h.waitForDoor(cancelled, true);
  await h.sim(`compartments/${cancelled}/put`);
  await h.tapText('Cancel this parcel');
  await h.page.locator('[data-ref="step"]', { hasText: /^Take parcel SP-CANCEL-1 out\.$/ }).waitFor();
  await h.screenshot('cancelling');
  await h.sim(`compartments/${cancelled}/take`);
  await h.sim(`compartments/${cancelled}/close`);
  await h.waitForScreen('waybill');
  expect(await h.text('[data-ref="message"]')).toBe('Parcel SP-CANCEL-1 was not deposited.');
  await h.screenshot('cancelled');

  await h.scan('SP-KEEP-1');
  await h.waitForScreen('size');
  await h.tap('[data-size="M"]');
  await h.waitForScreen('deposit-door');
  const kept = await h.text('.door-badge strong');
  await h.waitForDoor(kept, true);
  await h.sim(`compartments/${kept}/close`);
  await h.page.getByRole('button', { name: 'Reopen the door', exact: true }).waitFor();
  await h.screenshot('closed-empty');
  await h.tapText('Reopen the door');
  await h.page.getByRole('button', { name: 'Reopen the door', exact: true }).waitFor({ state: 'detached' });
  await h.waitForDoor(kept, true);
  expect(await h.text('.door-badge strong')).toBe(kept);
  await h.screenshot('reopened');
  await h.sim(`compartments/${kept}/put`);
  await h.sim(`compartments/${kept}/close`);
  await h.waitForScreen('stored');
  expect(await h.visibleText()).toContain(`Parcel SP-KEEP-1 is in door ${kept}.`);

  // The cancelled parcel left nothing behind: the only occupied compartment is the kept one
  // (often the very door the cancelled parcel had, freed again).
  expect((await h.compartments()).filter((c) => c.state === 'occupied').map((c) => c.id)).toEqual([kept]);
  expect(cancelled).toMatch(/^[A-D]\d$/);
  expect(h.pageErrors).toEqual([]);
});
