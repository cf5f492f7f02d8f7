// A consumer hands in a return with the drop-off code the carrier sent; the courier of that
// carrier then finds it in the collection list and takes it out, one door at a time.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('dropOffThenCourierCollects');
});
afterAll(async () => {
  await h?.close();
});

it('takes a drop-off and lets the courier collect it', async () => {
  const { code } = await h.api<{ code?: string }>('POST', '/sim/carriers/swiftpost/reservations', { waybill: 'SP-RET-0001', size: 'M', kind: 'dropoff' });
  expect(code).toMatch(/^\d+$/);

  await h.tap('[data-ref="send"]');
  await h.waitForScreen('code');
  expect(await h.text('h1')).toBe('Enter your drop-off code');
  await h.typeOnKeypad(code ?? '');
  await h.waitForScreen('door-open');
  const door = await h.text('.door-badge strong');
  expect(await h.visibleText()).toContain('Put your parcel inside.');
  expect(await h.visibleText()).not.toContain('SP-RET-0001');
  await h.screenshot('drop-off-door');
  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/put`);
  await h.sim(`compartments/${door}/close`);
  await h.waitForScreen('thanks');
  expect(await h.visibleText()).toContain('The door is closed. Your parcel has been handed in.');
  await h.screenshot('drop-off-confirmed');
  await h.tapText('Done');

  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-12'));
  await h.waitForScreen('menu');
  await h.tapText('Collect parcels');
  await h.waitForScreen('collections');
  await h.page.waitForSelector('.list .row');
  expect(await h.text('.list .row .waybill')).toBe('SP-RET-0001');
  expect(await h.text('.list .row .tag')).toBe('Drop-off');
  await h.screenshot('collection-list');

  await h.tapText(`Open door ${door}`);
  await h.page.locator('[data-ref="status"]', { hasText: door }).waitFor();
  expect(await h.page.locator('.list .row button').isDisabled()).toBe(true);
  await h.screenshot('collecting');
  await h.waitForDoor(door, true);
  // The parcel taken out is confirmed by its waybill (issue 11, flow 7).
  await h.page.locator('#screen > [data-scan-mode="collect"]').waitFor();
  await h.scan('SP-RET-0001');
  await h.page.locator('[data-ref="status"]', { hasText: 'confirmed by its scan' }).waitFor();
  await h.sim(`compartments/${door}/take`);
  await h.sim(`compartments/${door}/close`);
  await h.page.waitForSelector('[data-ref="empty"]:not([hidden])');
  expect(await h.page.locator('.list .row').count()).toBe(0);
  await h.screenshot('nothing-left');
  expect((await h.compartments()).find((c) => c.id === door)?.state).toBe('free');
  expect(h.pageErrors).toEqual([]);
});
