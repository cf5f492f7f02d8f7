// Compact JWS with EdDSA (Ed25519) only: signing and verifying for badges, signed commands
// and event envelopes. Every other algorithm, "none" included, is refused before any key is
// touched. Failures become LockerErrors whose codes the caller picks (badge vs command codes).
import {
  CompactSign,
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type CompactJWSHeaderParameters,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Clock } from '../../kernel/clock.js';
import type { Ed25519PublicJwk } from '../config/schema.js';
import { LockerError, type ErrorCode } from '../../kernel/errors.js';

export const JWS_ALG = 'EdDSA';
export const DEFAULT_MAX_JWS_LENGTH = 8192;
/** A key set this long is a provisioning mistake; trying more keys only slows an attacker's garbage down. */
const MAX_KEYS_TRIED = 16;

/** A private signing key: a WebCrypto key from keys.ts or a private OKP JWK. */
export type SigningKey = CryptoKey | JWK;

export type JwsFailure =
  | 'too_large'
  | 'malformed'
  | 'alg_refused'
  | 'wrong_type'
  | 'unknown_issuer'
  | 'unknown_key'
  | 'bad_signature'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_audience'
  | 'claims_invalid';

/** Which error code each failure becomes. */
export type JwsErrorCodes = Readonly<Record<JwsFailure, ErrorCode>>;

export const badgeJwsErrors: JwsErrorCodes = {
  too_large: 'BADGE_INVALID',
  malformed: 'BADGE_INVALID',
  alg_refused: 'BADGE_INVALID',
  wrong_type: 'BADGE_INVALID',
  unknown_issuer: 'BADGE_INVALID',
  unknown_key: 'BADGE_INVALID',
  bad_signature: 'BADGE_INVALID',
  expired: 'BADGE_EXPIRED',
  not_yet_valid: 'BADGE_INVALID',
  wrong_audience: 'BADGE_INVALID',
  claims_invalid: 'BADGE_INVALID',
};

export const commandJwsErrors: JwsErrorCodes = {
  too_large: 'PAYLOAD_TOO_LARGE',
  malformed: 'CMD_MALFORMED',
  alg_refused: 'CMD_BAD_SIGNATURE',
  wrong_type: 'CMD_MALFORMED',
  unknown_issuer: 'CMD_UNKNOWN_ISSUER',
  unknown_key: 'CMD_UNKNOWN_KEY',
  bad_signature: 'CMD_BAD_SIGNATURE',
  expired: 'CMD_EXPIRED',
  not_yet_valid: 'CMD_EXPIRED',
  wrong_audience: 'CMD_WRONG_AUDIENCE',
  claims_invalid: 'CMD_MALFORMED',
};

export interface JwsHeaderOptions {
  kid?: string;
  /** Media type of the token, e.g. "lk-badge+jwt"; lets a verifier refuse a token of another kind. */
  typ?: string;
}

interface CommonVerifyOptions {
  errors: JwsErrorCodes;
  /** Names the token in messages: "badge", "command". */
  label?: string;
  maxLength?: number;
  /** When set, a token whose typ header differs is refused. */
  typ?: string;
  /** Also refuse a token without a typ header. */
  typRequired?: boolean;
}

export type VerifyJwsOptions = CommonVerifyOptions;

export interface VerifyJwtOptions extends CommonVerifyOptions {
  clock: Clock;
  /** The keys provisioned for an issuer (taken unverified from "iss"); undefined when unknown. */
  keysFor: (issuer: string) => readonly Ed25519PublicJwk[] | undefined;
  audience?: string;
  /** Claims that must be present besides "iss" and "exp". */
  requiredClaims?: string[];
  clockToleranceS?: number;
}

export interface VerifiedJws {
  payload: Uint8Array;
  header: CompactJWSHeaderParameters;
  /** The key that verified the signature. */
  key: Ed25519PublicJwk;
}

export interface VerifiedJwt {
  claims: JWTPayload;
  header: CompactJWSHeaderParameters;
  key: Ed25519PublicJwk;
}

