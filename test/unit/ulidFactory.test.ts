import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel/clock.js';
import { createIdFactory, isUlid, newBootId, ulidTime } from '../../src/ids.js';
import { cryptoRandom, randomFraction, randomInt, seededRandom } from '../../kernel/random.js';

describe('ULID factory', () => {
  it('makes valid ULIDs stamped with the injected clock', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const next = createIdFactory(clock, cryptoRandom());
    const id = next();
    expect(isUlid(id)).toBe(true);
    expect(id).toHaveLength(26);
    expect(ulidTime(id)).toBe(clock.now());
  });

  it('is strictly increasing within one millisecond', () => {
    const next = createIdFactory(new ManualClock(), cryptoRandom());
    const ids = Array.from({ length: 2000 }, () => next());
    const sorted = [...ids].sort();
    expect(ids).toEqual(sorted);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('stays increasing when the wall clock steps backwards', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const next = createIdFactory(clock, cryptoRandom());
    const before = next();
    clock.set(clock.now() - 3_600_000);
    const after = next();
    expect(after > before).toBe(true);
    await clock.advance(7_200_000);
    const later = next();
    expect(later > after).toBe(true);
    expect(ulidTime(later)).toBe(clock.now());
  });

  it('is reproducible with a seeded random source', () => {
    const make = (): string[] => {
      const next = createIdFactory(new ManualClock(), seededRandom('ids'));
      return [next(), next(), next()];
    };
    expect(make()).toEqual(make());
  });

  it('does not fall back to the system time when the clock reads 0', () => {
    const next = createIdFactory(new ManualClock(0), seededRandom(1));
    expect(ulidTime(next())).toBe(1);
  });

  it('gives a new boot id per start', () => {
    const clock = new ManualClock();
    const a = newBootId(clock, cryptoRandom());
    const b = newBootId(clock, cryptoRandom());
    expect(isUlid(a)).toBe(true);
    expect(a).not.toBe(b);
  });
});

describe('random sources', () => {
  it('seeded sources repeat for one seed and differ across seeds', () => {
    expect(Buffer.from(seededRandom('a').bytes(100))).toEqual(Buffer.from(seededRandom('a').bytes(100)));
    expect(Buffer.from(seededRandom('a').bytes(100))).not.toEqual(Buffer.from(seededRandom('b').bytes(100)));
    const r = seededRandom(5);
    const joined = Buffer.concat([r.bytes(7), r.bytes(50), r.bytes(3)]);
    expect(joined).toEqual(Buffer.from(seededRandom(5).bytes(60)));
  });

  it('cryptoRandom returns the requested number of bytes', () => {
    expect(cryptoRandom().bytes(0)).toHaveLength(0);
    expect(cryptoRandom().bytes(33)).toHaveLength(33);
  });

  it('randomInt stays in range and covers it evenly', () => {
    const r = seededRandom('int');
    const counts = Array<number>(7).fill(0);
    for (let i = 0; i < 7000; i++) {
      const v = randomInt(r, 7);
      if (!(v >= 0 && v < 7 && Number.isInteger(v))) throw new Error(`out of range: ${v}`);
      counts[v]! += 1;
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(() => randomInt(r, 0)).toThrow(RangeError);
  });

  it('randomFraction is in [0, 1)', () => {
    const r = seededRandom('frac');
    let sum = 0;
    for (let i = 0; i < 5000; i++) {
      const f = randomFraction(r);
      if (!(f >= 0 && f < 1)) throw new Error(`out of range: ${f}`);
      sum += f;
    }
    expect(Math.abs(sum / 5000 - 0.5)).toBeLessThan(0.02);
    const ones: { bytes(n: number): Uint8Array } = { bytes: (n) => new Uint8Array(n).fill(255) };
    expect(randomFraction(ones)).toBeLessThan(1);
  });
});
