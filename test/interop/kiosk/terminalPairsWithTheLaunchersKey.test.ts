// On a real locker (no --sim) the kiosk page pairs with the terminal key the launcher put in the
// URL fragment, takes the key off the address at once, and then gets scan results: an operator
// badge scanned on home opens service mode. A second browser without the key gets nowhere.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('terminalPairsWithTheLaunchersKey', { sim: false, overrides: { demo: { revealCodes: false } } });
});
afterAll(async () => {
  await h?.close();
});

it('pairs with the key from the fragment and reads scans for the screen shown', async () => {
  expect(new URL(h.page.url()).hash).toBe('');
  expect(await h.page.evaluate<boolean>('document.cookie.includes("lk_terminal")')).toBe(false);

  // Another browser page without the key: it is no terminal, so it cannot claim the scanner.
  const stranger = await h.browser.newPage();
  await stranger.goto(`${h.lockerd.url}/`);
  await stranger.waitForSelector('#screen > [data-screen="home"][data-synced]');
  const claimed = await stranger.evaluate<number>(`fetch('/api/kiosk/screen', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"screen":"home"}' }).then((r) => r.status)`);
  expect(claimed).toBe(401);
  await stranger.close();

  const world = h.lockerd.world;
  if (!world) throw new Error('no simulated hardware');
  world.scan(await h.demo.mintOperatorBadge('ops-9'));
  await h.waitForScreen('operator');
  await h.screenshot('operator-from-scanned-badge');
  expect(h.pageErrors).toEqual([]);
});
