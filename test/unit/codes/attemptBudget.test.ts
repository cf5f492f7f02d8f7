import { describe, expect, it } from 'vitest';
import { check, fullBucket, giveBack, maxAttemptsWithin, msUntilOneTry, refill, take, triesLeft, type BucketPolicy, type BucketState } from '../../../src/codes/attemptBudget.js';
import { BudgetLedger, BUDGET_ALARM_EVERY_MS, type BudgetRow, type BudgetStore } from '../../../src/codes/budgetLedger.js';
import { type Clock, type TimerHandle } from '../../../kernel/clock.js';

const policy: BucketPolicy = { burst: 3, refillPerHour: 6 }; // one try every 10 minutes
const MIN = 60_000;

function spend(state: BucketState, at: number): BucketState {
  const out = take(state, at, policy);
  if (!out) throw new Error('no try left');
  return out.state;
}

describe('token bucket', () => {
  it('allows the burst, then refuses, and regains one try per interval', () => {
    let s = fullBucket(policy, 0);
    expect(triesLeft(s, 0, policy)).toBe(3);
    s = spend(s, 0);
    s = spend(s, 0);
    const last = take(s, 0, policy);
    expect(last?.emptied).toBe(true);
    s = last!.state;
    expect(take(s, 0, policy)).toBeUndefined();
    expect(check(s, 0, policy)).toEqual({ allowed: false, retryAfterMs: 10 * MIN });
    expect(check(s, 10 * MIN - 1, policy).allowed).toBe(false);
    expect(check(s, 10 * MIN, policy)).toEqual({ allowed: true, left: 1 });
  });

  it('never holds more than the burst, however long the quiet time', () => {
    const s = refill({ tokens: 0, at: 0 }, 1_000 * 3_600_000, policy);
    expect(s.tokens).toBe(3);
    expect(giveBack(fullBucket(policy, 0), 0, policy).tokens).toBe(3);
  });

  it('refills nothing for a time before the last update (a clock that stepped back)', () => {
    const s = { tokens: 0.5, at: 100 * MIN };
    expect(refill(s, 50 * MIN, policy)).toEqual({ tokens: 0.5, at: 100 * MIN });
    expect(msUntilOneTry(s, policy)).toBe(5 * MIN);
  });

  it('treats a damaged stored value as empty', () => {
    expect(refill({ tokens: Number.NaN, at: 0 }, 0, policy).tokens).toBe(0);
    expect(refill({ tokens: -4, at: 0 }, 0, policy).tokens).toBe(0);
    expect(refill({ tokens: 1e9, at: 0 }, 0, policy).tokens).toBe(3);
  });

  it('a right attempt gives back only the try it took', () => {
    let s = spend(fullBucket(policy, 0), 0);
    s = giveBack(s, 0, policy);
    expect(s.tokens).toBe(3);
  });

  it('no pacing makes more attempts than burst + refill * time', () => {
    const span = 48 * 3_600_000;
    const bound = maxAttemptsWithin(span, policy);
    expect(bound).toBe(3 + 48 * 6);
    // Pacings: as fast as allowed, once a minute, every 7 minutes, bursts every 3 hours.
    for (const stepMs of [1, MIN, 7 * MIN, 180 * MIN]) {
      let s = fullBucket(policy, 0);
      let attempts = 0;
      for (let t = 0; t <= span; ) {
        const out = take(s, t, policy);
        if (out) {
          s = out.state;
          attempts++;
          continue;
        }
        const c = check(s, t, policy);
        t += c.allowed ? stepMs : Math.max(stepMs, c.retryAfterMs);
      }
      expect(attempts).toBeLessThanOrEqual(bound);
    }
  });
});

class SteppingClock implements Clock {
  wall = Date.UTC(2026, 0, 1);
  mono = 0;
  now(): number {
    return this.wall;
  }
  monotonic(): number {
    return this.mono;
  }
  advance(ms: number): void {
    this.wall += ms;
    this.mono += ms;
  }
  setTimeout(): TimerHandle {
    return { cancel: () => {} };
  }
  setInterval(): TimerHandle {
    return { cancel: () => {} };
  }
  sleep(): Promise<void> {
    return Promise.resolve();
  }
}

class MemoryStore implements BudgetStore {
  readonly rows = new Map<string, BudgetRow>();
  budget(scope: string): BudgetRow | undefined {
    return this.rows.get(scope);
  }
  putBudget(scope: string, row: BudgetRow): void {
    this.rows.set(scope, { ...row });
  }
}

describe('budget ledger', () => {
  function spendAll(ledger: BudgetLedger): number {
    let n = 0;
    for (;;) {
      const out = ledger.take('keypad', policy);
      if (!out) return n;
      out.persist();
      n++;
    }
  }

  it('keeps an empty bucket empty across a restart, however long the locker was off', () => {
    const store = new MemoryStore();
    const clock = new SteppingClock();
    expect(spendAll(new BudgetLedger(store, clock))).toBe(3);
    clock.wall += 7 * 24 * 3_600_000; // off for a week; the new process's monotonic clock starts again at 0
    clock.mono = 0;
    const after = new BudgetLedger(store, clock);
    expect(after.check('keypad', policy).allowed).toBe(false);
    clock.advance(10 * MIN);
    expect(after.check('keypad', policy)).toEqual({ allowed: true, left: 1 });
  });

  it('a restart every minute gives an attacker nothing', () => {
    const store = new MemoryStore();
    const clock = new SteppingClock();
    let attempts = 0;
    const span = 24 * 3_600_000;
    for (let t = 0; t < span; t += MIN) {
      const ledger = new BudgetLedger(store, clock);
      attempts += spendAll(ledger);
      clock.advance(MIN);
    }
    // One minute of each process's life refills 0.1 tries that the next process never sees,
    // so the restarts cost the attacker; they never gain.
    expect(attempts).toBeLessThanOrEqual(maxAttemptsWithin(span, policy));
  });

  it('wall clock steps neither freeze nor refill the bucket', () => {
    const store = new MemoryStore();
    const clock = new SteppingClock();
    const ledger = new BudgetLedger(store, clock);
    spendAll(ledger);
    clock.wall += 30 * 24 * 3_600_000; // NTP jumps forward a month
    expect(ledger.check('keypad', policy).allowed).toBe(false);
    clock.wall -= 60 * 24 * 3_600_000; // and back two months
    clock.mono += 10 * MIN;
    expect(ledger.check('keypad', policy)).toEqual({ allowed: true, left: 1 });
  });

  it('raises the alarm when a bucket empties, at most once per hour', () => {
    const store = new MemoryStore();
    const clock = new SteppingClock();
    const ledger = new BudgetLedger(store, clock);
    const alarms: boolean[] = [];
    const once = (): void => {
      const out = ledger.take('keypad', policy);
      if (!out) throw new Error('no try left');
      alarms.push(out.alarm);
      out.persist();
    };
    once();
    once();
    once();
    expect(alarms).toEqual([false, false, true]);
    // A steady prankster empties it again every 10 minutes for 200 minutes.
    for (let i = 0; i < 20; i++) {
      clock.advance(10 * MIN);
      once();
    }
    const raised = alarms.filter(Boolean).length;
    expect(raised).toBe(1 + Math.floor((200 * MIN) / BUDGET_ALARM_EVERY_MS));
    expect(store.rows.get('keypad')?.alarmedAt).toBeGreaterThan(0);
  });
});
