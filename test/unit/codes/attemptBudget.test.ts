import { describe, expect, it } from 'vitest';
import {
  check,
  failuresLeft,
  initialAttemptBudget,
  lockoutLength,
  recordFailure,
  recordSuccess,
  type AttemptBudgetConfig,
  type AttemptBudgetState,
} from '../../../src/codes/attemptBudget.js';

const cfg: AttemptBudgetConfig = { maxFailures: 3, lockoutBaseMs: 60_000, lockoutMaxMs: 240_000, failureWindowMs: 3_600_000 };
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1);

type Step =
  | { at: number; op: 'fail'; tripped?: boolean; lockoutMs?: number }
  | { at: number; op: 'success' }
  | { at: number; op: 'check'; allowed: boolean; retryAfterMs?: number; left?: number };

interface Scenario {
  name: string;
  start?: AttemptBudgetState;
  steps: Step[];
  end?: Partial<AttemptBudgetState>;
}

const scenarios: Scenario[] = [
  {
    name: 'the third wrong code locks the keypad for the base time',
    steps: [
      { at: 0, op: 'check', allowed: true, left: 3 },
      { at: 1_000, op: 'fail', tripped: false },
      { at: 2_000, op: 'check', allowed: true, left: 2 },
      { at: 3_000, op: 'fail', tripped: false },
      { at: 4_000, op: 'check', allowed: true, left: 1 },
      { at: 5_000, op: 'fail', tripped: true, lockoutMs: MIN },
      { at: 5_000, op: 'check', allowed: false, retryAfterMs: MIN, left: 0 },
      { at: 5_000 + MIN - 1, op: 'check', allowed: false, retryAfterMs: 1 },
      { at: 5_000 + MIN, op: 'check', allowed: true, left: 3 },
    ],
    end: { failures: 0, trips: 1, lockedUntil: T0 + 5_000 + MIN },
  },
  {
    name: 'each further trip doubles the lockout up to the cap',
    steps: [
      { at: 0, op: 'fail' },
      { at: 1, op: 'fail' },
      { at: 2, op: 'fail', tripped: true, lockoutMs: MIN },
      { at: 2 + MIN, op: 'fail' },
      { at: 3 + MIN, op: 'fail' },
      { at: 4 + MIN, op: 'fail', tripped: true, lockoutMs: 2 * MIN },
      { at: 4 + 3 * MIN, op: 'fail' },
      { at: 5 + 3 * MIN, op: 'fail' },
      { at: 6 + 3 * MIN, op: 'fail', tripped: true, lockoutMs: 4 * MIN },
      { at: 6 + 7 * MIN, op: 'fail' },
      { at: 7 + 7 * MIN, op: 'fail' },
      { at: 8 + 7 * MIN, op: 'fail', tripped: true, lockoutMs: 4 * MIN },
      { at: 8 + 7 * MIN, op: 'check', allowed: false, retryAfterMs: 4 * MIN },
    ],
    end: { trips: 4 },
  },
  {
    name: 'a wrong code while locked changes nothing',
    steps: [
      { at: 0, op: 'fail' },
      { at: 0, op: 'fail' },
      { at: 0, op: 'fail', tripped: true },
      { at: 10_000, op: 'fail', tripped: false, lockoutMs: 0 },
      { at: 10_000, op: 'check', allowed: false, retryAfterMs: MIN - 10_000 },
    ],
    end: { failures: 0, trips: 1, lastFailureAt: T0 },
  },
  {
    name: 'failures older than the window are forgotten',
    steps: [
      { at: 0, op: 'fail' },
      { at: 10 * MIN, op: 'fail' },
      { at: 70 * MIN - 1, op: 'check', allowed: true, left: 1 },
      { at: 70 * MIN, op: 'check', allowed: true, left: 3 },
      { at: 70 * MIN, op: 'fail', tripped: false },
    ],
    end: { failures: 1 },
  },
  {
    name: 'failures inside the window add up even when spread out',
    steps: [
      { at: 0, op: 'fail' },
      { at: 59 * MIN, op: 'fail' },
      { at: 118 * MIN, op: 'fail', tripped: true },
    ],
  },
  {
    name: 'a right code clears the failures but the next trip still escalates',
    start: { failures: 0, trips: 1, lockedUntil: T0 - 1_000, lastFailureAt: T0 - MIN - 1_000 },
    steps: [
      { at: 0, op: 'fail' },
      { at: 1, op: 'fail' },
      { at: 2, op: 'success' },
      { at: 3, op: 'check', allowed: true, left: 3 },
      { at: 4, op: 'fail' },
      { at: 5, op: 'fail' },
      { at: 6, op: 'fail', tripped: true, lockoutMs: 2 * MIN },
    ],
    end: { trips: 2 },
  },
  {
    name: 'earlier trips are forgotten after a quiet window past the lockout',
    start: { failures: 0, trips: 3, lockedUntil: T0, lastFailureAt: T0 - 4 * MIN },
    steps: [
      { at: 60 * MIN, op: 'fail' },
      { at: 60 * MIN, op: 'fail' },
      { at: 60 * MIN, op: 'fail', tripped: true, lockoutMs: MIN },
    ],
    end: { trips: 1 },
  },
  {
    name: 'trips are remembered when the quiet time is shorter than the window',
    start: { failures: 0, trips: 1, lockedUntil: T0, lastFailureAt: T0 - MIN },
    steps: [
      { at: 59 * MIN, op: 'fail' },
      { at: 59 * MIN, op: 'fail' },
      { at: 59 * MIN, op: 'fail', tripped: true, lockoutMs: 2 * MIN },
    ],
  },
  {
    name: 'a wall clock stepping back during a lockout does not stretch it',
    start: { failures: 0, trips: 1, lockedUntil: T0 + 2 * MIN, lastFailureAt: T0 },
    steps: [
      { at: -365 * 24 * 60 * MIN, op: 'check', allowed: false, retryAfterMs: 2 * MIN },
      { at: MIN, op: 'check', allowed: false, retryAfterMs: MIN },
      { at: 2 * MIN, op: 'check', allowed: true },
    ],
  },
];

