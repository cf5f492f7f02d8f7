import { beforeAll, describe, expect, it } from 'vitest';
import { CompactEncrypt, base64url, decodeProtectedHeader } from 'jose';
import { decryptCodeJwe, decryptForLocker, encryptCodeForCarrier, encryptForLocker } from '../../../src/crypto/codeJwe.js';
import { generateEncryptionKeyPair, type EncryptionKeyPair } from '../../../src/crypto/keys.js';
import { LockerError } from '../../../kernel/errors.js';

let carrier: EncryptionKeyPair;
let otherCarrier: EncryptionKeyPair;
let locker: EncryptionKeyPair;

beforeAll(async () => {
  [carrier, otherCarrier, locker] = await Promise.all([generateEncryptionKeyPair(), generateEncryptionKeyPair(), generateEncryptionKeyPair()]);
});

const stored = { code: '40718263', parcelId: '01JH8Q4W9R3T5Y7U9I1O3P5A7S', waybill: 'SP123456789CN' };

async function refusal(p: Promise<unknown>): Promise<LockerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('codes encrypted to a carrier', () => {
  it('round-trip with the carrier’s private key (CryptoKey or JWK)', async () => {
    const jwe = await encryptCodeForCarrier(carrier.publicJwk, stored);
    expect(jwe.split('.')).toHaveLength(5);
    expect(await decryptCodeJwe(jwe, carrier.privateKey)).toEqual(stored);
    expect(await decryptCodeJwe(jwe, carrier.privateJwk)).toEqual(stored);
  });

  it('use ECDH-ES with A256GCM and name the recipient key', async () => {
    const jwe = await encryptCodeForCarrier(carrier.publicJwk, stored);
    expect(decodeProtectedHeader(jwe)).toMatchObject({ alg: 'ECDH-ES', enc: 'A256GCM', kid: carrier.publicJwk.kid, typ: 'lk-code+jwe' });
  });

  it('do not show the code anywhere in the token', async () => {
    const jwe = await encryptCodeForCarrier(carrier.publicJwk, stored);
    const decodedParts = jwe.split('.').map((p) => Buffer.from(base64url.decode(p)).toString('latin1'));
    expect(jwe).not.toContain(stored.code);
    for (const part of decodedParts) expect(part).not.toContain(stored.code);
  });

  it('cannot be read with another carrier’s key', async () => {
    const jwe = await encryptCodeForCarrier(carrier.publicJwk, stored);
    const e = await refusal(decryptCodeJwe(jwe, otherCarrier.privateKey));
    expect([e.code, e.context.reason]).toEqual(['CRYPTO_ERROR', 'decrypt_failed']);
  });

  it('detect a tampered ciphertext', async () => {
    const parts = (await encryptCodeForCarrier(carrier.publicJwk, stored)).split('.');
    const ct = Buffer.from(base64url.decode(parts[3]!));
    ct[0] = (ct[0] ?? 0) ^ 0x01;
    parts[3] = base64url.encode(ct);
    expect((await refusal(decryptCodeJwe(parts.join('.'), carrier.privateKey))).context.reason).toBe('decrypt_failed');
  });

  it('refuse other algorithms, e.g. a shared key ("dir")', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(stored)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32));
    expect((await refusal(decryptCodeJwe(jwe, carrier.privateKey))).context.reason).toBe('alg_refused');
  });

  it('refuse garbage and oversized input', async () => {
    expect((await refusal(decryptCodeJwe('not-a-jwe', carrier.privateKey))).context.reason).toBe('malformed');
    expect((await refusal(decryptCodeJwe(42, carrier.privateKey))).context.reason).toBe('malformed');
    expect((await refusal(decryptCodeJwe('e'.repeat(5000), carrier.privateKey))).context.reason).toBe('too_large');
  });

  it('refuse to encrypt a malformed message without echoing the code', async () => {
    const e = await refusal(encryptCodeForCarrier(carrier.publicJwk, { ...stored, code: '40718x63' }));
    expect(e.code).toBe('INPUT_INVALID');
    expect(JSON.stringify(e.toJSON())).not.toContain('40718');
  });
});

describe('codes a carrier chose, encrypted to the locker', () => {
  const chosen = { code: '55501234', waybill: 'PG-0001' };

  it('round-trip with the locker’s key', async () => {
    const jwe = await encryptForLocker(locker.publicJwk, chosen);
    expect(await decryptForLocker(jwe, locker.privateKey, { codeLength: 8, expectedWaybill: 'PG-0001' })).toEqual(chosen);
  });

  it('cannot be read with a carrier key', async () => {
    const jwe = await encryptForLocker(locker.publicJwk, chosen);
    expect((await refusal(decryptForLocker(jwe, carrier.privateKey))).context.reason).toBe('decrypt_failed');
  });

  it('are refused for another waybill or length', async () => {
    const jwe = await encryptForLocker(locker.publicJwk, chosen);
    expect((await refusal(decryptForLocker(jwe, locker.privateKey, { expectedWaybill: 'PG-0002' }))).context.reason).toBe('wrong_waybill');
    expect((await refusal(decryptForLocker(jwe, locker.privateKey, { codeLength: 6 }))).context.reason).toBe('wrong_length');
  });

  it('do not accept a locker-to-carrier message in the other direction', async () => {
    const jwe = await encryptCodeForCarrier(locker.publicJwk, stored);
    expect((await refusal(decryptForLocker(jwe, locker.privateKey))).context.reason).toBe('wrong_type');
  });

  it('refuse a payload that is not a code message', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify({ code: 'abc', waybill: 'PG-0001' })))
      .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM' })
      .encrypt(locker.publicJwk);
    expect((await refusal(decryptForLocker(jwe, locker.privateKey))).context.reason).toBe('bad_payload');
  });
});
