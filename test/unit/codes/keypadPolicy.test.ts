// The keypad maths and a simulation of the best attacker against the real budget functions
// (docs/security.md).
import { describe, expect, it } from 'vitest';
import { check, fullBucket, take, type BucketPolicy, type BucketState } from '../../../src/codes/attemptBudget.js';
import { assertKeypadPolicy, KEYPAD_HORIZON_MS, keypadOdds, maxRefillPerHour } from '../../../src/codes/keypadPolicy.js';
import { CodesConfig } from '../../../src/config/schema.js';

/** Plays "guess whenever a try is available" (the best pacing) for spanMs; returns the guesses made. */
function bestAttacker(policy: BucketPolicy, spanMs: number): number {
  let s: BucketState = fullBucket(policy, 0);
  let t = 0;
  let guesses = 0;
  for (;;) {
    const out = take(s, t, policy);
    if (out) {
      s = out.state;
      guesses++;
      continue;
    }
    const c = check(s, t, policy);
    if (c.allowed) continue;
    t += c.retryAfterMs;
    if (t > spanMs) return guesses;
  }
}

/** A small deterministic PRNG (xorshift32) for the Monte Carlo check. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

describe('keypad policy', () => {
  const defaults = CodesConfig.parse({});

  it('the default policy passes at 24 live codes (the demo locker) with the printed figures', () => {
    const odds = assertKeypadPolicy({ ...defaults, liveCodes: 24 });
    expect(odds.guesses).toBe(10 + 60 * 720);
    expect(odds.unionBound).toBeLessThan(0.000105);
    expect(odds.exact).toBeLessThanOrEqual(odds.unionBound);
  });

  it('the default policy passes up to 231 live codes and refuses 232', () => {
    expect(keypadOdds({ ...defaults, liveCodes: 231 }).ok).toBe(true);
    expect(keypadOdds({ ...defaults, liveCodes: 232 }).ok).toBe(false);
  });

  it('8-digit codes with the default budget miss the target: CODE_POLICY_WEAK with a rate that would pass', () => {
    expect(() => assertKeypadPolicy({ ...defaults, length: 8, liveCodes: 24 })).toThrow(/CODE_POLICY_WEAK/);
    const rate = maxRefillPerHour(8, defaults.burst, 24);
    expect(keypadOdds({ length: 8, burst: defaults.burst, refillPerHour: rate, liveCodes: 24 }).ok).toBe(true);
    expect(keypadOdds({ length: 8, burst: defaults.burst, refillPerHour: rate + 0.1, liveCodes: 24 }).ok).toBe(false);
  });

  it('the simulated best attacker makes exactly the guesses the maths assumes, and no other pacing more', () => {
    for (const policy of [{ burst: 10, refillPerHour: 60 }, { burst: 5, refillPerHour: 2.5 }, { burst: 1, refillPerHour: 0.5 }]) {
      const n = bestAttacker(policy, KEYPAD_HORIZON_MS);
      expect(n).toBe(keypadOdds({ ...policy, length: 10, liveCodes: 1 }).guesses);
    }
  });

  it('Monte Carlo over a small code space agrees with the formula, and the union bound is above both', () => {
    // 6-digit codes, 40 live codes, an attacker with 5,000 distinct guesses.
    const space = 1_000_000;
    const k = 40;
    const n = 5_000;
    const random = xorshift(20261201);
    const trials = 4_000;
    let hits = 0;
    for (let trial = 0; trial < trials; trial++) {
      // The attacker tries codes 0..n-1; the live codes are uniform random.
      for (let j = 0; j < k; j++) {
        if (Math.floor(random() * space) < n) {
          hits++;
          break;
        }
      }
    }
    const empirical = hits / trials;
    const odds = keypadOdds({ length: 6, burst: n, refillPerHour: 0.01, liveCodes: k }, 0);
    expect(odds.guesses).toBe(n);
    expect(Math.abs(empirical - odds.exact)).toBeLessThan(0.02);
    expect(odds.unionBound).toBeGreaterThanOrEqual(odds.exact);
  });
});
