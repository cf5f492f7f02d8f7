// Issue 11, defects 4 and 5: "The door did not open" names the door that failed and shows the
// support contact of the carrier who owns the parcel (`carriers[].support`, else the locker's
// `support`), with its QR code and link in words, in English and Chinese; "Home" on an
// open-door screen asks first, reminding to close the door.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoConfigInput } from '../../support/demoLocker.js';
import { KioskHarness } from '../../support/kioskHarness.js';

const carriers = (demoConfigInput().carriers as Record<string, unknown>[]).map((c) =>
  c.id === 'swiftpost' ? { ...c, support: { phone: '+44 20 7946 0123', qrUrl: 'https://help.swiftpost.example/locker', hours: { en: 'every day 8:00-20:00', 'zh-Hans': '每天 8:00-20:00' } } } : c,
);

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('doorFailedNamesDoorAndNumber', {
    overrides: {
      doors: { openTimeoutMs: 800, jamRetries: 0 },
      locker: { id: 'demo-locker-1', name: 'Demo locker (simulator)' },
      support: { phone: '+44 20 7946 0000', qrUrl: 'tel:+442079460000' },
      carriers,
    },
  });
});
afterAll(async () => {
  await h?.close();
});

async function jammedPickup(waybill: string, carrier: string): Promise<string> {
  if (carrier !== 'swiftpost') await h.api('POST', `/sim/carriers/${carrier}/reservations`, { waybill, size: 'S' });
  const parcel = await h.storeParcel(waybill, 'S', carrier);
  await h.sim(`compartments/${parcel.compartment}/jam`);
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-failed', 20_000);
  // The QR code is drawn (the image loaded) with its link in words beside it.
  await h.page.locator('[data-ref="support"] img.qr').waitFor();
  expect(await h.page.locator('[data-ref="support"] img.qr').evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).complete && (img as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
  return parcel.compartment;
}

it("names the failed door and the owning carrier's support contact", async () => {
  const door = await jammedPickup('SP-JAM-0100', 'swiftpost');
  const text = await h.visibleText();
  expect(text).toContain(`Door ${door} did not open.`);
  expect(text).toContain('SwiftPost');
  expect(text).toContain('+44 20 7946 0123');
  expect(text).toContain('every day 8:00-20:00');
  expect(text).toContain('https://help.swiftpost.example/locker');
  // The carrier's own line wins over the locker's.
  expect(text).not.toContain('+44 20 7946 0000');
  expect(await h.page.locator('[data-ref="support"] img.qr').getAttribute('src')).toBe('/api/info/support-qr/swiftpost');
  await h.screenshot('door-failed-named');
  // Portrait: the whole contact and its QR code fit, every target at least 64 px.
  await h.page.setViewportSize({ width: 800, height: 1280 });
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('door-failed-named-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });
  await h.sim(`compartments/${door}/unjam`);
  await h.tapText('Home');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});

it("in Chinese, and with the locker's line for a carrier that has none", async () => {
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  const door = await jammedPickup('PG-JAM-0101', 'parcelgo');
  const text = await h.visibleText();
  expect(text).toContain(`${door} 号柜门未打开。`);
  expect(text).toContain('本快递柜');
  expect(text).toContain('+44 20 7946 0000');
  expect(text).toContain('tel:+442079460000');
  expect(text).not.toContain('+44 20 7946 0123');
  expect(await h.page.locator('[data-ref="support"] img.qr').getAttribute('src')).toBe('/api/info/support-qr/locker');
  await h.screenshot('door-failed-locker-line-zh');
  await h.sim(`compartments/${door}/unjam`);
  await h.tapText('首页');
  await h.waitForScreen('home');
  await h.tap('.lang[lang="en"]');
  await h.waitForLanguage('en');
  expect(h.pageErrors).toEqual([]);
});

it('asks before leaving an open door with Home', async () => {
  const parcel = await h.storeParcel('SP-HOME-0100', 'S');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await h.tap('#home-button');
  // Still the door screen, with a reminder and a choice.
  await h.page.locator('[data-ref="confirm"]', { hasText: `Please close door ${parcel.compartment}` }).waitFor();
  expect(await h.currentScreen()).toBe('door-open');
  await h.screenshot('home-asks-first');
  // In portrait the open-door screen is taller than the glass: the reminder and both its buttons
  // are in view all the same, without scrolling.
  await h.page.setViewportSize({ width: 800, height: 1280 });
  for (const label of ['Stay here', 'Leave anyway']) {
    const box = await h.page.getByRole('button', { name: label }).boundingBox();
    expect(box, label).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0), label).toBeLessThanOrEqual(1280);
    expect(box?.y ?? -1, label).toBeGreaterThanOrEqual(0);
  }
  await h.screenshot('home-asks-first-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });
  await h.tapText('Stay here');
  await h.page.locator('[data-ref="confirm"]').waitFor({ state: 'detached' });
  await h.tap('#home-button');
  await h.tapText('Leave anyway');
  await h.waitForScreen('home');
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  expect(h.pageErrors).toEqual([]);
});
