import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Backoff } from '../../../kernel/backoff.js';
import { packageRoot } from '../../../src/packageRoot.js';
import { randomFraction, seededRandom } from '../../../kernel/random.js';

const constant = (f: number) => () => f;

describe('Backoff (exponential, equal jitter: one formula for MQTT, the serial line and the scanner)', () => {
  it('doubles the cap per attempt up to the maximum', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1_000, fraction: constant(0.99) });
    const caps: number[] = [];
    for (let i = 0; i < 7; i++) {
      caps.push(b.cap());
      b.next();
    }
    expect(caps).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('draws each delay from [cap/2, cap] and never below the base', () => {
    const high = new Backoff({ baseMs: 100, maxMs: 10_000, fraction: constant(1) });
    expect([high.next(), high.next(), high.next()]).toEqual([100, 200, 400]);
    const low = new Backoff({ baseMs: 100, maxMs: 10_000, fraction: constant(0) });
    expect([low.next(), low.next(), low.next()]).toEqual([100, 100, 200]);
    // The scanner's and the lock bus's old figures with jitter 0.5: 500, 750, 1500, 3000, 6000, 6000.
    const mid = new Backoff({ baseMs: 500, maxMs: 8_000, fraction: constant(0.5) });
    expect(Array.from({ length: 6 }, () => mid.next())).toEqual([500, 750, 1500, 3000, 6000, 6000]);
  });

  it('spreads a fleet: 1000 lockers at the same attempt do not pick the same delay', () => {
    const random = seededRandom('fleet');
    const delays = Array.from({ length: 1000 }, () => {
      const b = new Backoff({ baseMs: 1_000, maxMs: 60_000, fraction: () => randomFraction(random) });
      for (let i = 0; i < 5; i++) b.next();
      return b.next();
    });
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(16_000);
      expect(d).toBeLessThanOrEqual(32_000);
    }
    expect(new Set(delays).size).toBeGreaterThan(900);
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(23_000);
    expect(mean).toBeLessThan(25_000);
  });

  it('starts over after reset (a successful connection)', () => {
    const b = new Backoff({ baseMs: 50, maxMs: 5_000, fraction: constant(1) });
    for (let i = 0; i < 10; i++) b.next();
    expect(b.cap()).toBe(5_000);
    b.reset();
    expect(b.cap()).toBe(50);
    expect(b.next()).toBe(50);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new Backoff({ baseMs: 0, maxMs: 10, fraction: constant(0) })).toThrow(RangeError);
    expect(() => new Backoff({ baseMs: 100, maxMs: 10, fraction: constant(0) })).toThrow(RangeError);
  });

  it('is the only retry formula: the drivers and the sync client use it, and hal draws no Math.random', () => {
    const read = (p: string): string => readFileSync(join(packageRoot(), p), 'utf8');
    for (const p of ['hal/buses/serialLockBus.ts', 'hal/scanner/serialScanner.ts', 'src/sync/syncClient.ts']) {
      const text = read(p);
      expect({ p, usesBackoff: text.includes("kernel/backoff.js'"), ownFormula: /\* 2 \*\*/.test(text), mathRandom: text.includes('Math.random') }).toEqual({
        p,
        usesBackoff: true,
        ownFormula: false,
        mathRandom: false,
      });
    }
  });
});

describe('timers are injected', () => {
  it('the kiosk heartbeat runs on the injected clock, not a bare setInterval', () => {
    const text = readFileSync(join(packageRoot(), 'src/kiosk/server.ts'), 'utf8');
    expect(text).not.toMatch(/(^|[^.\w])set(Interval|Timeout)\(/m);
  });
});
