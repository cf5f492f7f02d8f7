// Growth with work (issue 10, item 4): what the locker keeps of the work it did, and for how
// long. A locker runs for years on an SD card, so every table that grows with traffic has a
// rule, and a periodic job applies the rules in bounded batches (one short write transaction
// per batch, at most maxBatchesPerPass batches per pass, so a pass never stalls a deposit).
//
//   audit          rows older than auditKeepMs go; past auditMaxRows, the oldest go too
//   door sessions  ended sessions older than doorSessionKeepMs go; sessions in flight stay
//                  (reconcile() needs them after a power cut), and so do uncertain ones (the
//                  inspection record their compartment is held for until the operator's verdict)
//   parcels        parcels in a final state (picked up, retrieved, cancelled, collected)
//                  closed more than closedParcelKeepMs ago go; live ones stay whatever their age.
//                  Their pickup_extensions and parcel_needs rows go with them (ON DELETE CASCADE)
//   parcel groups  a group none of whose members is live or announced, created more than
//                  spentGroupKeepMs ago, goes (its code is no longer recognised as spent); member
//                  rows go once their parcel is pruned
//   replay store   command_log rows past their expiry go (ReplayStore.prune); the expiry is
//                  bounded by the maximum command lifetime, so a retry in time still finds its row
//   outbox         acknowledged rows beyond the newest retainAcked of their stream go (the
//                  outbox's own rule, store/outbox.ts pruneAcked; ackUpTo applies it too);
//                  unacknowledged rows never go
//
// The rules are documented in docs/operations.md, "Memory and growth".
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { Logger } from '../logger.js';
import type { LockerStore } from './lockerStore.js';
import { Outbox } from './outbox.js';
import { ParcelGroupStore } from './parcelGroups.js';

export interface RetentionRules {
  auditKeepMs: number;
  auditMaxRows: number;
  doorSessionKeepMs: number;
  closedParcelKeepMs: number;
  /** A spent group's code is recognised this long (at least codeVault's SPENT_CODE_KNOWN_MS). */
  spentGroupKeepMs: number;
  /** Acknowledged outbox rows kept per stream when no live value is given (mqtt.retainAcked's default). */
  outboxRetainAcked: number;
  /** Rows deleted per statement (one short transaction each). */
  batchRows: number;
  /** Batches per table per pass; what is left waits for the next pass. */
  maxBatchesPerPass: number;
  /** How often the job runs. */
  everyMs: number;
  /** The first pass waits this long after start, so a start is not slowed by a backlog of deletes. */
  firstPassAfterMs: number;
}

const DAY_MS = 24 * 3600_000;

export const DEFAULT_RETENTION: RetentionRules = {
  auditKeepMs: 90 * DAY_MS,
  auditMaxRows: 200_000,
  doorSessionKeepMs: 7 * DAY_MS,
  closedParcelKeepMs: 30 * DAY_MS,
  spentGroupKeepMs: 7 * DAY_MS,
  outboxRetainAcked: 10_000,
  batchRows: 2_000,
  maxBatchesPerPass: 10,
  everyMs: 3600_000,
  firstPassAfterMs: 5 * 60_000,
};

export interface PruneCounts {
  audit: number;
  doorSessions: number;
  parcels: number;
  groups: number;
  groupMembers: number;
  commands: number;
  outbox: number;
}

export interface RetentionJobOptions {
  store: LockerStore;
  clock: Clock;
  logger: Logger;
  rules?: Partial<RetentionRules>;
  /** Prunes the command replay store (ReplayStore.prune); returns the rows deleted. */
  pruneCommands?: (now: number) => number;
  /** The outbox whose acknowledged rows are pruned (default: one on the store's database). */
  outbox?: Pick<Outbox, 'pruneAcked'>;
  /** The replay window in force (mqtt.retainAcked, changed by setConfig); default rules.outboxRetainAcked. */
  outboxRetainAcked?: () => number;
}

export class RetentionJob {
  readonly rules: RetentionRules;
  private timer?: TimerHandle;
  private first?: TimerHandle;
  private readonly groups: ParcelGroupStore;
  private readonly outbox: Pick<Outbox, 'pruneAcked'>;

  constructor(private readonly o: RetentionJobOptions) {
    this.rules = { ...DEFAULT_RETENTION, ...o.rules };
    this.groups = new ParcelGroupStore(o.store.db);
    this.outbox = o.outbox ?? new Outbox(o.store.db);
  }

  /** Runs one pass rules.firstPassAfterMs after start, then every rules.everyMs. */
  start(): void {
    if (this.first || this.timer) return;
    this.first = this.o.clock.setTimeout(() => {
      this.first = undefined;
      this.runSafely();
      this.timer = this.o.clock.setInterval(() => this.runSafely(), this.rules.everyMs);
    }, this.rules.firstPassAfterMs);
  }

  stop(): void {
    this.first?.cancel();
    this.timer?.cancel();
    this.first = undefined;
    this.timer = undefined;
  }

  /** One pass: each rule in bounded batches. Throws what the store throws (coded store errors). */
  runOnce(): PruneCounts {
    const r = this.rules;
    const now = this.o.clock.now();
    const s = this.o.store;
    const counts: PruneCounts = {
      audit: this.batches(() => s.transaction(() => s.pruneAuditBefore(now - r.auditKeepMs, r.batchRows))),
      doorSessions: this.batches(() => s.transaction(() => s.pruneDoorSessionsBefore(now - r.doorSessionKeepMs, r.batchRows))),
      parcels: this.batches(() => s.transaction(() => s.pruneClosedParcelsBefore(now - r.closedParcelKeepMs, r.batchRows))),
      groups: this.batches(() => s.transaction(() => this.groups.pruneSpentGroups(now - r.spentGroupKeepMs, r.batchRows))),
      groupMembers: 0,
      commands: this.o.pruneCommands?.(now) ?? 0,
      outbox: 0,
    };
    // After the parcels: members of parcels pruned in this pass go in the same pass.
    counts.groupMembers = this.batches(() => s.transaction(() => this.groups.pruneOrphanMembers(r.batchRows)));
    const retainAcked = this.o.outboxRetainAcked?.() ?? r.outboxRetainAcked;
    counts.outbox = this.batches(() => this.outbox.pruneAcked(retainAcked, r.batchRows));
    counts.audit += this.batches(() => s.transaction(() => s.pruneAuditBeyond(r.auditMaxRows, r.batchRows)));
    return counts;
  }

  private batches(step: () => number): number {
    let total = 0;
    for (let i = 0; i < this.rules.maxBatchesPerPass; i++) {
      const n = step();
      total += n;
      if (n < this.rules.batchRows) break;
    }
    return total;
  }

  private runSafely(): void {
    try {
      const c = this.runOnce();
      if (Object.values(c).some((n) => n > 0)) this.o.logger.info({ pruned: c }, 'retention pass');
    } catch (err) {
      // A full disk or a busy store: the next pass tries again; nothing here is urgent.
      this.o.logger.warn({ err }, 'retention pass failed; retried at the next pass');
    }
  }
}
