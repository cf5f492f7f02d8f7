// Pickup QR tokens: "LK2:" followed by 16 random bytes in base64url (128 bits). The carrier
// receives one per stored parcel, encrypted to its key in the same parcel.stored payload as the
// code, and shows it as a QR code. A token cannot be guessed, so redeeming one needs no keypad
// budget and a wrong one costs nothing (issue 7, finding 8). Like codes, tokens are stored only
// as an HMAC digest under the locker's secret and never logged.
import { LockerError } from '../../kernel/errors.js';
import type { RandomSource } from '../../kernel/random.js';
import { codeDigest } from './pickupCode.js';

export const PICKUP_TOKEN_PREFIX = 'LK2:';
export const PICKUP_TOKEN_BYTES = 16;
/** Characters of the base64url part (16 bytes, unpadded). */
const BODY_LENGTH = 22;
/** Longer input is not a token; refusing early keeps parsing cheap. */
const MAX_RAW_INPUT = 256;

export const PICKUP_TOKEN_PATTERN = /^LK2:[A-Za-z0-9_-]{22}$/;

export function generatePickupToken(random: RandomSource): string {
  return PICKUP_TOKEN_PREFIX + Buffer.from(random.bytes(PICKUP_TOKEN_BYTES)).toString('base64url');
}

/** True when the input claims to be a pickup QR token (it starts with "LK2:"), well formed or not. */
export function isPickupTokenInput(raw: string): boolean {
  return raw.normalize('NFKC').trim().slice(0, PICKUP_TOKEN_PREFIX.length).toUpperCase() === PICKUP_TOKEN_PREFIX;
}

/**
 * The canonical token of a scanned "LK2:..." text; CODE_MALFORMED (without echoing the input)
 * when it is not exactly 16 bytes of unpadded base64url.
 */
export function normalisePickupToken(raw: string): string {
  if (raw.length > MAX_RAW_INPUT) throw malformed('the scanned text is far too long to be a pickup QR code');
  const text = raw.normalize('NFKC').trim();
  const body = text.slice(PICKUP_TOKEN_PREFIX.length);
  if (body.length !== BODY_LENGTH || !/^[A-Za-z0-9_-]+$/.test(body)) throw malformed('this is not a valid pickup QR code');
  const bytes = Buffer.from(body, 'base64url');
  // The last character carries 2 bits; a non-canonical spelling of the same bytes is refused.
  if (bytes.length !== PICKUP_TOKEN_BYTES || bytes.toString('base64url') !== body) throw malformed('this is not a valid pickup QR code');
  return PICKUP_TOKEN_PREFIX + body;
}

/** HMAC-SHA256 of the canonical token under the locker's secret (codes are digits only, so the spaces never meet). */
export function pickupTokenDigest(secret: Uint8Array, token: string): string {
  return codeDigest(secret, token);
}

function malformed(message: string): LockerError {
  return new LockerError('CODE_MALFORMED', message, { problem: 'bad_qr' });
}
