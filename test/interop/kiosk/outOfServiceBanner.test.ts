// Issue 9, finding 2: the kiosk says when the locker (or part of it) is out of service, from
// the faults /api/health names. A silent board: "Some compartments are out of service"; a
// store that refuses writes: the whole locker. Back to normal: no banner.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Events } from '../../../src/domain/events.js';
import { KioskHarness } from '../../support/kioskHarness.js';
import { waitFor } from '../../support/polling.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('outOfServiceBanner');
});
afterAll(async () => {
  await h?.close();
});

const banner = () => h.page.locator('#out-of-service');
const healthOk = async () => ((await fetch(`${h.lockerd.url}/api/health`)).status === 200 ? true : undefined);
const healthNotOk = async () => ((await fetch(`${h.lockerd.url}/api/health`)).status === 503 ? true : undefined);

it('shows the out-of-service banner while health names a fault', async () => {
  expect(await banner().isHidden()).toBe(true);

  await h.sim('boards/bus0/1/silence');
  await waitFor('the board to be silent', healthNotOk, 10_000, 50);
  await h.reload();
  await banner().waitFor({ state: 'visible' });
  expect(await banner().textContent()).toBe('Some compartments are out of service.');

  await h.sim('boards/bus0/1/restore');
  await waitFor('the board to answer', healthOk, 10_000, 50);
  await h.reload();
  expect(await banner().isHidden()).toBe(true);

  // The disk fills: the database cannot grow by one page.
  const db = h.lockerd.db;
  const pages = Number(db.pragma('page_count', { simple: true }));
  db.pragma(`max_page_count = ${pages}`);
  for (let i = 0; i < 500 && !(await healthNotOk()); i++) h.lockerd.locker.alarms.raise(Events.doorLeftOpen({ compartment: 'A1', sessionId: `s-${i}-${'x'.repeat(200)}` }));
  await h.reload();
  await banner().waitFor({ state: 'visible' });
  expect(await banner().textContent()).toBe('This locker is out of service. Please try again later.');
  db.pragma(`max_page_count = ${pages + 10_000}`);
  expect(h.pageErrors).toEqual([]);
});