/** Signs arbitrary bytes as a compact JWS. */
export async function signJws(key: SigningKey, payload: Uint8Array, header: JwsHeaderOptions = {}): Promise<string> {
  return new CompactSign(payload).setProtectedHeader(protectedHeader(header)).sign(key);
}

/**
 * Signs a claims set as a JWT. The claims are taken as given (no iat is added), so time comes
 * from the caller's clock.
 */
export async function signJwt(key: SigningKey, claims: JWTPayload, header: JwsHeaderOptions = {}): Promise<string> {
  return signJws(key, new TextEncoder().encode(JSON.stringify(claims)), header);
}

/** Verifies a compact JWS against a set of keys (for envelopes and other non-JWT payloads). */
export async function verifyJws(token: unknown, keys: readonly Ed25519PublicJwk[], options: VerifyJwsOptions): Promise<VerifiedJws> {
  const fail = failer(options);
  const header = checkShapeAndHeader(token, options, fail);
  for (const key of candidateKeys(keys, header, fail)) {
    try {
      const result = await compactVerify(token as string, key, { algorithms: [JWS_ALG] });
      return { payload: result.payload, header: result.protectedHeader, key };
    } catch (e) {
      if (isWrongKey(e)) continue;
      throw fail(reasonOf(e), describe(e), {}, e);
    }
  }
  throw fail('bad_signature', 'the signature does not verify against any provisioned key');
}

/**
 * Verifies a JWT: shape, algorithm, typ, issuer's keys, signature, then exp/nbf/aud at the
 * injected clock's time. Returns the claims only if everything holds.
 */
export async function verifyJwt(token: unknown, options: VerifyJwtOptions): Promise<VerifiedJwt> {
  const fail = failer(options);
  const header = checkShapeAndHeader(token, options, fail);
  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(token as string);
  } catch (e) {
    throw fail('malformed', 'the payload is not a JSON claims set', {}, e);
  }
  const issuer = unverified.iss;
  if (typeof issuer !== 'string' || issuer.length === 0) throw fail('claims_invalid', 'the "iss" claim is missing');
  const keys = options.keysFor(issuer);
  if (!keys || keys.length === 0) throw fail('unknown_issuer', `issuer "${short(issuer)}" is not provisioned on this locker`, { issuer: short(issuer) });

  for (const key of candidateKeys(keys, header, fail, issuer)) {
    try {
      const result = await jwtVerify(token as string, key, {
        algorithms: [JWS_ALG],
        currentDate: new Date(options.clock.now()),
        clockTolerance: options.clockToleranceS ?? 0,
        requiredClaims: ['iss', 'exp', ...(options.requiredClaims ?? [])],
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
      });
      return { claims: result.payload, header: result.protectedHeader, key };
    } catch (e) {
      if (isWrongKey(e)) continue;
      throw fail(reasonOf(e), describe(e), { issuer: short(issuer) }, e);
    }
  }
  throw fail('bad_signature', `the signature does not verify against any key of issuer "${short(issuer)}"`, { issuer: short(issuer) });
}

/**
 * The checks that need no key: size, three base64url parts, a JSON header with alg EdDSA and
 * the expected typ. Returns the header; throws the coded failure (alg_refused for "none" and
 * every other algorithm, whatever the rest of the token holds).
 */
export function checkJwsHeader(token: unknown, options: VerifyJwsOptions): CompactJWSHeaderParameters {
  return checkShapeAndHeader(token, options, failer(options));
}

/** Cheap test for "this scan looks like a compact JWS", before any parsing. */
export function looksLikeCompactJws(text: string): boolean {
  return text.length <= DEFAULT_MAX_JWS_LENGTH && /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text);
}

type Fail = (reason: JwsFailure, message: string, context?: Record<string, unknown>, cause?: unknown) => LockerError;

