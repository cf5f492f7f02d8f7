// Growth with work (issue 10, item 4): each retention rule prunes what it must and keeps what it
// must, on a ManualClock (no waiting).
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { DEFAULT_RETENTION, RetentionJob } from '../../../src/store/retention.js';
import { ReplayStore } from '../../../src/sync/replayStore.js';

const DAY = 24 * 3600_000;

describe('retention rules', () => {
  let db: Db;
  let store: LockerStore;
  let clock: ManualClock;

  beforeEach(() => {
    db = openDatabase(':memory:');
    store = new LockerStore(db);
    clock = new ManualClock();
    db.prepare("INSERT INTO compartments (id, size, bus, board, lock) VALUES ('A1', 'M', 'main', 1, 1)").run();
  });

  const job = (rules: Partial<typeof DEFAULT_RETENTION> = {}, pruneCommands?: (now: number) => number) =>
    new RetentionJob({ store, clock, logger: silentLogger(), rules, ...(pruneCommands ? { pruneCommands } : {}) });

  const session = (id: string, startedAt: number, end: number | null) => {
    store.insertSession({ id, compartmentId: 'A1', purpose: 'deposit', actor: 'consumer', context: {}, startedAt });
    if (end !== null) store.endSession(id, 'done', 'door_closed', end);
  };

  const parcel = (id: string, state: 'stored' | 'picked_up' | 'expired' | 'cancelled', closedAt: number | null) =>
    db
      .prepare("INSERT INTO parcels (id, carrier, waybill, kind, state, compartment_id, stored_at, closed_at) VALUES (?, 'swiftpost', ?, 'delivery', ?, 'A1', ?, ?)")
      .run(id, `wb-${id}`, state, clock.now(), closedAt);

  it('door sessions: ended ones older than 7 days go, recent ones and those in flight stay', async () => {
    const t0 = clock.now();
    session('old-done', t0, t0 + 1_000);
    session('old-in-flight', t0, null);
    await clock.advance(6 * DAY);
    session('recent-done', clock.now(), clock.now() + 1_000);
    await clock.advance(1 * DAY + 2_000);
    expect(job().runOnce().doorSessions).toBe(1);
    expect(store.doorSessions().map((s) => s.id).sort()).toEqual(['old-in-flight', 'recent-done']);
    expect(store.inFlightSessions().map((s) => s.id)).toEqual(['old-in-flight']);
  });

  it('audit: rows older than 90 days go, and past the row cap the oldest go', async () => {
    store.audit(clock.now(), 'system', 'old', null);
    await clock.advance(80 * DAY);
    for (let i = 0; i < 5; i++) store.audit(clock.now(), 'system', `recent-${i}`, null);
    await clock.advance(10 * DAY + 1);
    expect(job().runOnce().audit).toBe(1);
    expect(store.auditActions()).toEqual(['recent-0', 'recent-1', 'recent-2', 'recent-3', 'recent-4']);
    // The cap keeps the newest rows.
    expect(job({ auditMaxRows: 2 }).runOnce().audit).toBe(3);
    expect(store.auditActions()).toEqual(['recent-3', 'recent-4']);
  });

  it('parcels: final ones closed more than 30 days ago go; stored and expired ones stay whatever their age', async () => {
    const t0 = clock.now();
    parcel('picked-old', 'picked_up', t0);
    parcel('cancelled-old', 'cancelled', t0);
    parcel('stored-old', 'stored', null);
    parcel('expired-old', 'expired', null);
    await clock.advance(20 * DAY);
    parcel('picked-recent', 'picked_up', clock.now());
    await clock.advance(10 * DAY + 1);
    expect(job().runOnce().parcels).toBe(2);
    expect(store.allParcels().map((p) => p.id).sort()).toEqual(['expired-old', 'picked-recent', 'stored-old']);
  });

  it('batches are bounded: one pass deletes at most batchRows x maxBatchesPerPass rows per table; the next pass goes on', async () => {
    for (let i = 0; i < 25; i++) store.audit(clock.now(), 'system', `a-${i}`, null);
    await clock.advance(91 * DAY);
    const j = job({ batchRows: 4, maxBatchesPerPass: 3 });
    expect(j.runOnce().audit).toBe(12);
    expect(store.auditCount()).toBe(13);
    expect(j.runOnce().audit).toBe(12);
    expect(j.runOnce().audit).toBe(1);
    expect(store.auditCount()).toBe(0);
  });

  it('replay store: the periodic pass forgets expired commands even when no command arrives', async () => {
    const replay = new ReplayStore(db);
    const t = clock.now();
    replay.claim({ issuer: 'op', jti: 'gone', cmd: 'inventory', digest: 'd1', receivedAt: t, expiresAt: t + 60_000 });
    replay.claim({ issuer: 'op', jti: 'kept', cmd: 'inventory', digest: 'd2', receivedAt: t, expiresAt: t + 3 * 3600_000 });
    const j = job({}, (now) => replay.prune(now));
    j.start();
    await clock.advance(DEFAULT_RETENTION.firstPassAfterMs - 1);
    // Not at start: the first pass waits, so a start is not slowed by deletes.
    expect(replay.size()).toBe(2);
    await clock.advance(1);
    expect(replay.size()).toBe(1);
    expect(replay.lookup('op', 'kept', 'd2').kind).toBe('retry');
    await clock.advance(3 * DEFAULT_RETENTION.everyMs);
    expect(replay.size()).toBe(0);
    j.stop();
  });

  it('7 days of steady traffic: door sessions stay bounded by the rule, not by the traffic', async () => {
    const j = job();
    j.start();
    const perHour = 20;
    let n = 0;
    for (let h = 0; h < 24 * 14; h++) {
      for (let i = 0; i < perHour; i++) session(`s-${n++}`, clock.now(), clock.now() + 1_000);
      await clock.advance(3600_000);
    }
    j.stop();
    // About 7 days' worth (plus at most one pass's interval) are kept, out of 14 days of sessions.
    const kept = store.doorSessions().length;
    expect(kept).toBeLessThanOrEqual((7 * 24 + 1) * perHour);
    expect(kept).toBeGreaterThanOrEqual(7 * 24 * perHour - perHour);
  });
});
