import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../src/sync/backoff.js';
import { seededRandom, type RandomSource } from '../../../src/random.js';

/** A random source whose fractions are fixed: 0 gives the floor, all-ones the cap. */
function constantRandom(byte: number): RandomSource {
  return { bytes: (n) => new Uint8Array(n).fill(byte) };
}

describe('Backoff (exponential, full jitter)', () => {
  it('doubles the cap per attempt up to the maximum', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1_000, random: constantRandom(0xff) });
    const caps: number[] = [];
    for (let i = 0; i < 7; i++) {
      caps.push(b.cap());
      b.next();
    }
    expect(caps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('draws each delay from [0, cap]: the largest fraction gives the cap, zero gives 0', () => {
    const high = new Backoff({ baseMs: 100, maxMs: 10_000, random: constantRandom(0xff) });
    expect([high.next(), high.next(), high.next()]).toEqual([100, 200, 400]);
    const low = new Backoff({ baseMs: 100, maxMs: 10_000, random: constantRandom(0) });
    expect([low.next(), low.next(), low.next()]).toEqual([0, 0, 0]);
  });

  it('spreads a fleet: 1000 lockers at the same attempt do not pick the same delay', () => {
    const random = seededRandom('fleet');
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ baseMs: 1_000, maxMs: 60_000, random });
      for (let i = 0; i < 5; i++) b.next();
      return b.next();
    });
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(32_000);
    }
    expect(new Set(delays).size).toBeGreaterThan(900);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(14_000);
    expect(mean).toBeLessThan(18_000);
  });

  it('starts over after reset (a successful connection)', () => {
    const b = new Backoff({ baseMs: 50, maxMs: 5_000, random: constantRandom(0xff) });
    for (let i = 0; i < 10; i++) b.next();
    expect(b.cap()).toBe(5_000);
    b.reset();
    expect(b.cap()).toBe(50);
    expect(b.next()).toBe(50);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new Backoff({ baseMs: 0, maxMs: 10, random: constantRandom(1) })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 100, maxMs: 10, random: constantRandom(1) })).toThrow(RangeError);
  });
});
