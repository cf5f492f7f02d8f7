// Issue 11, defect 6: a courier logs in with carrier, ID and PIN in at most 12 taps. The
// carrier is chosen from the locker's carriers by display name (never typed as its id); the
// PIN has its own keypad. Taps are counted here and the bound asserted (docs/kiosk.md).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashPin } from '../../../src/credentials/pin.js';
import { cryptoRandom } from '../../../kernel/random.js';
import { demoConfigInput } from '../../support/demoLocker.js';
import { KioskHarness } from '../../support/kioskHarness.js';

const PIN = '246813';
let h: KioskHarness;
beforeAll(async () => {
  const pinHash = await hashPin(PIN, cryptoRandom(), { N: 1024, r: 8, p: 1 });
  const carriers = (demoConfigInput()['carriers'] as Record<string, unknown>[]).map((c) => ({ ...c, couriers: [{ id: '4711', pinHash }] }));
  h = await KioskHarness.start('courierPinLoginInTwelveTaps', { overrides: { carriers } });
});
afterAll(async () => {
  await h?.close();
});

it('logs in by carrier name, ID and PIN in at most 12 taps', async () => {
  let taps = 0;
  const tap = async (selector: string): Promise<void> => {
    taps += 1;
    await h.tap(selector);
  };
  await tap('[data-ref="courier"]');
  await h.waitForScreen('login');
  const names = await h.page.locator('[data-carrier]').allTextContents();
  expect(names).toContain('SwiftPost');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('login-carriers');
  await tap('[data-carrier="swiftpost"]');
  for (const ch of '4711') await tap(`.keyboard [data-key="${ch}"]`);
  for (const d of PIN) await tap(`[data-ref="pinPad"] [data-key="${d}"]`);
  expect(await h.text('[data-field="pin"] output')).toBe('\u2022'.repeat(PIN.length));
  await h.screenshot('login-filled');
  await tap('[data-ref="login"]');
  await h.waitForScreen('menu');
  expect(taps - 1).toBeLessThanOrEqual(12);
  await h.page.setViewportSize({ width: 800, height: 1280 });
  await h.tapText('Log out');
  await h.waitForScreen('home');
  await h.tap('[data-ref="courier"]');
  await h.waitForScreen('login');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('login-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });
  expect(h.pageErrors).toEqual([]);
});
