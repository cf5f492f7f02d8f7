// Issue 11, flow 8: service mode "clear a stuck state". A door session is left in flight with no
// runner behind it (as a crashed path leaves one: the row is written beside the running
// lockerd). The compartment's details say so and offer "Clear the stuck state"; a tap ends it,
// with compartment.stuck_cleared on the operator stream and an audit row. An open door is refused.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { databasePathOf } from '../../../src/store/databaseIdentity.js';
import { KioskHarness } from '../../support/kioskHarness.js';
import { StoreReader } from '../../support/storeReader.js';
import { waitFor } from '../../support/polling.js';

let h: KioskHarness;
let db: Database.Database;
beforeAll(async () => {
  h = await KioskHarness.start('operatorClearsStuckState');
  db = new Database(databasePathOf(h.demo.config.dataDir));
  db.pragma('busy_timeout = 5000');
});
afterAll(async () => {
  db?.close();
  await h?.close();
});

function leaveSession(id: string, compartment: string): void {
  db.prepare("INSERT INTO door_sessions (id, compartment_id, purpose, state, actor, context, started_at) VALUES (?, ?, 'pickup', 'in_flight', 'consumer', '{}', ?)").run(id, compartment, Date.now());
}

it('shows a stuck session and clears it with one tap', async () => {
  leaveSession('01STUCKSESSION0000000000A1', 'A1');
  await h.scan(await h.demo.mintOperatorBadge('ops-3'));
  await h.waitForScreen('operator');
  await h.tap('.tile[data-compartment="A1"]');
  const details = h.page.locator('[data-ref="details"]');
  await details.locator('[data-ref="clearStuck"]').waitFor();
  expect(await details.textContent()).toContain('A door session or hold is left here with nothing behind it.');
  await h.screenshot('stuck-session');
  await h.tap('[data-ref="clearStuck"]');
  await h.page.getByText('Door A1: the stuck state is cleared.').waitFor();
  await details.locator('.door-event', { hasText: 'cleared by an operator' }).waitFor();
  expect(await details.locator('[data-ref="clearStuck"]').count()).toBe(0);
  await h.screenshot('stuck-session-cleared');

  expect(db.prepare('SELECT state, outcome FROM door_sessions WHERE id = ?').get('01STUCKSESSION0000000000A1')).toEqual({ state: 'failed', outcome: 'cleared' });
  expect(db.prepare("SELECT actor, subject FROM audit WHERE action = 'compartment.stuck_cleared'").all()).toEqual([{ actor: 'operator:ops-3', subject: 'A1' }]);
  // The event's data is checked against the catalogue in the domain test (clearStuckState).
  expect(new StoreReader(db).events('compartment.stuck_cleared').map((e) => e.stream)).toEqual(['op']);
  expect(h.pageErrors).toEqual([]);
});

it('refuses while the door is open (DOOR_NOT_CLOSED)', async () => {
  leaveSession('01STUCKSESSION0000000000A2', 'A2');
  await h.sim('compartments/A2/force-open');
  const { token } = await h.api<{ token: string }>('POST', '/api/operator/login', { badge: await h.demo.mintOperatorBadge('ops-4') });
  // lockerd has seen the door open (its next poll after the sim forced it).
  await waitFor('lockerd to see A2 open', async () => (await h.api<{ compartment: { door: string } }>('GET', '/api/operator/compartments/A2', undefined, token)).compartment.door === 'open', 10_000);
  await expect(h.api('POST', '/api/operator/compartments/A2/clear-stuck', { reason: 'x' }, token)).rejects.toThrow(/409 DOOR_NOT_CLOSED/);
  expect(db.prepare('SELECT state FROM door_sessions WHERE id = ?').get('01STUCKSESSION0000000000A2')).toEqual({ state: 'in_flight' });
});
