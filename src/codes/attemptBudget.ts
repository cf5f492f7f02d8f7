// The per-locker budget of wrong codes. Pure functions over a small state that the caller
// persists (table code_attempts), so the budget survives restarts and is tested without timers.
//
// After maxFailures wrong codes the keypad locks for lockoutBaseMs * 2^trips, capped at
// lockoutMaxMs; trips counts earlier lockouts, so a patient attacker waits longer each time.
// Failures, and after a quiet period also trips, are forgotten after failureWindowMs.
import type { LockerConfig } from '../config/schema.js';

export type AttemptBudgetConfig = Pick<LockerConfig['codes'], 'maxFailures' | 'lockoutBaseMs' | 'lockoutMaxMs' | 'failureWindowMs'>;

/** Times are epoch milliseconds; 0 means "never", matching the NOT NULL columns of code_attempts. */
export interface AttemptBudgetState {
  failures: number;
  trips: number;
  lockedUntil: number;
  lastFailureAt: number;
}

export const initialAttemptBudget: Readonly<AttemptBudgetState> = Object.freeze({ failures: 0, trips: 0, lockedUntil: 0, lastFailureAt: 0 });

export type AttemptCheck = { allowed: true } | { allowed: false; lockedUntil: number; retryAfterMs: number };

export interface FailureOutcome {
  state: AttemptBudgetState;
  /** True when this failure started a lockout (the moment to raise the operator alarm). */
  tripped: boolean;
  /** Length of the lockout that started; 0 when none did. */
  lockoutMs: number;
}

/** May a code be tried now? */
export function check(state: AttemptBudgetState, now: number): AttemptCheck {
  const remaining = remainingLockMs(state, now);
  return remaining > 0 ? { allowed: false, lockedUntil: state.lockedUntil, retryAfterMs: remaining } : { allowed: true };
}

/** Records one wrong code. A failure while locked changes nothing: the caller should not have tried. */
export function recordFailure(state: AttemptBudgetState, now: number, cfg: AttemptBudgetConfig): FailureOutcome {
  if (remainingLockMs(state, now) > 0) return { state, tripped: false, lockoutMs: 0 };
  const current = forgetStale(state, now, cfg);
  const failures = current.failures + 1;
  if (failures < cfg.maxFailures) {
    return { state: { ...current, failures, lastFailureAt: now }, tripped: false, lockoutMs: 0 };
  }
  const lockoutMs = lockoutLength(current.trips, cfg);
  return {
    state: { failures: 0, trips: current.trips + 1, lockedUntil: now + lockoutMs, lastFailureAt: now },
    tripped: true,
    lockoutMs,
  };
}

/**
 * A right code clears the failure count (legitimate pickups are far rarer than guesses, so
 * this gives an attacker nothing worth having) but keeps the trip count: escalation remembers
 * an earlier attack until the quiet window passes.
 */
export function recordSuccess(state: AttemptBudgetState): AttemptBudgetState {
  return state.failures === 0 ? state : { ...state, failures: 0 };
}

/** Wrong codes left before the next lockout; 0 while locked. */
export function failuresLeft(state: AttemptBudgetState, now: number, cfg: AttemptBudgetConfig): number {
  if (remainingLockMs(state, now) > 0) return 0;
  return Math.max(0, cfg.maxFailures - forgetStale(state, now, cfg).failures);
}

/** lockoutBaseMs * 2^trips, capped; computed without overflow for any trip count. */
export function lockoutLength(trips: number, cfg: Pick<AttemptBudgetConfig, 'lockoutBaseMs' | 'lockoutMaxMs'>): number {
  const doublings = Math.min(Math.max(0, trips), 40);
  return Math.min(cfg.lockoutBaseMs * 2 ** doublings, cfg.lockoutMaxMs);
}

/**
 * Time left on the lockout. When the wall clock has stepped backwards since the lockout began
 * (a Pi without a battery clock correcting itself), the wait is capped at the lockout's full
 * length instead of growing by the size of the step.
 */
function remainingLockMs(state: AttemptBudgetState, now: number): number {
  if (state.lockedUntil <= 0 || now >= state.lockedUntil) return 0;
  const fullLength = state.lockedUntil - state.lastFailureAt;
  return Math.min(state.lockedUntil - now, fullLength > 0 ? fullLength : state.lockedUntil - now);
}

function forgetStale(state: AttemptBudgetState, now: number, cfg: AttemptBudgetConfig): AttemptBudgetState {
  const lastActivity = Math.max(state.lastFailureAt, state.lockedUntil);
  if (lastActivity === 0 || now - lastActivity < cfg.failureWindowMs) return state;
  return { ...initialAttemptBudget };
}
