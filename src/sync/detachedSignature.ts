// Signatures over JSON documents that stay readable JSON on the wire (events, replies, reported
// config). The signed bytes are the RFC 8785 (JCS) canonical form of the document without its
// `sig` member; `sig` is a compact JWS with a detached payload (RFC 7515 appendix F):
// "<protected>..<signature>", protected = {"alg":"EdDSA","kid":...}. Any JWS library can verify
// it by putting base64url(canonical bytes) between the two dots.
import { KeyObject, createPublicKey, sign as edSign, verify as edVerify, type webcrypto } from 'node:crypto';
import type { Ed25519PublicJwk } from '../config/schema.js';

/** RFC 8785 canonical JSON: sorted keys (UTF-16 order), no whitespace, ECMAScript number and string forms. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no form for NaN or Infinity');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(obj).sort()) {
      const v = obj[key];
      if (v === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  throw new TypeError(`canonical JSON has no form for ${typeof value}`);
}

/** Signs with the locker's Ed25519 private key; kid names the key so a verifier can pick it. */
export interface DocumentSigner {
  readonly kid: string;
  sign(data: Uint8Array): Uint8Array;
}

/**
 * Signs synchronously with node:crypto: one event costs a few tens of microseconds, which
 * matters when a backlog of 100k events drains. A WebCrypto key (as loaded by
 * lockerIdentity.ts, not extractable) is converted without exporting it.
 */
export function ed25519Signer(key: KeyObject | webcrypto.CryptoKey, kid: string): DocumentSigner {
  const privateKey = key instanceof KeyObject ? key : KeyObject.from(key);
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') throw new TypeError('an Ed25519 private key is required');
  return { kid, sign: (data) => edSign(null, data, privateKey) };
}

const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');

const headerCache = new Map<string, string>();
function protectedHeader(kid: string): string {
  let h = headerCache.get(kid);
  if (h === undefined) {
    h = b64u(JSON.stringify({ alg: 'EdDSA', kid }));
    headerCache.set(kid, h);
  }
  return h;
}

export type Signed<T> = T & { sig: string };

/** Returns the document with `sig` added; any `sig` already present is replaced. */
export function signDocument<T extends object>(doc: T, signer: DocumentSigner): Signed<T> {
  const { sig: _old, ...body } = doc as T & { sig?: unknown };
  const header = protectedHeader(signer.kid);
  const input = `${header}.${b64u(canonicalJson(body))}`;
  const signature = b64u(signer.sign(Buffer.from(input, 'ascii')));
  return { ...(body as T), sig: `${header}..${signature}` };
}

export type VerifyKey = KeyObject | Ed25519PublicJwk;

const BASE64URL = /^[A-Za-z0-9_-]+$/;
/** An Ed25519 signature is 64 bytes: 86 base64url characters without padding. */
const ED25519_SIG_B64U = /^[A-Za-z0-9_-]{85}[AQgw]$/;

export function toPublicKey(key: VerifyKey): KeyObject {
  if (key instanceof KeyObject) return key;
  return createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x }, format: 'jwk' });
}

export type DetachedVerdict = { ok: true; kid: string | undefined } | { ok: false; reason: string };

/** Checks `sig` of a parsed document against any of the given keys. Never throws. */
export function verifyDocument(doc: Record<string, unknown>, keys: readonly VerifyKey[]): DetachedVerdict {
  const sig = doc.sig;
  if (typeof sig !== 'string') return { ok: false, reason: 'no signature' };
  const parts = sig.split('.');
  const [header, empty, signature] = parts;
  if (parts.length !== 3 || !header || empty !== '' || !signature) return { ok: false, reason: 'signature is not a detached compact JWS' };
  // Strict base64url: Node's decoder skips foreign characters, so "ab!cd" would decode like
  // "abcd" and an altered sig text would still verify.
  if (!BASE64URL.test(header) || !ED25519_SIG_B64U.test(signature)) return { ok: false, reason: 'signature is not strict base64url' };
  let kid: string | undefined;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as unknown;
    if (typeof h !== 'object' || h === null || (h as { alg?: unknown }).alg !== 'EdDSA') return { ok: false, reason: 'algorithm is not EdDSA' };
    if ((h as { crit?: unknown }).crit !== undefined) return { ok: false, reason: 'unsupported critical header' };
    const k = (h as { kid?: unknown }).kid;
    kid = typeof k === 'string' ? k : undefined;
  } catch {
    return { ok: false, reason: 'unreadable protected header' };
  }
  const { sig: _sig, ...body } = doc;
  let input: Buffer;
  try {
    input = Buffer.from(`${header}.${b64u(canonicalJson(body))}`, 'ascii');
  } catch {
    return { ok: false, reason: 'document has no canonical form' };
  }
  const signatureBytes = Buffer.from(signature, 'base64url');
  for (const key of keys) {
    try {
      if (edVerify(null, input, toPublicKey(key), signatureBytes)) return { ok: true, kid };
    } catch {
      // A malformed key is simply not a match; the next one may be.
    }
  }
  return { ok: false, reason: 'signature does not verify' };
}
