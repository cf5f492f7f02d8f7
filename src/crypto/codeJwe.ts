// Pickup codes in transit. A code leaves the locker only encrypted to the owning carrier's
// X25519 key, and a code the carrier chose arrives encrypted to the locker's key; the broker
// and the operator see ciphertext only. Compact JWE, alg ECDH-ES, enc A256GCM. The payload
// names the parcel and waybill so a ciphertext cannot be replayed onto another parcel.
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import type { X25519PublicJwk } from '../config/schema.js';
import { LockerError } from '../../kernel/errors.js';
import { MAX_CODE_LENGTH, MIN_CODE_LENGTH } from '../codes/pickupCode.js';
import { PICKUP_TOKEN_PATTERN } from '../codes/pickupToken.js';

export const CODE_JWE_ALG = 'ECDH-ES';
export const CODE_JWE_ENC = 'A256GCM';
/** Media type of a code sent by the locker to a carrier. */
export const CARRIER_CODE_TYP = 'lk-code+jwe';
/** Media type of a code a carrier chose and sent to the locker. */
export const LOCKER_CODE_TYP = 'lk-chosen-code+jwe';
export const MAX_CODE_JWE_LENGTH = 4096;

const codeDigits = z.string().regex(new RegExp(`^[0-9]{${MIN_CODE_LENGTH},${MAX_CODE_LENGTH}}$`));
const waybill = z.string().min(1).max(128);

const pickupToken = z.string().regex(PICKUP_TOKEN_PATTERN);

export const CarrierCodePayload = z
  .object({ code: codeDigits.optional(), pickupToken: pickupToken.optional(), parcelId: z.string().min(1).max(64), waybill })
  .refine((p) => p.code !== undefined || p.pickupToken !== undefined, { message: 'a code message carries a code, a pickup token or both' });
/**
 * What the locker tells the carrier about a stored parcel: the code it generated (absent when
 * the carrier chose the code) and the pickup QR token ("LK2:...", opens the door without the
 * keypad budget; absent only from lockers older than the token).
 */
export type CarrierCodePayload = z.infer<typeof CarrierCodePayload>;

export const LockerCodePayload = z.object({ code: codeDigits, waybill });
/** What a carrier tells the locker: the code it chose for the parcel with this waybill. */
export type LockerCodePayload = z.infer<typeof LockerCodePayload>;

/** Encrypts a stored parcel's code to the carrier's X25519 key, for its parcel.stored event. */
export async function encryptCodeForCarrier(carrierKey: X25519PublicJwk, payload: CarrierCodePayload): Promise<string> {
  return encrypt(carrierKey, checked(CarrierCodePayload, payload), CARRIER_CODE_TYP);
}

/** The carrier's side of encryptCodeForCarrier (carrier tools, simulator, tests). */
export async function decryptCodeJwe(jwe: unknown, privateKey: CryptoKey | JWK): Promise<CarrierCodePayload> {
  return decrypt(jwe, privateKey, CARRIER_CODE_TYP, CarrierCodePayload);
}

/** The carrier's side of decryptForLocker: encrypt a chosen code to the locker's X25519 key. */
export async function encryptForLocker(lockerKey: X25519PublicJwk, payload: LockerCodePayload): Promise<string> {
  return encrypt(lockerKey, checked(LockerCodePayload, payload), LOCKER_CODE_TYP);
}

export interface DecryptForLockerOptions {
  /** The locker's configured code length; a code of another length is refused. */
  codeLength?: number;
  /** The waybill of the reservation the JWE came with; a mismatch is refused. */
  expectedWaybill?: string;
}

/** Decrypts a carrier-chosen code sent to this locker, with the locker's X25519 private key. */
export async function decryptForLocker(jwe: unknown, lockerKey: CryptoKey | JWK, options: DecryptForLockerOptions = {}): Promise<LockerCodePayload> {
  const payload = await decrypt(jwe, lockerKey, LOCKER_CODE_TYP, LockerCodePayload);
  if (options.codeLength !== undefined && payload.code.length !== options.codeLength) {
    throw cryptoError('wrong_length', `the chosen code must have ${options.codeLength} digits`);
  }
  if (options.expectedWaybill !== undefined && payload.waybill !== options.expectedWaybill) {
    throw cryptoError('wrong_waybill', 'the encrypted code belongs to another waybill');
  }
  return payload;
}

async function encrypt(recipient: X25519PublicJwk, payload: object, typ: string): Promise<string> {
  const key: JWK = { kty: recipient.kty, crv: recipient.crv, x: recipient.x };
  try {
    return await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: CODE_JWE_ALG, enc: CODE_JWE_ENC, typ, ...(recipient.kid !== undefined ? { kid: recipient.kid } : {}) })
      .encrypt(key);
  } catch (e) {
    throw cryptoError('encrypt_failed', `cannot encrypt to key ${recipient.kid ?? '(no kid)'}: ${(e as Error).message}`, e);
  }
}

async function decrypt<T>(jwe: unknown, key: CryptoKey | JWK, typ: string, schema: z.ZodType<T>): Promise<T> {
  if (typeof jwe !== 'string') throw cryptoError('malformed', 'an encrypted code must be a string');
  if (jwe.length > MAX_CODE_JWE_LENGTH) throw cryptoError('too_large', `an encrypted code is at most ${MAX_CODE_JWE_LENGTH} characters`);
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(jwe);
  } catch (e) {
    throw cryptoError('malformed', 'not a compact JWE', e);
  }
  if (header.alg !== CODE_JWE_ALG || header.enc !== CODE_JWE_ENC) {
    throw cryptoError('alg_refused', `only ${CODE_JWE_ALG} with ${CODE_JWE_ENC} is accepted`);
  }
  if (header.typ !== undefined && header.typ !== typ) throw cryptoError('wrong_type', `expected typ "${typ}"`);
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: [CODE_JWE_ALG], contentEncryptionAlgorithms: [CODE_JWE_ENC] }));
  } catch (e) {
    throw cryptoError('decrypt_failed', 'cannot decrypt the code: wrong key or damaged ciphertext', e);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch (e) {
    throw cryptoError('bad_payload', 'the decrypted payload is not JSON', e);
  }
  const parsed = schema.safeParse(json);
  // The zod issues are not passed on: they could echo the code.
  if (!parsed.success) throw cryptoError('bad_payload', 'the decrypted payload is not a valid code message');
  return parsed.data;
}

function checked<T>(schema: z.ZodType<T>, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new LockerError('INPUT_INVALID', `cannot encrypt an invalid code message (check ${fields})`, { fields });
  }
  return parsed.data;
}

function cryptoError(reason: string, message: string, cause?: unknown): LockerError {
  return new LockerError('CRYPTO_ERROR', message, { reason }, cause === undefined ? undefined : { cause });
}
