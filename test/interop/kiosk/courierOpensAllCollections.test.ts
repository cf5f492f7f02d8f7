// Issue 11, flow 7: "open all" for a courier's collection list. One door at a time with the
// cabinet map (the open door highlighted); when it closes the list shrinks and "Next door"
// opens the next, until nothing is left.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('courierOpensAllCollections');
});
afterAll(async () => {
  await h?.close();
});

it('opens every door of the list in turn with the map, the list shrinking', async () => {
  // Two announced parcels with a short pickup time, stored, then past it: due back to the carrier.
  for (const waybill of ['SP-ALL-0001', 'SP-ALL-0002']) await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', dwellHours: 0.01 });
  const a = await h.storeParcel('SP-ALL-0001', 'S');
  const b = await h.storeParcel('SP-ALL-0002', 'S');
  // One hour on: well inside the 12 hours of a demo badge minted on the real clock.
  await h.api('POST', '/sim/clock/advance', { hours: 1 });
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-41'));
  await h.waitForScreen('menu');
  await h.tapText('Collect parcels');
  await h.waitForScreen('collections');
  await h.page.waitForSelector('.list .row');
  expect(await h.page.locator('.list .row').count()).toBe(2);
  await h.tap('[data-ref="openAll"]');

  const doors: string[] = [];
  for (let left = 2; left > 0; left--) {
    const status = h.page.locator('[data-ref="status"]', { hasText: 'is open' });
    await status.waitFor();
    const door = /Door (\w+) is open/.exec((await status.textContent()) ?? '')?.[1];
    if (!door) throw new Error('no open door named');
    doors.push(door);
    // The map shows that door highlighted, and only that one.
    await h.page.locator(`[data-ref="map"] .cell.open[data-compartment="${door}"]`).waitFor();
    expect(await h.page.locator('[data-ref="map"] .cell.open').count()).toBe(1);
    if (left === 2) await h.screenshot('open-all-first-door');
    await h.waitForDoor(door, true);
    // Each parcel taken back is confirmed by its waybill before the next door (flow 7, the scan).
    await h.page.locator('#screen > [data-scan-mode="collect"]').waitFor();
    await h.scan(door === a.compartment ? a.waybill : b.waybill);
    await h.page.locator('[data-ref="status"]', { hasText: 'confirmed by its scan' }).waitFor();
    await h.sim(`compartments/${door}/take`);
    await h.sim(`compartments/${door}/close`);
    // The list shrinks once the door is shut (a locator, not a page function: the kiosk's CSP).
    await h.page.locator('.list .row').nth(left - 1).waitFor({ state: 'detached' });
    expect(await h.page.locator('.list .row').count()).toBe(left - 1);
    if (left > 1) {
      await h.page.locator('[data-ref="next"]:not([hidden])').waitFor();
      await h.screenshot('open-all-next-door');
      await h.tap('[data-ref="next"]');
    }
  }
  expect(doors.sort()).toEqual([a.compartment, b.compartment].sort());
  await h.page.waitForSelector('[data-ref="empty"]:not([hidden])');
  expect(await h.page.locator('[data-ref="next"]').isHidden()).toBe(true);
  expect(h.pageErrors).toEqual([]);
});
