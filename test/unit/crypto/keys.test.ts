import { describe, expect, it } from 'vitest';
import { calculateJwkThumbprint } from 'jose';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  importEncryptionKey,
  importPublicKey,
  importSigningKey,
  privateJwkIsConsistent,
  publicJwkOf,
} from '../../../src/crypto/keys.js';
import { Ed25519PublicJwk, X25519PublicJwk } from '../../../src/config/schema.js';
import { signJws, verifyJws, badgeJwsErrors } from '../../../src/crypto/jws.js';

describe('key pairs', () => {
  it('Ed25519 pairs export JWKs that fit the configuration schema, kid = RFC 7638 thumbprint', async () => {
    const pair = await generateSigningKeyPair();
    expect(Ed25519PublicJwk.safeParse(pair.publicJwk).success).toBe(true);
    expect(pair.publicJwk.kid).toBe(await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: pair.publicJwk.x }));
    expect(pair.privateJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', x: pair.publicJwk.x, kid: pair.publicJwk.kid });
    expect(pair.privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('X25519 pairs export JWKs that fit the configuration schema', async () => {
    const pair = await generateEncryptionKeyPair();
    expect(X25519PublicJwk.safeParse(pair.publicJwk).success).toBe(true);
    expect(await publicJwkOf(pair.privateJwk)).toEqual(pair.publicJwk);
  });

  it('a private JWK saved and imported again signs for the same public key', async () => {
    const pair = await generateSigningKeyPair();
    const reloaded = await importSigningKey(pair.privateJwk);
    expect(reloaded.extractable).toBe(false);
    const token = await signJws(reloaded, new Uint8Array([7]));
    await expect(verifyJws(token, [await publicJwkOf(pair.privateJwk)], { errors: badgeJwsErrors })).resolves.toBeDefined();
  });

  it('detects a private JWK whose halves do not match', async () => {
    const [a, b] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair()]);
    expect(privateJwkIsConsistent(a.privateJwk)).toBe(true);
    expect(privateJwkIsConsistent({ ...a.privateJwk, x: b.publicJwk.x })).toBe(false);
  });

  it('imports public keys and refuses garbage with CRYPTO_ERROR', async () => {
    const enc = await generateEncryptionKeyPair();
    await expect(importPublicKey(enc.publicJwk)).resolves.toBeDefined();
    await expect(importEncryptionKey(enc.privateJwk)).resolves.toBeDefined();
    await expect(importPublicKey({ kty: 'OKP', crv: 'Ed25519', x: 'A' })).rejects.toMatchObject({ code: 'CRYPTO_ERROR' });
  });
});
