// Persisted attempt budgets (table attempt_budgets), one token bucket per scope: 'keypad' for
// typed codes, 'pin' for courier PIN logins at this locker, 'pin:<carrier>/<courier>' per
// configured courier. The rules are the pure functions of attemptBudget.ts.
//
// Restarts and clock steps: within one process a bucket refills by the monotonic clock, so a
// wall clock stepping backwards or forwards (NTP on a Pi without a battery clock) neither
// freezes nor grants tries. Across a restart the downtime is not credited: a bucket continues
// from the tries it had when last written, refilling from the moment this process started.
// Power-cycling the locker therefore never gives an attacker a try back (it costs legitimate
// users at most the refill of the downtime).
import { type Clock } from '../../kernel/clock.js';
import { type BucketCheck, type BucketPolicy, type BucketState, check, fullBucket, giveBack, take } from './attemptBudget.js';

export interface BudgetRow {
  tokens: number;
  /** Wall-clock time of the last write (for people reading the table; not used for refills). */
  updatedAt: number;
  /** Wall-clock time of the last alarm raised for this scope; 0 for never. */
  alarmedAt: number;
}

export interface BudgetStore {
  budget(scope: string): BudgetRow | undefined;
  putBudget(scope: string, row: BudgetRow): void;
}

/** At most one alarm per scope in this span: a steady prankster does not flood the operator. */
export const BUDGET_ALARM_EVERY_MS = 3_600_000;

interface Entry {
  bucket: BucketState;
  alarmedAt: number;
}

export class BudgetLedger {
  private readonly entries = new Map<string, Entry>();
  private readonly startedAt: number;

  constructor(
    private readonly store: BudgetStore,
    private readonly clock: Clock,
  ) {
    this.startedAt = clock.monotonic();
  }

  /** May one attempt be made in this scope now? */
  check(scope: string, policy: BucketPolicy): BucketCheck {
    return check(this.entry(scope, policy).bucket, this.clock.monotonic(), policy);
  }

  /**
   * Takes one try. Undefined when none is left (refuse the attempt without evaluating it).
   * `persist` writes the new state; call it inside the transaction that records the attempt.
   * `alarm` is true when this took the last try and no alarm was raised for the scope lately.
   */
  take(scope: string, policy: BucketPolicy): { emptied: boolean; alarm: boolean; persist: () => void } | undefined {
    const e = this.entry(scope, policy);
    const out = take(e.bucket, this.clock.monotonic(), policy);
    if (!out) return undefined;
    e.bucket = out.state;
    const now = this.clock.now();
    const alarm = out.emptied && (e.alarmedAt === 0 || now - e.alarmedAt >= BUDGET_ALARM_EVERY_MS || now < e.alarmedAt);
    if (alarm) e.alarmedAt = now;
    return { emptied: out.emptied, alarm, persist: () => this.write(scope, e) };
  }

  /** Puts back a try taken for an attempt that was right. Persists at once. */
  giveBack(scope: string, policy: BucketPolicy): void {
    const e = this.entry(scope, policy);
    e.bucket = giveBack(e.bucket, this.clock.monotonic(), policy);
    this.write(scope, e);
  }

  private entry(scope: string, policy: BucketPolicy): Entry {
    let e = this.entries.get(scope);
    if (!e) {
      const row = this.store.budget(scope);
      e = row ? { bucket: { tokens: row.tokens, at: this.startedAt }, alarmedAt: row.alarmedAt } : { bucket: fullBucket(policy, this.startedAt), alarmedAt: 0 };
      this.entries.set(scope, e);
    }
    return e;
  }

  private write(scope: string, e: Entry): void {
    // e.bucket was refilled up to now by the take or give-back that changed it.
    this.store.putBudget(scope, { tokens: e.bucket.tokens, updatedAt: this.clock.now(), alarmedAt: e.alarmedAt });
  }
}
