// Growth with work (issue 10, item 4), the short seeded run: four simulated days of steady
// traffic on the whole runtime (test/bench/support/growthRun.ts) with the retention windows
// shortened to a day or two, so the steady state comes within the run. What it asserts is a
// bound on rows, never a speed: once the windows have passed, no table that grows with traffic
// grows any more, the database's pages in use level off, nothing the recovery needs is gone, and
// the placements held in memory stay within their bound. The full run (7 days at the shipped
// rules, RSS per day) is the growth benchmark (npm run bench growth).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINISHED_KEPT_MAX } from '../../src/domain/placements.js';
import { type DaySample, type GrowthRun, runGrowthDays } from '../bench/support/growthRun.js';

const DAY = 24 * 3_600_000;
const ROUNDS = 4;
const PER_ROUND = 5;
const EXPIRING = 1;

describe('four simulated days of steady traffic, retention windows of a day or two', () => {
  let run: GrowthRun;
  let days: DaySample[];

  beforeAll(async () => {
    run = await runGrowthDays({
      days: 4,
      roundsPerDay: ROUNDS,
      perRound: PER_ROUND,
      expiringPerDay: EXPIRING,
      dwellHours: 24,
      retainAcked: 40,
      seed: 'growth-ci',
      retention: { doorSessionKeepMs: DAY, closedParcelKeepMs: DAY, auditKeepMs: 2 * DAY, spentGroupKeepMs: DAY },
    });
    days = run.samples;
  }, 120_000);

  afterAll(async () => {
    await run?.stop();
  });

  const at = (day: number): DaySample => {
    const s = days[day];
    if (!s) throw new Error(`no sample for day ${day}`);
    return s;
  };

  it('ran the traffic: deposits and pickups, expiries collected, commands', () => {
    expect(at(4).pairs).toBe(4 * ROUNDS * PER_ROUND);
    expect(at(4).collected).toBeGreaterThanOrEqual(2);
    expect(at(4).commands).toBe(4 * ROUNDS * 2);
  });

  it('tables that grow with traffic stop growing once their window has passed', () => {
    for (const table of ['audit', 'door_sessions', 'parcels', 'outbox', 'command_log']) {
      // Day 3 and day 4 each come after every window (2 days at most): the same traffic, the same rows, within a round's worth.
      const perRound = Math.max(1, Math.ceil((at(3).rows[table] ?? 0) / ROUNDS));
      expect(at(4).rows[table], table).toBeLessThanOrEqual((at(3).rows[table] ?? 0) + perRound);
      expect(at(4).rows[table], table).toBeLessThan((at(4).pairs / at(2).pairs) * (at(2).rows[table] ?? 0) || Infinity);
    }
  });

  it('each table stays within its rule: rows in the window plus what is live', () => {
    const sessionsPerDay = ROUNDS * PER_ROUND * 2 + EXPIRING * 2;
    // Ended door sessions: one day's worth and the hour until the next pass; none in flight between rounds.
    expect(at(4).rows.door_sessions).toBeLessThanOrEqual(Math.ceil(sessionsPerDay * (1 + 1 / 24)) + EXPIRING * 2);
    // Parcels: closed within a day (plus a pass), and the live ones left to expire.
    expect(at(4).rows.parcels).toBeLessThanOrEqual(Math.ceil((ROUNDS * PER_ROUND + EXPIRING) * (1 + 1 / 24)) + 2 * EXPIRING + 1);
    // Acknowledged events: at most retainAcked per stream; every row was acknowledged.
    const streams = run.running.outbox.streams();
    expect(at(4).rows.outbox).toBeLessThanOrEqual(40 * streams.length);
    // Commands live a minute: at the end of a round only the ones of that round are left.
    expect(at(4).rows.command_log).toBeLessThanOrEqual(2);
  });

  it('the database pages in use level off', () => {
    expect(at(4).dbUsed).toBeLessThanOrEqual(at(3).dbUsed * 1.1);
    // And the file stops growing: freed pages are reused.
    expect(at(4).dbFile).toBeLessThanOrEqual(at(3).dbFile * 1.1);
  });

  it('nothing a recovery needs is pruned: live parcels, unacknowledged events', () => {
    const live = run.running.store.allParcels().filter((p) => p.state === 'stored' || p.state === 'expired');
    // The parcels left on the last day are still there with their compartment.
    expect(live.length).toBeGreaterThanOrEqual(EXPIRING);
    for (const p of live) expect(p.compartmentId).not.toBeNull();
    for (const s of run.running.outbox.streams()) expect(run.running.outbox.firstRetainedSeq(s.stream) ?? s.nextSeq).toBeLessThanOrEqual(s.ackedUpTo + 1);
  });

  it('placements held in memory stay within their bound, whatever the days', () => {
    const compartments = run.running.store.compartments().length;
    for (const s of days) expect(s.placementsHeld).toBeLessThanOrEqual(FINISHED_KEPT_MAX + compartments);
  });
});
