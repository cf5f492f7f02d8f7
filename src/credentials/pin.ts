// Courier PINs, stored only as a salted scrypt hash:
//   scrypt$<N>$<r>$<p>$<saltB64>$<hashB64>
// A PIN has 6 to 12 digits. It is weak against offline guessing whatever the hash; the slow hash
// raises the cost of a stolen configuration, and the persisted per-courier and per-locker
// budgets (domain/credentials.ts) bound guessing at the kiosk. The hash cannot tell a PIN's
// length, so the minimum is enforced where PINs are hashed (hashPin) and at login (a shorter
// PIN is refused without a hash, and still counts as a wrong one).
import { scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LockerError } from '../../kernel/errors.js';
import type { RandomSource } from '../../kernel/random.js';

export const MIN_PIN_LENGTH = 6;
export const MAX_PIN_LENGTH = 12;
export const PIN_PATTERN = /^[0-9]{6,12}$/;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** 16 MiB and roughly 0.1-0.3 s on a Pi 4: slow for a guesser, bearable for one login. */
export const DEFAULT_PIN_PARAMS: Readonly<ScryptParams> = Object.freeze({ N: 2 ** 14, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Limits on parameters read from a hash, so a hostile configuration cannot exhaust memory or CPU. */
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_MEMORY = 256 * 1024 * 1024;

export interface ParsedPinHash extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

/** True for 6 to 12 ASCII digits. */
export function isValidPin(pin: string): boolean {
  return PIN_PATTERN.test(pin);
}

/** Hashes a new PIN; refuses one that breaks the PIN rules with INPUT_INVALID. */
export async function hashPin(pin: string, random: RandomSource, params: ScryptParams = DEFAULT_PIN_PARAMS): Promise<string> {
  if (!isValidPin(pin)) throw new LockerError('INPUT_INVALID', `a PIN has ${MIN_PIN_LENGTH} to ${MAX_PIN_LENGTH} digits`);
  checkParams(params);
  const salt = Buffer.from(random.bytes(SALT_BYTES));
  const hash = await derive(pin, salt, params, HASH_BYTES);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

/**
 * True when pin matches the stored hash. A PIN that breaks the rules is simply wrong. A stored
 * hash that cannot be parsed is a provisioning error: CRYPTO_ERROR, not a silent "wrong PIN".
 */
export async function verifyPin(pin: string, encoded: string): Promise<boolean> {
  const parsed = parsePinHash(encoded);
  if (!isValidPin(pin)) return false;
  const candidate = await derive(pin, parsed.salt, parsed, parsed.hash.length);
  return timingSafeEqual(candidate, parsed.hash);
}

/** Parses and bounds-checks a stored hash; use it to validate configured couriers at start. */
export function parsePinHash(encoded: string): ParsedPinHash {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw badHash('expected scrypt$N$r$p$salt$hash');
  const [, nText, rText, pText, saltText, hashText] = parts as [string, string, string, string, string, string];
  const num = (s: string): number => (/^[1-9][0-9]{0,9}$/.test(s) ? Number(s) : NaN);
  const params = { N: num(nText), r: num(rText), p: num(pText) };
  checkParams(params, badHash);
  const salt = decodeB64(saltText);
  const hash = decodeB64(hashText);
  if (!salt || salt.length < 8 || salt.length > 64) throw badHash('the salt must be 8 to 64 bytes of base64');
  if (!hash || hash.length < 16 || hash.length > 64) throw badHash('the hash must be 16 to 64 bytes of base64');
  return { ...params, salt, hash };
}

function checkParams(params: ScryptParams, fail: (why: string) => LockerError = (why) => new LockerError('INPUT_INVALID', why)): void {
  const { N, r, p } = params;
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) throw fail(`scrypt N must be a power of two up to ${MAX_N}`);
  if (!Number.isInteger(r) || r < 1 || r > MAX_R) throw fail(`scrypt r must be 1..${MAX_R}`);
  if (!Number.isInteger(p) || p < 1 || p > MAX_P) throw fail(`scrypt p must be 1..${MAX_P}`);
  if (memoryFor(params) > MAX_MEMORY) throw fail('scrypt parameters need too much memory');
}

/** What OpenSSL allocates for scrypt, roughly; node refuses to run above maxmem. */
function memoryFor({ N, r, p }: ScryptParams): number {
  return 128 * r * (N + p + 2);
}

function derive(pin: string, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: memoryFor(params) + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, length, options, (err, key) => (err ? reject(new LockerError('CRYPTO_ERROR', `scrypt failed: ${err.message}`, {}, { cause: err })) : resolve(key)));
  });
}

function decodeB64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

function badHash(why: string): LockerError {
  return new LockerError('CRYPTO_ERROR', `invalid PIN hash: ${why}`, { reason: 'bad_pin_hash' });
}
