// Issue 11, flow 9 in real Chromium: the simulator panel as a demo tool. Cards in cabinet order
// (columns, then rows, from the layout), each with lockerd's own view beside the world's; the
// carriers as a list; waybills in the events; a demo code clicked is scanned at the kiosk, which
// opens the door; the clock control moves time on so a parcel expires. The screenshot
// (test-results/screenshots/simPanelDemo/sim-panel.png) is the one in docs/img/sim-panel.png.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Page } from 'playwright-core';
import { packageRoot } from '../../../src/packageRoot.js';
import { KioskHarness, until } from '../../support/kioskHarness.js';

let h: KioskHarness;
let panel: Page;
const errors: string[] = [];
beforeAll(async () => {
  h = await KioskHarness.start('simPanelDemo');
  panel = await h.openSimPanel(errors);
});
afterAll(async () => {
  await h?.close();
});

const cardText = (id: string) => panel.locator(`[data-compartment="${id}"]`).innerText();

it('shows the locker in cabinet order, sends a demo code to the kiosk and moves time on', async () => {

  // Cabinet order: column by column, top to bottom, as the layout places them.
  const layout = (await h.compartments()).sort((a, b) => a.column - b.column || a.row - b.row).map((c) => c.id);
  await until(async () => (await panel.locator('[data-compartment]').count()) === layout.length, 10_000, `every card ${errors.join(' ')}`);
  expect(await panel.locator('[data-compartment]').evaluateAll((els) => els.map((e) => e.getAttribute('data-compartment')))).toEqual(layout);
  const columns = new Set((await h.compartments()).map((c) => c.column)).size;
  expect(await panel.locator('.cabinet-column').count()).toBe(columns);

  // Carriers as a list, and the announce form picks from it.
  const carriers = await panel.locator('#carriers li').allInnerTexts();
  expect(carriers.some((c) => c.includes('SwiftPost'))).toBe(true);
  expect(await panel.locator('#reserve select[name=carrier] option').count()).toBe(carriers.length);

  // Two parcels stored; lockerd's view beside the world's, waybills in the events.
  const first = await h.storeParcel('SP-PANEL-1');
  const second = await h.storeParcel('SP-PANEL-2');
  await until(async () => (await cardText(first.compartment)).includes('occupied'), 10_000, 'lockerd view of the first door');
  const card = await cardText(first.compartment);
  expect(card).toContain('lockerd');
  expect(card).toContain('SP-PANEL-1');
  expect(card).toContain('world');
  expect(card).toContain('parcel');
  await until(async () => (await panel.locator('#events').innerText()).includes('SP-PANEL-2'), 10_000, 'the waybill in the events');

  // A demo code clicked: scanned at the kiosk, whose home screen reads it as a pickup.
  await panel.locator(`#codes [data-code="${first.code}"]`).click();
  await h.waitForScreen('door-open');
  expect(await h.text('.door-badge strong')).toBe(first.compartment);
  await h.waitForDoor(first.compartment, true);
  await h.sim(`compartments/${first.compartment}/take`);
  await h.sim(`compartments/${first.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.tapText('Done');
  await h.waitForScreen('home');
  await until(async () => (await cardText(first.compartment)).includes('free'), 10_000, 'the first door free again');

  // The clock control: past the dwell time the second parcel is expired, due back to the carrier.
  await panel.fill('#clock-hours', '100');
  await panel.click('#clock-advance');
  await until(async () => (await cardText(second.compartment)).includes('expired'), 10_000, 'the second parcel expired');
  expect(await panel.locator('#clock').innerText()).toContain('+100 h');
  await until(async () => (await panel.locator('#events').innerText()).includes('clock'), 10_000, 'the clock step in the events');

  await panel.screenshot({ path: join(packageRoot(), 'test-results', 'screenshots', 'simPanelDemo', 'sim-panel.png'), fullPage: true });
  expect(errors).toEqual([]);
  expect(h.pageErrors).toEqual([]);
});