describe('attempt budget', () => {
  it.each(scenarios)('$name', ({ start, steps, end }) => {
    let state: AttemptBudgetState = { ...(start ?? initialAttemptBudget) };
    steps.forEach((step, i) => {
      const now = T0 + step.at;
      const where = `step ${i} (${step.op} at +${step.at})`;
      if (step.op === 'fail') {
        const out = recordFailure(state, now, cfg);
        if (step.tripped !== undefined) expect(out.tripped, where).toBe(step.tripped);
        if (step.lockoutMs !== undefined) expect(out.lockoutMs, where).toBe(step.lockoutMs);
        state = out.state;
      } else if (step.op === 'success') {
        state = recordSuccess(state);
      } else {
        const result = check(state, now);
        expect(result.allowed, where).toBe(step.allowed);
        if (step.retryAfterMs !== undefined) expect(result.allowed ? undefined : result.retryAfterMs, where).toBe(step.retryAfterMs);
        if (step.left !== undefined) expect(failuresLeft(state, now, cfg), where).toBe(step.left);
      }
    });
    if (end) expect(state).toMatchObject(end);
  });

  it('does not mutate the state it is given', () => {
    const state = { ...initialAttemptBudget };
    recordFailure(state, T0, cfg);
    recordSuccess({ ...state, failures: 2 });
    expect(state).toEqual(initialAttemptBudget);
  });

  it('reports when the lockout ends', () => {
    let state: AttemptBudgetState = { ...initialAttemptBudget };
    for (let i = 0; i < 3; i++) state = recordFailure(state, T0, cfg).state;
    expect(check(state, T0 + 1_000)).toEqual({ allowed: false, lockedUntil: T0 + MIN, retryAfterMs: MIN - 1_000 });
  });

  it.each([
    [0, MIN],
    [1, 2 * MIN],
    [2, 4 * MIN],
    [3, 4 * MIN],
    [1_000_000, 4 * MIN],
  ])('lockoutLength after %i trips is %i ms', (trips, expected) => {
    expect(lockoutLength(trips, cfg)).toBe(expected);
  });

  it('locks after a single failure when maxFailures is 1', () => {
    const out = recordFailure(initialAttemptBudget, T0, { ...cfg, maxFailures: 1 });
    expect(out.tripped).toBe(true);
    expect(check(out.state, T0).allowed).toBe(false);
  });
});
