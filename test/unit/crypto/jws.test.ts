import { beforeAll, describe, expect, it } from 'vitest';
import { base64url, decodeProtectedHeader } from 'jose';
import { ManualClock } from '../../../kernel/clock.js';
import { commandJwsErrors, looksLikeCompactJws, signJws, signJwt, verifyJws, verifyJwt, type VerifyJwtOptions } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { LockerError } from '../../../kernel/errors.js';

const clock = new ManualClock(Date.UTC(2026, 5, 1));
const nowS = (): number => Math.floor(clock.now() / 1000);
let carrier: SigningKeyPair;
let stranger: SigningKeyPair;

beforeAll(async () => {
  [carrier, stranger] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair()]);
});

function commandOptions(over: Partial<VerifyJwtOptions> = {}): VerifyJwtOptions {
  return {
    errors: commandJwsErrors,
    label: 'command',
    clock,
    keysFor: (iss) => (iss === 'swiftpost' ? [carrier.publicJwk] : undefined),
    audience: 'locker-1',
    requiredClaims: ['jti', 'iat'],
    ...over,
  };
}

async function refusal(p: Promise<unknown>): Promise<LockerError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const command = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: 'swiftpost',
  aud: 'locker-1',
  iat: nowS(),
  exp: nowS() + 60,
  jti: 'cmd-1',
  cmd: 'reservation.create',
  args: { waybill: 'SP1' },
  ...over,
});

describe('signed commands (JWT over EdDSA)', () => {
  it('verify and return the claims as signed', async () => {
    const token = await signJwt(carrier.privateKey, command());
    const { claims, key } = await verifyJwt(token, commandOptions());
    expect(claims).toEqual(command());
    expect(key).toBe(carrier.publicJwk);
  });

  it('add nothing to the claims (time comes from the caller)', async () => {
    const token = await signJwt(carrier.privateKey, { iss: 'x', exp: 5 });
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[1]!))) as unknown;
    expect(payload).toEqual({ iss: 'x', exp: 5 });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'EdDSA' });
  });

  it.each([
    ['for another locker', command({ aud: 'locker-2' }), 'CMD_WRONG_AUDIENCE', 'wrong_audience'],
    ['expired', command({ exp: nowS() - 1 }), 'CMD_EXPIRED', 'expired'],
    ['from an unknown issuer', command({ iss: 'fastbox' }), 'CMD_UNKNOWN_ISSUER', 'unknown_issuer'],
    ['without jti', command({ jti: undefined }), 'CMD_MALFORMED', 'claims_invalid'],
    ['not yet valid', command({ nbf: nowS() + 3600 }), 'CMD_EXPIRED', 'not_yet_valid'],
  ])('are refused when %s', async (_name, claims, code, reason) => {
    const token = await signJwt(carrier.privateKey, claims);
    const e = await refusal(verifyJwt(token, commandOptions()));
    expect([e.code, e.context.reason]).toEqual([code, reason]);
  });

  it('are refused when signed by a key the issuer does not have', async () => {
    const token = await signJwt(stranger.privateKey, command());
    const e = await refusal(verifyJwt(token, commandOptions()));
    expect([e.code, e.context.reason]).toEqual(['CMD_BAD_SIGNATURE', 'bad_signature']);
  });

  it('honour a clock tolerance for exp', async () => {
    const token = await signJwt(carrier.privateKey, command({ exp: nowS() - 5 }));
    await expect(verifyJwt(token, commandOptions({ clockToleranceS: 30 }))).resolves.toBeDefined();
  });

  it('refuse a payload too large for the limit', async () => {
    const token = await signJwt(carrier.privateKey, command({ args: { blob: 'x'.repeat(2000) } }));
    const e = await refusal(verifyJwt(token, commandOptions({ maxLength: 1024 })));
    expect([e.code, e.context.reason]).toEqual(['PAYLOAD_TOO_LARGE', 'too_large']);
  });

  it('may require a typ header', async () => {
    const untyped = await signJwt(carrier.privateKey, command());
    const typed = await signJwt(carrier.privateKey, command(), { typ: 'lk-cmd+jwt' });
    await expect(verifyJwt(typed, commandOptions({ typ: 'lk-cmd+jwt', typRequired: true }))).resolves.toBeDefined();
    await expect(verifyJwt(untyped, commandOptions({ typ: 'lk-cmd+jwt' }))).resolves.toBeDefined();
    expect((await refusal(verifyJwt(untyped, commandOptions({ typ: 'lk-cmd+jwt', typRequired: true })))).context.reason).toBe('wrong_type');
  });
});

describe('signed bytes (envelopes)', () => {
  it('verify against any of several keys', async () => {
    const payload = new TextEncoder().encode('{"v":1}');
    const token = await signJws(carrier.privateKey, payload, { kid: carrier.publicJwk.kid! });
    const result = await verifyJws(token, [stranger.publicJwk, carrier.publicJwk], { errors: commandJwsErrors });
    expect(Buffer.from(result.payload)).toEqual(Buffer.from(payload));
    expect(result.key).toBe(carrier.publicJwk);
  });

  it('are refused when no key matches', async () => {
    const token = await signJws(stranger.privateKey, new Uint8Array([1, 2, 3]));
    const e = await refusal(verifyJws(token, [carrier.publicJwk], { errors: commandJwsErrors, label: 'envelope' }));
    expect(e.code).toBe('CMD_BAD_SIGNATURE');
    expect(e.message).toContain('envelope refused');
  });
});

describe('looksLikeCompactJws', () => {
  it('tells a token from a waybill or a code', async () => {
    expect(looksLikeCompactJws(await signJwt(carrier.privateKey, command()))).toBe(true);
    expect(looksLikeCompactJws('SP123456789CN')).toBe(false);
    expect(looksLikeCompactJws('LK1:12345678')).toBe(false);
    expect(looksLikeCompactJws('eyJ.a.')).toBe(false);
  });
});
