// Pickup and drop-off codes: generation, normalisation of what a person typed or scanned, and
// the keyed digest under which a code is stored and looked up. The plaintext code is never
// logged and never placed in an error message or context.
import { createHmac } from 'node:crypto';
import { LockerError } from '../../kernel/errors.js';
import type { RandomSource } from '../../kernel/random.js';

export const MIN_CODE_LENGTH = 6;
export const MAX_CODE_LENGTH = 10;

/** Prefix of the QR payload a carrier app shows for a pickup code: "LK1:12345678". */
export const CODE_QR_PREFIX = 'LK1:';

/** Longer scans are noise or a different barcode; refusing them early keeps parsing cheap. */
const MAX_RAW_INPUT = 2048;

/**
 * A random code of `length` decimal digits. Each digit is drawn uniformly by rejection
 * sampling (bytes 250..255 are discarded), and every position, the first included, may be
 * any digit: "0" leads as often as "9", so the code space is the full 10^length.
 */
export function generateCode(length: number, random: RandomSource): string {
  if (!Number.isInteger(length) || length < MIN_CODE_LENGTH || length > MAX_CODE_LENGTH) {
    throw new LockerError('INPUT_INVALID', `code length must be ${MIN_CODE_LENGTH}..${MAX_CODE_LENGTH} digits, got ${length}`, { length });
  }
  let code = '';
  while (code.length < length) {
    // Ask for a few spare bytes so one call usually suffices despite rejections.
    for (const b of random.bytes(length - code.length + 2)) {
      if (b >= 250) continue;
      code += String(b % 10);
      if (code.length === length) break;
    }
  }
  return code;
}

export type CodeInputProblem = 'empty' | 'too_long' | 'not_digits' | 'wrong_length' | 'bad_qr';

/**
 * Turns keypad or scanner input into the bare digits of a code. Accepts "1234 5678",
 * "1234-5678", full-width digits, a QR payload "LK1:12345678" and a URL carrying
 * "?code=12345678". Anything else is CODE_MALFORMED; the message says what was wrong without
 * repeating the input, because the input may be a valid code with one typo.
 */
export function normaliseCodeInput(raw: string, expectedLength: number): string {
  if (raw.length > MAX_RAW_INPUT) throw malformed('too_long', 'the input is far too long to be a code', expectedLength);
  let text = raw.normalize('NFKC').trim();
  if (text.length === 0) throw malformed('empty', 'no code was entered', expectedLength);

  if (text.slice(0, CODE_QR_PREFIX.length).toUpperCase() === CODE_QR_PREFIX) {
    text = text.slice(CODE_QR_PREFIX.length);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    text = codeFromUrl(text, expectedLength);
  }

  const digits = text.replace(/[\s-]+/g, '');
  if (digits.length === 0) throw malformed('empty', 'no code was entered', expectedLength);
  if (!/^[0-9]+$/.test(digits)) throw malformed('not_digits', 'a code contains digits only', expectedLength);
  if (digits.length !== expectedLength) {
    throw malformed('wrong_length', `a code has ${expectedLength} digits, this has ${digits.length}`, expectedLength, { gotLength: digits.length });
  }
  return digits;
}

function codeFromUrl(text: string, expectedLength: number): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw malformed('bad_qr', 'the scanned link is not a valid address', expectedLength);
  }
  const code = url.searchParams.get('code');
  if (code === null) throw malformed('bad_qr', 'the scanned link carries no code', expectedLength);
  return code;
}

function malformed(problem: CodeInputProblem, message: string, expectedLength: number, extra: Record<string, unknown> = {}): LockerError {
  return new LockerError('CODE_MALFORMED', message, { problem, expectedLength, ...extra });
}

/** Minimum secret length; the locker's identity holds a 32-byte secret. */
const MIN_SECRET_BYTES = 16;

/**
 * HMAC-SHA256 of the code under the locker's secret, lowercase hex. Codes are stored and looked
 * up only by this digest, so a copy of the database alone does not reveal or brute-force them.
 */
export function codeDigest(secret: Uint8Array, code: string): string {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new LockerError('CRYPTO_ERROR', `the code secret must have at least ${MIN_SECRET_BYTES} bytes, got ${secret.length}`);
  }
  return createHmac('sha256', secret).update(code, 'utf8').digest('hex');
}