function failer(options: CommonVerifyOptions): Fail {
  const label = options.label ?? 'token';
  return (reason, message, context = {}, cause) =>
    new LockerError(options.errors[reason], `${label} refused: ${message}`, { reason, ...context }, cause === undefined ? undefined : { cause });
}

function protectedHeader(header: JwsHeaderOptions): CompactJWSHeaderParameters {
  return {
    alg: JWS_ALG,
    ...(header.typ !== undefined ? { typ: header.typ } : {}),
    ...(header.kid !== undefined ? { kid: header.kid } : {}),
  };
}

/** Size, three base64url parts, a parseable header with alg EdDSA and the expected typ. */
function checkShapeAndHeader(token: unknown, options: CommonVerifyOptions, fail: Fail): CompactJWSHeaderParameters {
  if (typeof token !== 'string') throw fail('malformed', 'not a string');
  const maxLength = options.maxLength ?? DEFAULT_MAX_JWS_LENGTH;
  if (token.length > maxLength) throw fail('too_large', `longer than ${maxLength} characters`, { length: token.length, maxLength });
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) throw fail('malformed', 'not a compact JWS');
  let header: CompactJWSHeaderParameters;
  try {
    header = decodeProtectedHeader(token) as CompactJWSHeaderParameters;
  } catch (e) {
    throw fail('malformed', 'the header is not valid JSON', {}, e);
  }
  if (header.alg !== JWS_ALG) throw fail('alg_refused', `algorithm ${JSON.stringify(short(String(header.alg)))} is not accepted; only ${JWS_ALG}`, { alg: short(String(header.alg)) });
  if (options.typ !== undefined) {
    if (header.typ === undefined ? options.typRequired === true : header.typ !== options.typ) {
      throw fail('wrong_type', `expected typ "${options.typ}"`, { typ: header.typ === undefined ? null : short(String(header.typ)) });
    }
  }
  if (parts[1] === '' || parts[2] === '') throw fail('malformed', 'the payload or signature is empty');
  return header;
}

/**
 * With a kid in the header, the keys carrying that kid; failing that, the keys without one.
 * A kid that matches no key, when every key has a kid of its own, is refused as unknown_key
 * (a rotated or foreign key), not reported as a signature that does not verify.
 */
function candidateKeys(keys: readonly Ed25519PublicJwk[], header: CompactJWSHeaderParameters, fail: Fail, issuer?: string): Ed25519PublicJwk[] {
  const all = keys.slice(0, MAX_KEYS_TRIED);
  if (header.kid === undefined) return all;
  const kid = typeof header.kid === 'string' ? header.kid : JSON.stringify(header.kid);
  const byKid = all.filter((k) => k.kid === kid);
  const candidates = byKid.length > 0 ? byKid : all.filter((k) => k.kid === undefined);
  if (candidates.length === 0) {
    const whose = issuer === undefined ? 'provisioned' : `provisioned for issuer "${short(issuer)}"`;
    throw fail('unknown_key', `key id "${short(kid)}" is not ${whose}`, { kid: short(kid), ...(issuer !== undefined ? { issuer: short(issuer) } : {}) });
  }
  return candidates;
}

/** A signature mismatch or an unusable key: try the next key. */
function isWrongKey(e: unknown): boolean {
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return true;
  // A provisioned key that cannot be imported (bad x, wrong curve) is skipped, not fatal.
  if (e instanceof joseErrors.JWKInvalid || e instanceof joseErrors.JOSENotSupported) return true;
  return e instanceof TypeError || (e instanceof Error && e.name === 'DataError');
}

function reasonOf(e: unknown): JwsFailure {
  if (e instanceof joseErrors.JWTExpired) return 'expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf') return 'not_yet_valid';
    if (e.claim === 'aud') return 'wrong_audience';
    return 'claims_invalid';
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return 'alg_refused';
  return 'malformed';
}

function describe(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return 'it has expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `claim "${e.claim}" is not acceptable (${e.reason})`;
  return e instanceof Error ? e.message : String(e);
}

/** Attacker-controlled strings are clipped before they reach logs. */
function short(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
