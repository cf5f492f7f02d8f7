// Issue 11, flow 7: a scan to confirm each parcel a courier takes back. Once the door of a
// collection opens, the kiosk asks for the parcel's waybill (scanned, or typed on the keyboard);
// lockerd checks it against the parcel of that door. A wrong one is refused in words with the
// tries left, and the door stays the courier's to close; "Could not scan" takes a reason. The
// carrier's event says how each parcel was confirmed. English, then Chinese.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';
import { StoreReader } from '../../support/storeReader.js';

let h: KioskHarness;
let read: StoreReader;
const parcels: Record<string, { compartment: string }> = {};
/** Taps on the screen (a scan is no tap), for the taps table in docs/kiosk.md. */
let taps = 0;
const tap = async (selector: string): Promise<void> => {
  taps += 1;
  await h.tap(selector);
};
const tapText = async (text: string): Promise<void> => {
  taps += 1;
  await h.tapText(text);
};

beforeAll(async () => {
  h = await KioskHarness.start('courierConfirmsEachCollection');
  read = new StoreReader(h.lockerd.db);
  // Three parcels with a short pickup time, stored, then past it: due back to the carrier.
  for (const waybill of ['SP-CONF-0001', 'SP-CONF-0002', 'SP-CONF-0003']) {
    await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', dwellHours: 0.01 });
    parcels[waybill] = await h.storeParcel(waybill, 'S');
  }
  await h.api('POST', '/sim/clock/advance', { hours: 1 });
});
afterAll(async () => {
  await h?.close();
});

async function toCollections(): Promise<void> {
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-77'));
  await h.waitForScreen('menu');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('collections');
  await h.page.waitForSelector('.list .row');
}

/** Opens the door of one waybill's row; resolves when the confirmation is asked for and lockerd reads scans for it. */
async function openFor(waybill: string): Promise<string> {
  const door = parcels[waybill]?.compartment ?? '';
  await tap(`.list .row:has-text("${waybill}") button`);
  await h.page.locator('[data-ref="confirm"]:not([hidden])').waitFor();
  await h.page.locator('#screen > [data-scan-mode="collect"]').waitFor();
  await h.waitForDoor(door, true);
  return door;
}

async function takeAndClose(door: string): Promise<void> {
  await h.sim(`compartments/${door}/take`);
  await h.sim(`compartments/${door}/close`);
}

it('English: a wrong scan is refused with the tries left, the typed waybill confirms', async () => {
  await toCollections();
  taps = 0;
  const door = await openFor('SP-CONF-0001');
  const text = await h.visibleText();
  expect(text).toContain(`Scan the waybill on the parcel from door ${door}, or type it.`);
  // The list with its waybills is put away: the label is read off the parcel.
  expect(text).not.toContain('SP-CONF-0001');
  await h.screenshot('confirm-asked-en');

  await h.scan('SP-NOPE-0009');
  const message = h.page.locator('[data-ref="confirmMessage"]', { hasText: 'This is not the waybill of the parcel in this door.' });
  await message.waitFor();
  expect(await message.textContent()).toContain('4 tries left');
  // Still the courier's door: open, and the screen still asks.
  expect((await h.simLock(door)).doorOpen).toBe(true);
  expect(await h.page.locator('[data-ref="confirm"]').isVisible()).toBe(true);
  await h.screenshot('confirm-wrong-en');
  // Portrait: the map above the entry, every target still at least 64 px.
  await h.page.setViewportSize({ width: 800, height: 1280 });
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('confirm-wrong-en-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });
  expect(await h.smallTouchTargets()).toEqual([]);

  await h.typeOnKeyboard('SP-CONF-0001');
  await tapText('Confirm');
  await h.page.locator('[data-ref="status"]', { hasText: `The parcel from door ${door} is confirmed by its typed waybill.` }).waitFor();
  expect(await h.page.locator('[data-ref="confirm"]').isHidden()).toBe(true);
  expect(await h.text('[data-ref="status"]')).toContain(`Close door ${door}.`);
  // Open the door, then Confirm (the typed characters and the shift key are taps of the keyboard, counted apart).
  expect(taps).toBe(2);
  await h.screenshot('confirmed-typed-en');
  await takeAndClose(door);
  await h.page.locator('.list .row').nth(2).waitFor({ state: 'detached' });
  expect(await h.page.locator('.list .row').count()).toBe(2);
  const [event] = read.events('parcel.collection_confirmed');
  expect(event?.data).toMatchObject({ waybill: 'SP-CONF-0001', compartment: door, confirmation: 'typed', wrongTries: 1, kind: 'expired', courier: 'c-77' });
  await h.tapText('Back');
  await h.waitForScreen('menu');
  await h.tapText('Log out');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});

it('Chinese: a scan confirms, and "could not scan" takes a reason', async () => {
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await toCollections();
  taps = 0;
  const door = await openFor('SP-CONF-0002');
  expect(await h.visibleText()).toContain(`请扫描从 ${door} 号柜门取出的包裹上的运单号，或手动输入。`);
  await h.scan('SP-CONF-0002');
  await h.page.locator('[data-ref="status"]', { hasText: `${door} 号柜门的包裹已扫描确认。` }).waitFor();
  await h.screenshot('confirmed-scanned-zh');
  // Open the door, scan the label: one tap.
  expect(taps).toBe(1);
  await takeAndClose(door);
  await h.page.locator('.list .row').nth(1).waitFor({ state: 'detached' });

  taps = 0;
  const last = await openFor('SP-CONF-0003');
  await h.scan('SP-NOPE-0010');
  await h.page.locator('[data-ref="confirmMessage"]', { hasText: '这不是该柜门内包裹的运单号。' }).waitFor();
  expect(await h.text('[data-ref="confirmMessage"]')).toContain('还可尝试 4 次');
  await tapText('无法扫描');
  await h.page.locator('[data-ref="reasons"]:not([hidden])').waitFor();
  // The reasons take the keyboard's place.
  expect(await h.page.locator('[data-ref="keyboard"]').isHidden()).toBe(true);
  await h.screenshot('cannot-scan-reasons-zh');
  await tapText('运单标签无法识别');
  await h.page.locator('[data-ref="status"]', { hasText: `${last} 号柜门的包裹已记录为未扫描。` }).waitFor();
  // Open the door, "could not scan", the reason: three taps.
  expect(taps).toBe(3);
  await takeAndClose(last);
  await h.page.waitForSelector('[data-ref="empty"]:not([hidden])');

  const events = read.events('parcel.collection_confirmed').map((e) => e.data);
  expect(events).toHaveLength(3);
  expect(events[1]).toMatchObject({ waybill: 'SP-CONF-0002', confirmation: 'scanned', wrongTries: 0 });
  expect(events[2]).toMatchObject({ waybill: 'SP-CONF-0003', confirmation: 'skipped', reason: 'label_unreadable', wrongTries: 1 });
  // Each collection counted when its door opened, scan or not.
  expect(read.events('parcel.retrieved')).toHaveLength(3);
  expect(h.pageErrors).toEqual([]);
});
