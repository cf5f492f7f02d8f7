import { describe, expect, it } from 'vitest';
import { normaliseCodeInput } from '../../../src/codes/pickupCode.js';
import { LockerError } from '../../../kernel/errors.js';

function failure(raw: string, length: number): LockerError {
  try {
    normaliseCodeInput(raw, length);
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected CODE_MALFORMED');
}

describe('normaliseCodeInput accepts', () => {
  it.each([
    ['12345678', 8, '12345678'],
    ['  12345678\r\n', 8, '12345678'],
    ['1234 5678', 8, '12345678'],
    ['1234-5678', 8, '12345678'],
    ['12 34-56 78', 8, '12345678'],
    ['００１２３４５６', 8, '00123456'],
    ['LK1:12345678', 8, '12345678'],
    ['lk1:1234 5678', 8, '12345678'],
    ['LK1:000000', 6, '000000'],
    ['https://pickup.example.com/p?code=12345678', 8, '12345678'],
    ['https://pickup.example.com/p?lang=zh&code=0012-3456#top', 8, '00123456'],
    ['HTTPS://PICKUP.EXAMPLE.COM/?code=1234567890', 10, '1234567890'],
  ])('%j (length %i) as %s', (raw, length, expected) => {
    expect(normaliseCodeInput(raw, length)).toBe(expected);
  });
});

describe('normaliseCodeInput refuses', () => {
  it.each([
    ['', 8, 'empty'],
    ['   ', 8, 'empty'],
    ['LK1:', 8, 'empty'],
    ['- -', 8, 'empty'],
    ['1234567', 8, 'wrong_length'],
    ['123456789', 8, 'wrong_length'],
    ['LK1:123456', 8, 'wrong_length'],
    ['1234567a', 8, 'not_digits'],
    ['1234.5678', 8, 'not_digits'],
    ['LK2:12345678', 8, 'not_digits'],
    ['+12345678', 8, 'not_digits'],
    ['https://pickup.example.com/p?nocode=12345678', 8, 'bad_qr'],
    ['https://pickup.example.com/p?code=abcdefgh', 8, 'not_digits'],
    ['https://[broken/?code=12345678', 8, 'bad_qr'],
    ['9'.repeat(5000), 8, 'too_long'],
  ])('%j (length %i): %s', (raw, length, problem) => {
    const e = failure(raw, length);
    expect(e.code).toBe('CODE_MALFORMED');
    expect(e.context.problem).toBe(problem);
    expect(e.context.expectedLength).toBe(length);
  });

  it('says how many digits were expected and seen', () => {
    const e = failure('1234567', 8);
    expect(e.detail).toBe('a code has 8 digits, this has 7');
    expect(e.context.gotLength).toBe(7);
  });

  it('never repeats the typed digits in the error', () => {
    for (const raw of ['9876543', '98765432x', 'LK1:987654321', 'https://x.example/?code=9876543']) {
      const e = failure(raw, 8);
      const everything = `${e.message} ${JSON.stringify(e.toJSON())}`;
      expect(everything).not.toContain('987654');
    }
  });
});
