// The keypad maths (docs/security.md): the chance that a stranger at the best
// pacing opens any door within 30 days by typing codes, for a code length, a token-bucket
// budget and the most live codes the locker may hold. `lockerd check-config` prints it and
// refuses a policy above KEYPAD_TARGET_PROBABILITY.
//
// An attacker makes at most n = burst + floor(refillPerHour * 720) typed guesses in 30 days
// (attemptBudget.ts: no pacing beats "try whenever a try is available", and nothing but time
// refills). With k live codes among N = 10^length, guess i hits with probability at most
// k / (N - i) even for an attacker who never repeats a guess, so
//   P(any door) <= sum_{i<n} k/(N-i) <= n*k / (N - n)          (union bound, what is enforced)
// and, for codes drawn afresh and independently of the guesses,
//   P(any door) = 1 - (1 - k/N)^n                               (exact in that model).
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { maxAttemptsWithin, type BucketPolicy } from './attemptBudget.js';

export const KEYPAD_TARGET_PROBABILITY = 0.001;
export const KEYPAD_HORIZON_MS = 30 * 24 * 3_600_000;

export interface KeypadPolicy extends BucketPolicy {
  /** Digits per code. */
  length: number;
  /** The most codes live at once (stored parcels, expired ones not yet retrieved, announced ones with a code). */
  liveCodes: number;
}

export interface KeypadOdds {
  /** Most typed guesses within the horizon. */
  guesses: number;
  /** 10^length. */
  space: number;
  liveCodes: number;
  /** 1 - (1 - k/N)^n. */
  exact: number;
  /** n*k/(N-n), capped at 1: the figure that is enforced. */
  unionBound: number;
  target: number;
  ok: boolean;
}

export function keypadOdds(policy: KeypadPolicy, horizonMs = KEYPAD_HORIZON_MS, target = KEYPAD_TARGET_PROBABILITY): KeypadOdds {
  const space = 10 ** policy.length;
  const guesses = maxAttemptsWithin(horizonMs, policy);
  const k = Math.max(0, policy.liveCodes);
  const exact = k >= space ? 1 : -Math.expm1(guesses * Math.log1p(-k / space));
  const unionBound = guesses >= space ? 1 : Math.min(1, (guesses * k) / (space - guesses));
  return { guesses, space, liveCodes: k, exact, unionBound, target, ok: unionBound <= target };
}

/** The largest refill rate (tries per hour) that keeps the policy within the target. */
export function maxRefillPerHour(length: number, burst: number, liveCodes: number, horizonMs = KEYPAD_HORIZON_MS, target = KEYPAD_TARGET_PROBABILITY): number {
  const space = 10 ** length;
  // n*k/(N-n) <= t  <=>  n <= t*N/(k+t)
  const maxGuesses = Math.floor((target * space) / (Math.max(1, liveCodes) + target));
  return Math.max(0, ((maxGuesses - burst) * 3_600_000) / horizonMs);
}

/** One line for people: what the policy allows and what it risks. */
export function describeKeypadOdds(policy: KeypadPolicy, odds: KeypadOdds): string {
  const pct = (p: number): string => `${(p * 100).toPrecision(3)} %`;
  return (
    `keypad: ${policy.length}-digit codes, burst ${policy.burst}, ${policy.refillPerHour} tries/h, up to ${odds.liveCodes} live codes: ` +
    `at most ${odds.guesses} guesses in 30 days, P(any door) <= ${pct(odds.unionBound)} (exact 1-(1-k/10^L)^n: ${pct(odds.exact)}); ` +
    `limit ${pct(odds.target)}: ${odds.ok ? 'ok' : 'TOO WEAK'}`
  );
}

/** Throws CODE_POLICY_WEAK when the policy misses the target. */
export function assertKeypadPolicy(policy: KeypadPolicy): KeypadOdds {
  const odds = keypadOdds(policy);
  if (!odds.ok) {
    const suggestion = maxRefillPerHour(policy.length, policy.burst, policy.liveCodes);
    throw new LockerError(
      ErrorCodes.CODE_POLICY_WEAK,
      `${describeKeypadOdds(policy, odds)}; use longer codes, fewer live codes, or codes.refillPerHour <= ${suggestion.toFixed(2)}`,
      { probability: odds.unionBound, target: odds.target, guesses: odds.guesses, liveCodes: odds.liveCodes, length: policy.length },
    );
  }
  return odds;
}
