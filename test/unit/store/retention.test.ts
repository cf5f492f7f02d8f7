// Growth with work (issue 10, item 4): each retention rule prunes what it must and keeps what it
// must, on a ManualClock (no waiting).
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { DEFAULT_RETENTION, RetentionJob } from '../../../src/store/retention.js';
import { ReplayStore } from '../../../src/sync/replayStore.js';
import { ParcelGroupStore } from '../../../src/store/parcelGroups.js';
import { ParcelNeedsStore, PickupExtensionStore } from '../../../src/store/pickupExtensions.js';
import { Outbox } from '../../../src/store/outbox.js';
import { SPENT_CODE_KNOWN_MS } from '../../../src/domain/codeVault.js';
import { OutboxWriter } from '../../support/outboxFixture.js';

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

  const job = (rules: Partial<typeof DEFAULT_RETENTION> = {}, pruneCommands?: (now: number) => number, extra: { outbox?: Outbox; outboxRetainAcked?: () => number } = {}) =>
    new RetentionJob({ store, clock, logger: silentLogger(), rules, ...(pruneCommands ? { pruneCommands } : {}), ...extra });

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

  it('door sessions: an uncertain session waits for its verdict whatever its age; a settled one goes by the rule', async () => {
    const t0 = clock.now();
    session('uncertain-old', t0, null);
    store.endSession('uncertain-old', 'uncertain', 'uncertain:unknown', t0 + 1_000);
    session('settled-old', t0, null);
    store.endSession('settled-old', 'uncertain', 'uncertain:unknown', t0 + 1_000);
    store.settleSession('settled-old', 'empty');
    await clock.advance(30 * DAY);
    expect(job().runOnce().doorSessions).toBe(1);
    // The compartment is still held for inspection: the operator's verdict needs the session.
    expect(store.uncertainSessionIn('A1')?.id).toBe('uncertain-old');
    expect(store.doorSessions().map((s) => s.id)).toEqual(['uncertain-old']);
  });

  it('parcel groups: a group whose members all left goes once its code is no longer recognised as spent; members follow their parcel', async () => {
    const groups = new ParcelGroupStore(db);
    const t0 = clock.now();
    parcel('g1-a', 'picked_up', t0);
    parcel('g1-b', 'picked_up', t0);
    groups.join('g1-a', { carrier: 'swiftpost', group: 'g1' });
    groups.join('g1-b', { carrier: 'swiftpost', group: 'g1' });
    groups.create({ carrier: 'swiftpost', group: 'g1' }, 'digest-g1', t0, 0);
    parcel('g2-a', 'stored', null);
    groups.join('g2-a', { carrier: 'swiftpost', group: 'g2' });
    groups.create({ carrier: 'swiftpost', group: 'g2' }, 'digest-g2', t0, 0);
    // Within the spent-code window the group's code still says "already collected".
    await clock.advance(SPENT_CODE_KNOWN_MS - 1_000);
    expect(job().runOnce().groups).toBe(0);
    expect(groups.byDigest('digest-g1')).toEqual({ carrier: 'swiftpost', group: 'g1' });
    await clock.advance(2_000);
    expect(job().runOnce().groups).toBe(1);
    expect(groups.byDigest('digest-g1')).toBeUndefined();
    // A group with a live member stays whatever its age.
    expect(groups.byDigest('digest-g2')).toEqual({ carrier: 'swiftpost', group: 'g2' });
    expect(groups.memberIds({ carrier: 'swiftpost', group: 'g2' })).toEqual(['g2-a']);
    // The closed members' rows go with their parcels (30 days after closing).
    await clock.advance(DEFAULT_RETENTION.closedParcelKeepMs);
    const c = job().runOnce();
    expect(c.parcels).toBe(2);
    expect(c.groupMembers).toBe(2);
    expect(groups.groupOf('g1-a')).toBeUndefined();
    expect(groups.groupOf('g2-a')).toEqual({ carrier: 'swiftpost', group: 'g2' });
    expect(DEFAULT_RETENTION.spentGroupKeepMs).toBeGreaterThanOrEqual(SPENT_CODE_KNOWN_MS);
  });

  it('pickup extensions and low-compartment needs go with their parcel, and stay while it is live', async () => {
    const ext = new PickupExtensionStore(db);
    const needs = new ParcelNeedsStore(db);
    const t0 = clock.now();
    for (const [id, state, closed] of [['closed', 'picked_up', t0], ['live', 'stored', null]] as const) {
      parcel(id, state, closed);
      db.prepare('UPDATE parcels SET expires_at = ? WHERE id = ?').run(t0 + DAY, id);
      needs.requireLow(id);
    }
    db.prepare("UPDATE parcels SET state = 'stored' WHERE id = 'closed'").run();
    ext.extend('closed', t0 + DAY, t0 + 2 * DAY, 24, t0);
    ext.extend('live', t0 + DAY, t0 + 2 * DAY, 24, t0);
    store.moveParcel('closed', 'stored', 'picked_up', t0);
    await clock.advance(DEFAULT_RETENTION.closedParcelKeepMs + 1);
    expect(job().runOnce().parcels).toBe(1);
    expect(ext.of('closed').times).toBe(0);
    expect(needs.requiresLow('closed')).toBe(false);
    expect(ext.of('live').times).toBe(1);
    expect(needs.requiresLow('live')).toBe(true);
  });

  it('outbox: acknowledged rows beyond the newest retainAcked go in bounded batches; unacknowledged rows stay', () => {
    const outbox = new Outbox(db);
    const writer = new OutboxWriter(outbox);
    writer.appendMany(30, () => ({ carrier: 'swiftpost' }));
    writer.appendMany(5, () => ({ carrier: null }));
    // The consumer acknowledged up to 25 while the replay window was 100 (nothing to prune yet).
    outbox.ackUpTo('c/swiftpost', 25, clock.now(), 100);
    expect(outbox.rows('c/swiftpost')).toHaveLength(30);
    // The window is lowered later (remote setConfig) and no ack comes: the periodic pass applies it.
    let retain = 5;
    const j = job({ batchRows: 4, maxBatchesPerPass: 2 }, undefined, { outbox, outboxRetainAcked: () => retain });
    expect(j.runOnce().outbox).toBe(8);
    expect(j.runOnce().outbox).toBe(8);
    expect(j.runOnce().outbox).toBe(4);
    expect(j.runOnce().outbox).toBe(0);
    // 21..25 acknowledged and kept for replays, 26..30 unacknowledged, the unacknowledged op stream whole.
    expect(outbox.rows('c/swiftpost').map((r) => r.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(outbox.rows('op')).toHaveLength(5);
    retain = 0;
    expect(j.runOnce().outbox).toBe(5);
    expect(outbox.rows('c/swiftpost').every((r) => !r.acked)).toBe(true);
    expect(outbox.rows('c/swiftpost')).toHaveLength(5);
  });
});
