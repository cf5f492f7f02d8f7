import { describe, expect, it } from 'vitest';
import { codeDigest, generateCode } from '../../../src/codes/pickupCode.js';
import { isLockerError } from '../../../kernel/errors.js';
import { seededRandom, type RandomSource } from '../../../kernel/random.js';

/** Hands out the given bytes in order, then fails the test if more are asked for. */
function scriptedRandom(bytes: number[]): RandomSource {
  let i = 0;
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let k = 0; k < n; k++) {
        if (i >= bytes.length) return out.subarray(0, k);
        out[k] = bytes[i++] ?? 0;
      }
      return out;
    },
  };
}

function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('generateCode', () => {
  it.each([6, 7, 8, 9, 10])('makes %i decimal digits', (length) => {
    const random = seededRandom(`len-${length}`);
    for (let i = 0; i < 200; i++) {
      const code = generateCode(length, random);
      expect(code).toMatch(new RegExp(`^[0-9]{${length}}$`));
    }
  });

  it.each([5, 11, 0, -8, 7.5, Number.NaN])('refuses length %s', (length) => {
    expect(() => generateCode(length, seededRandom(1))).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });

  it('is reproducible with the same seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => generateCode(8, r))(seededRandom('s')));
    const b = Array.from({ length: 5 }, ((r) => () => generateCode(8, r))(seededRandom('s')));
    const c = Array.from({ length: 5 }, ((r) => () => generateCode(8, r))(seededRandom('t')));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('discards bytes 250..255 instead of folding them onto 0..5', () => {
    // 255 % 10 would be 5 and 250 % 10 would be 0: a biased generator emits them.
    const code = generateCode(6, scriptedRandom([255, 250, 3, 13, 252, 249, 0, 251, 120, 77, 64, 99, 1, 2]));
    expect(code).toBe('339007');
  });

  it('keeps asking for bytes when a whole batch is rejected', () => {
    const code = generateCode(6, scriptedRandom([...Array<number>(20).fill(253), 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(code).toBe('123456');
  });

  it('spreads digits evenly at every position, the first one included', () => {
    const random = seededRandom('distribution');
    const n = 20_000;
    const length = 8;
    const perPosition = Array.from({ length }, () => Array<number>(10).fill(0));
    for (let i = 0; i < n; i++) {
      const code = generateCode(length, random);
      for (let p = 0; p < length; p++) {
        const row = perPosition[p];
        if (row) row[Number(code[p])]! += 1;
      }
    }
    // Chi-square with 9 degrees of freedom: 27.9 is the 0.1 % tail.
    for (const counts of perPosition) expect(chiSquare(counts)).toBeLessThan(27.9);
    // A leading zero is as likely as any other leading digit (about n/10).
    expect(perPosition[0]![0]).toBeGreaterThan(n / 10 - 300);
    expect(perPosition[0]![0]).toBeLessThan(n / 10 + 300);
  });
});

describe('codeDigest', () => {
  it('is HMAC-SHA256 in hex (RFC 4231 test case 1)', () => {
    const key = new Uint8Array(20).fill(0x0b);
    expect(codeDigest(key, 'Hi There')).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  });

  it('depends on the secret and on the code', () => {
    const s1 = new Uint8Array(32).fill(1);
    const s2 = new Uint8Array(32).fill(2);
    expect(codeDigest(s1, '12345678')).toMatch(/^[0-9a-f]{64}$/);
    expect(codeDigest(s1, '12345678')).not.toBe(codeDigest(s2, '12345678'));
    expect(codeDigest(s1, '12345678')).not.toBe(codeDigest(s1, '12345679'));
  });

  it('refuses a secret too short to be a key', () => {
    let error: unknown;
    try {
      codeDigest(new Uint8Array(8), '12345678');
    } catch (e) {
      error = e;
    }
    expect(isLockerError(error, 'CRYPTO_ERROR')).toBe(true);
  });
});
