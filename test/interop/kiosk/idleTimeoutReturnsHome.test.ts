// Nobody touches the screen: after screenIdleMs the kiosk is back on the home screen in the
// default language, and a courier left logged in is logged out.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

const idleMs = 5_000;
let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('idleTimeoutReturnsHome', { overrides: { kiosk: { port: 0, screenIdleMs: idleMs } } });
});
afterAll(async () => {
  await h?.close();
});

it('returns to an English home screen when a half-typed pickup is abandoned', async () => {
  await h.tap('.lang[lang="zh-Hans"]');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad('123');
  await h.screenshot('abandoned-keypad');
  const left = Date.now();
  await h.waitForScreen('home', idleMs + 5_000);
  expect(Date.now() - left).toBeGreaterThanOrEqual(idleMs - 500);
  await h.waitForLanguage('en');
  expect(await h.text('[data-ref="collect"] strong')).toBe('Collect a parcel');
  await h.screenshot('home-again');
});

it('logs out a courier who walked away', async () => {
  const logouts: string[] = [];
  h.page.on('request', (r) => {
    if (r.url().endsWith('/api/courier/logout')) logouts.push(r.method());
  });
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-3'));
  await h.waitForScreen('menu');
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');
  await h.screenshot('courier-idle');
  await h.waitForScreen('home', idleMs + 5_000);
  expect(logouts).toEqual(['POST']);
  // Courier again: the login screen, not the menu of the old session.
  await h.tap('[data-ref="courier"]');
  await h.waitForScreen('login');
  await h.screenshot('login-after-idle');
  expect(h.pageErrors).toEqual([]);
});
