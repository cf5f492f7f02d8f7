// Key pairs for the locker and for tools: Ed25519 signs (badges, commands, envelopes), X25519
// receives encrypted codes (JWE ECDH-ES). Keys travel as JWKs; public JWKs carry their RFC 7638
// thumbprint as kid so a verifier can pick the right key after a rotation.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { z } from 'zod';
import { Ed25519PublicJwk, X25519PublicJwk } from '../config/schema.js';
import { LockerError } from '../../kernel/errors.js';

const b64url32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url');

export const Ed25519PrivateJwk = z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: b64url32, d: b64url32, kid: z.string().max(128).optional() });
export type Ed25519PrivateJwk = z.infer<typeof Ed25519PrivateJwk>;

export const X25519PrivateJwk = z.object({ kty: z.literal('OKP'), crv: z.literal('X25519'), x: b64url32, d: b64url32, kid: z.string().max(128).optional() });
export type X25519PrivateJwk = z.infer<typeof X25519PrivateJwk>;

export interface SigningKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  privateJwk: Ed25519PrivateJwk;
  publicJwk: Ed25519PublicJwk;
}

export interface EncryptionKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  privateJwk: X25519PrivateJwk;
  publicJwk: X25519PublicJwk;
}

/** A fresh Ed25519 pair; the private key is extractable so it can be saved once. */
export async function generateSigningKeyPair(): Promise<SigningKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const privateJwk = Ed25519PrivateJwk.parse(await exportJWK(privateKey));
  const publicJwk = await withThumbprintKid(Ed25519PublicJwk.parse(await exportJWK(publicKey)));
  return { privateKey, publicKey, privateJwk: { ...privateJwk, kid: publicJwk.kid }, publicJwk };
}

/** A fresh X25519 pair for ECDH-ES; the private key is extractable so it can be saved once. */
export async function generateEncryptionKeyPair(): Promise<EncryptionKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES', { crv: 'X25519', extractable: true });
  const privateJwk = X25519PrivateJwk.parse(await exportJWK(privateKey));
  const publicJwk = await withThumbprintKid(X25519PublicJwk.parse(await exportJWK(publicKey)));
  return { privateKey, publicKey, privateJwk: { ...privateJwk, kid: publicJwk.kid }, publicJwk };
}

/** Imports a private Ed25519 JWK for signing. Not extractable unless asked: it only needs to sign. */
export async function importSigningKey(jwk: Ed25519PrivateJwk, extractable = false): Promise<CryptoKey> {
  return importOkp(jwk, 'EdDSA', extractable);
}

/** Imports a private X25519 JWK for decrypting ECDH-ES JWEs. */
export async function importEncryptionKey(jwk: X25519PrivateJwk, extractable = false): Promise<CryptoKey> {
  return importOkp(jwk, 'ECDH-ES', extractable);
}

/** Imports a public key (Ed25519 for verifying, X25519 for encrypting to). */
export async function importPublicKey(jwk: Ed25519PublicJwk | X25519PublicJwk): Promise<CryptoKey> {
  return importOkp(jwk, jwk.crv === 'Ed25519' ? 'EdDSA' : 'ECDH-ES', true);
}

/** The public half of a private JWK, with the thumbprint kid. */
export async function publicJwkOf(jwk: Ed25519PrivateJwk): Promise<Ed25519PublicJwk>;
export async function publicJwkOf(jwk: X25519PrivateJwk): Promise<X25519PublicJwk>;
export async function publicJwkOf(jwk: Ed25519PrivateJwk | X25519PrivateJwk): Promise<Ed25519PublicJwk | X25519PublicJwk> {
  const pub = { kty: jwk.kty, crv: jwk.crv, x: jwk.x };
  return jwk.crv === 'Ed25519' ? withThumbprintKid(Ed25519PublicJwk.parse(pub)) : withThumbprintKid(X25519PublicJwk.parse(pub));
}

/**
 * True when x really is the public key of d. A private JWK whose halves disagree signs with
 * one key while advertising another; that is corruption, not a usable key.
 */
export function privateJwkIsConsistent(jwk: Ed25519PrivateJwk | X25519PrivateJwk): boolean {
  try {
    const derived = createPublicKey(createPrivateKey({ key: { kty: jwk.kty, crv: jwk.crv, d: jwk.d, x: jwk.x }, format: 'jwk' })).export({ format: 'jwk' });
    return derived.x === jwk.x;
  } catch {
    return false;
  }
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public OKP key. */
export async function jwkThumbprint(jwk: { kty: string; crv: string; x: string }): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'sha256');
}

async function withThumbprintKid<T extends { kty: string; crv: string; x: string; kid?: string | undefined }>(jwk: T): Promise<T> {
  return { ...jwk, kid: await jwkThumbprint(jwk) };
}

async function importOkp(jwk: { kty: string; crv: string; x: string; d?: string }, alg: string, extractable: boolean): Promise<CryptoKey> {
  try {
    const input: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.d !== undefined ? { d: jwk.d } : {}) };
    const key = await importJWK(input, alg, { extractable });
    if (key instanceof Uint8Array) throw new TypeError('expected an asymmetric key');
    return key;
  } catch (e) {
    throw new LockerError('CRYPTO_ERROR', `cannot import ${jwk.crv} key: ${(e as Error).message}`, { crv: jwk.crv }, { cause: e });
  }
}
