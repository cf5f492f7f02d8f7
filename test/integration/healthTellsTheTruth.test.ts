// Issue 9, finding 10 (health): /api/health was ok:true with a full disk. The disk fills for
// real here: SQLite's max_page_count caps the database at its current size, so the next write
// that needs a page fails with SQLITE_FULL, which the store surfaces as STORE_FULL. Health
// must say not ok and name it, and be ok again by itself once a write succeeds.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Events } from '../../src/domain/events.js';
import { LockerHarness } from '../support/lockerHarness.js';

interface Health {
  ok: boolean;
  faults: { code: string }[];
}

describe('health tells the truth', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('a full disk makes health not ok with STORE_FULL, and ok again when space returns', async () => {
    expect((await h.api<Health>('GET', '/api/health')).body.ok).toBe(true);
    const db = h.running.db;
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages}`);
    // Alarms are recorded through the one recorder; they keep coming until the file is full.
    for (let i = 0; i < 500 && (await h.api<Health>('GET', '/api/health')).status === 200; i++)
      h.running.locker.alarms.raise(Events.doorLeftOpen({ compartment: 'A1', sessionId: `s-${i}-${'x'.repeat(200)}` }));
    const full = await h.api<Health>('GET', '/api/health');
    expect(full.status).toBe(503);
    expect(full.body.ok).toBe(false);
    expect(full.body.faults.map((f) => f.code)).toEqual(['STORE_FULL']);

    db.pragma(`max_page_count = ${pages + 10_000}`);
    h.running.locker.alarms.raise(Events.doorLeftOpen({ compartment: 'A1', sessionId: 'after' }));
    const back = await h.api<Health>('GET', '/api/health');
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ ok: true, faults: [] });
  });
});
