import { beforeAll, describe, expect, it } from 'vitest';
import { base64url, type CryptoKey } from 'jose';
import { createHmac } from 'node:crypto';
import { ManualClock } from '../../../kernel/clock.js';
import type { Ed25519PublicJwk } from '../../../src/config/schema.js';
import { BADGE_TYP, MAX_BADGE_LENGTH, badgeKeyringFromConfig, mintBadge, verifyBadge, type BadgeClaims, type BadgeKeyring, type MintBadgeClaims } from '../../../src/credentials/badge.js';
import { signJwt } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { LockerError } from '../../../kernel/errors.js';

const clock = new ManualClock(Date.UTC(2026, 2, 1, 8, 0, 0));
const nowS = (): number => Math.floor(clock.now() / 1000);

let swiftpost: SigningKeyPair;
let swiftpostNext: SigningKeyPair;
let parcelgo: SigningKeyPair;
let operator: SigningKeyPair;
let keyring: BadgeKeyring;

beforeAll(async () => {
  [swiftpost, swiftpostNext, parcelgo, operator] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  keyring = badgeKeyringFromConfig({
    carriers: [
      { id: 'swiftpost', name: 'SwiftPost', signingKeys: [swiftpost.publicJwk, swiftpostNext.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] },
      { id: 'parcelgo', name: 'ParcelGo', signingKeys: [parcelgo.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] },
    ],
    operator: { id: 'operator', signingKeys: [operator.publicJwk] },
  });
});

function courierClaims(over: Partial<BadgeClaims> = {}): MintBadgeClaims {
  return { iss: 'swiftpost', sub: 'courier-17', role: 'courier', iat: nowS(), exp: nowS() + 8 * 3600, jti: 'badge-17', ...over } as MintBadgeClaims;
}

async function refusal(token: unknown, ring: BadgeKeyring = keyring): Promise<LockerError> {
  try {
    await verifyBadge(token, ring, clock);
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected the badge to be refused');
}

function encodePart(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

describe('verifyBadge accepts', () => {
  it('a courier badge signed by its carrier', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ jti: 'b-1' }));
    const badge = await verifyBadge(token, keyring, clock);
    expect(badge).toEqual({
      role: 'courier',
      issuer: 'swiftpost',
      subject: 'courier-17',
      permissions: ['deposit', 'collect'],
      issuedAt: nowS() * 1000,
      expiresAt: (nowS() + 8 * 3600) * 1000,
      jti: 'b-1',
    });
  });

  it('the permissions the badge names', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ perms: ['collect'] }));
    const badge = await verifyBadge(token, keyring, clock);
    expect(badge.role === 'courier' && badge.permissions).toEqual(['collect']);
  });

  it('an operator badge signed by the operator', async () => {
    const token = await mintBadge(operator.privateKey, { iss: 'operator', sub: 'tech-3', role: 'operator', iat: nowS(), exp: nowS() + 600, jti: 'op-badge-1' });
    const badge = await verifyBadge(token, keyring, clock);
    expect(badge).toMatchObject({ role: 'operator', issuer: 'operator', subject: 'tech-3' });
  });

  it('a badge signed with the carrier’s second key, with or without kid', async () => {
    const withKid = await mintBadge(swiftpostNext.privateKey, courierClaims(), { kid: swiftpostNext.publicJwk.kid! });
    const withoutKid = await mintBadge(swiftpostNext.privateKey, courierClaims());
    await expect(verifyBadge(withKid, keyring, clock)).resolves.toMatchObject({ subject: 'courier-17' });
    await expect(verifyBadge(withoutKid, keyring, clock)).resolves.toMatchObject({ subject: 'courier-17' });
  });

  it('a badge still valid one second before exp', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ exp: nowS() + 60 }));
    const at = clock.now();
    clock.set(at + 59_000);
    try {
      await expect(verifyBadge(token, keyring, clock)).resolves.toMatchObject({ role: 'courier' });
    } finally {
      clock.set(at);
    }
  });

  it('when a placeholder key that cannot be imported sits beside the real one', async () => {
    const broken: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: 'PLACEHOLDER-swiftpost-signing-0000000000000' };
    const ring: BadgeKeyring = new Map([['swiftpost', { kind: 'carrier', keys: [broken, swiftpost.publicJwk] }]]);
    const token = await mintBadge(swiftpost.privateKey, courierClaims());
    await expect(verifyBadge(token, ring, clock)).resolves.toMatchObject({ issuer: 'swiftpost' });
  });
});

