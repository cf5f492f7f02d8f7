// Attempt budgets as token buckets: pure functions over a small state, so the rules are tested
// without timers and the same functions drive the keypad, the courier PINs and the simulation
// of the best attacker (docs/security.md).
//
// A bucket holds at most `burst` tries and gains `refillPerHour` tries per hour, continuously.
// A wrong attempt takes one try; nothing puts a try back except time (a right code does not
// clear anything: issue 7, finding 1). With no try left the budget refuses every attempt, the
// right one included, until the next try has grown back. Over any span of t hours at most
// burst + refillPerHour * t attempts can be made, whatever the pacing: the bound the keypad
// maths relies on.
//
// `at` is a time on a clock that never goes backwards (the caller uses the monotonic clock
// within one process, see budgetLedger.ts); a time before `at` refills nothing.

export interface BucketPolicy {
  /** Tries available after a long quiet time. */
  burst: number;
  /** Tries regained per hour. */
  refillPerHour: number;
}

export interface BucketState {
  /** Tries available at `at`, 0..burst (fractional while refilling). */
  tokens: number;
  /** When `tokens` was computed (ms). */
  at: number;
}

const HOUR_MS = 3_600_000;
/** Rounding slack so that 0.9999999 after float arithmetic counts as a whole try. */
const EPSILON = 1e-9;

export function fullBucket(policy: BucketPolicy, at: number): BucketState {
  return { tokens: policy.burst, at };
}

/** The state at `now`: refilled by the time since `at`, capped at the burst. */
export function refill(state: BucketState, now: number, policy: BucketPolicy): BucketState {
  const tokens = clampTokens(state.tokens, policy);
  if (now <= state.at) return { tokens, at: state.at };
  const gained = ((now - state.at) * policy.refillPerHour) / HOUR_MS;
  return { tokens: Math.min(policy.burst, tokens + gained), at: now };
}

export type BucketCheck = { allowed: true; left: number } | { allowed: false; retryAfterMs: number };

/** May one attempt be made at `now`? `left` counts whole tries including this one. */
export function check(state: BucketState, now: number, policy: BucketPolicy): BucketCheck {
  const s = refill(state, now, policy);
  if (s.tokens + EPSILON >= 1) return { allowed: true, left: Math.floor(s.tokens + EPSILON) };
  return { allowed: false, retryAfterMs: msUntilOneTry(s, policy) };
}

/**
 * Takes one try at `now`. Returns undefined when none is left (the attempt must be refused
 * without being evaluated); otherwise the new state and `emptied` when it took the last try.
 */
export function take(state: BucketState, now: number, policy: BucketPolicy): { state: BucketState; emptied: boolean } | undefined {
  const s = refill(state, now, policy);
  if (s.tokens + EPSILON < 1) return undefined;
  const tokens = Math.max(0, s.tokens - 1);
  return { state: { tokens, at: s.at }, emptied: tokens + EPSILON < 1 };
}

/**
 * Gives back one try taken for an attempt that turned out right (a courier PIN is reserved
 * before the slow hash so concurrent guesses cannot overspend). Never above the burst.
 */
export function giveBack(state: BucketState, now: number, policy: BucketPolicy): BucketState {
  const s = refill(state, now, policy);
  return { tokens: Math.min(policy.burst, s.tokens + 1), at: s.at };
}

/** Whole tries left at `now` (0 when the next attempt would be refused). */
export function triesLeft(state: BucketState, now: number, policy: BucketPolicy): number {
  const c = check(state, now, policy);
  return c.allowed ? c.left : 0;
}

/** How long until one whole try is available (0 if one is). */
export function msUntilOneTry(state: BucketState, policy: BucketPolicy): number {
  const missing = 1 - state.tokens;
  if (missing <= EPSILON) return 0;
  if (policy.refillPerHour <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil((missing * HOUR_MS) / policy.refillPerHour);
}

/** The most attempts any pacing can make within `spanMs`, starting from a full bucket. */
export function maxAttemptsWithin(spanMs: number, policy: BucketPolicy): number {
  return policy.burst + Math.floor((Math.max(0, spanMs) * policy.refillPerHour) / HOUR_MS);
}

function clampTokens(tokens: number, policy: BucketPolicy): number {
  if (!Number.isFinite(tokens) || tokens < 0) return 0;
  return Math.min(tokens, policy.burst);
}