describe('verifyBadge refuses', () => {
  it('an expired badge with BADGE_EXPIRED, measured on the injected clock', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ iat: nowS() - 7200, exp: nowS() - 1 }));
    const e = await refusal(token);
    expect(e.code).toBe('BADGE_EXPIRED');
  });

  it('a badge at exactly its exp', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ exp: nowS() + 60 }));
    const at = clock.now();
    clock.set(at + 60_000);
    try {
      expect((await refusal(token)).code).toBe('BADGE_EXPIRED');
    } finally {
      clock.set(at);
    }
  });

  it('a forged signature (claims changed after signing)', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ perms: ['collect'] }));
    const [header, , signature] = token.split('.');
    const forged = `${header}.${encodePart(courierClaims({ perms: ['deposit', 'collect'] }))}.${signature}`;
    const e = await refusal(forged);
    expect(e.code).toBe('BADGE_INVALID');
    expect(e.context.reason).toBe('bad_signature');
  });

  it('a badge for one carrier signed with another carrier’s key', async () => {
    const token = await mintBadge(parcelgo.privateKey, courierClaims({ iss: 'swiftpost' }));
    const e = await refusal(token);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'bad_signature']);
  });

  it('an operator badge issued by a carrier', async () => {
    const token = await mintBadge(swiftpost.privateKey, { iss: 'swiftpost', sub: 'mallory', role: 'operator', iat: nowS(), exp: nowS() + 600, jti: 'op-badge-1' });
    const e = await refusal(token);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'role_not_allowed']);
  });

  it('a courier badge issued by the operator', async () => {
    const token = await mintBadge(operator.privateKey, courierClaims({ iss: 'operator' }));
    expect((await refusal(token)).context.reason).toBe('role_not_allowed');
  });

  it('an unknown issuer', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims({ iss: 'fastbox' }));
    const e = await refusal(token);
    expect([e.code, e.context.reason, e.context.issuer]).toEqual(['BADGE_INVALID', 'unknown_issuer', 'fastbox']);
  });

  it('alg "none"', async () => {
    const token = `${encodePart({ alg: 'none', typ: BADGE_TYP })}.${encodePart(courierClaims())}.`;
    const e = await refusal(token);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'alg_refused']);
  });

  it('HS256 keyed with the carrier’s public key', async () => {
    const head = `${encodePart({ alg: 'HS256', typ: BADGE_TYP })}.${encodePart(courierClaims())}`;
    const mac = createHmac('sha256', swiftpost.publicJwk.x).update(head).digest('base64url');
    const e = await refusal(`${head}.${mac}`);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'alg_refused']);
  });

  it('the fully specified "Ed25519" alg, since only EdDSA is accepted', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims());
    const [, payload, signature] = token.split('.');
    const e = await refusal(`${encodePart({ alg: 'Ed25519', typ: BADGE_TYP })}.${payload}.${signature}`);
    expect(e.context.reason).toBe('alg_refused');
  });

  it('an oversized token before parsing it', async () => {
    const e = await refusal(`eyJ${'A'.repeat(MAX_BADGE_LENGTH)}.x.y`);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'too_large']);
  });

  it.each([
    ['empty', ''],
    ['text', 'hello courier'],
    ['two parts', 'eyJhbGciOiJFZERTQSJ9.e30'],
    ['bad base64', 'eyJhbGci$$.e30.abc'],
    ['header not JSON', `${base64url.encode('not json')}.e30.abc`],
    ['a number', 42],
    ['null', null],
  ])('garbage (%s)', async (_name, token) => {
    const e = await refusal(token);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'malformed']);
  });

  it('a signed token of another kind (typ)', async () => {
    const token = await signJwt(swiftpost.privateKey, { ...courierClaims() }, { typ: 'lk-cmd+jwt' });
    expect((await refusal(token)).context.reason).toBe('wrong_type');
  });

  it('a signed token without exp', async () => {
    const { exp: _exp, ...claims } = courierClaims();
    const token = await signJwt(swiftpost.privateKey, claims, { typ: BADGE_TYP });
    const e = await refusal(token);
    expect([e.code, e.context.reason]).toEqual(['BADGE_INVALID', 'claims_invalid']);
  });

  it('a signed token with an unknown role', async () => {
    const token = await signJwt(swiftpost.privateKey, { ...courierClaims(), role: 'admin' }, { typ: BADGE_TYP });
    expect((await refusal(token)).context.reason).toBe('claims_invalid');
  });

  it('a badge whose kid names no provisioned key', async () => {
    const token = await mintBadge(swiftpost.privateKey, courierClaims(), { kid: 'retired-2024' });
    const e = await refusal(token);
    expect(e.code).toBe('BADGE_INVALID');
    expect(e.context).toMatchObject({ reason: 'unknown_key', kid: 'retired-2024' });
  });

  it('a badge when the only key is an unusable placeholder', async () => {
    const broken: Ed25519PublicJwk = { kty: 'OKP', crv: 'Ed25519', x: 'PLACEHOLDER-swiftpost-signing-0000000000000' };
    const ring: BadgeKeyring = new Map([['swiftpost', { kind: 'carrier', keys: [broken] }]]);
    const token = await mintBadge(swiftpost.privateKey, courierClaims());
    expect((await refusal(token, ring)).code).toBe('BADGE_INVALID');
  });
});

describe('mintBadge', () => {
  it('refuses claims that would not verify', async () => {
    await expect(mintBadge(swiftpost.privateKey, courierClaims({ exp: nowS() - 10 }))).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(mintBadge(swiftpost.privateKey, { ...courierClaims(), sub: '' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('writes alg EdDSA and the badge typ', async () => {
    const token = await mintBadge(swiftpost.privateKey as CryptoKey, courierClaims(), { kid: 'k1' });
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))) as unknown;
    expect(header).toEqual({ alg: 'EdDSA', typ: BADGE_TYP, kid: 'k1' });
  });
});
