import { flattenedVerify, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { canonicalJson, ed25519Signer, signDocument, verifyDocument, type DocumentSigner } from '../../../src/sync/detachedSignature.js';
import { EventEnvelope, encodeEnvelope, envelopeOf, signEnvelope, verifyEnvelope } from '../../../src/sync/envelope.js';
import type { OutboxRow } from '../../../src/store/outbox.js';

const row: OutboxRow = {
  stream: 'c/acme',
  seq: 42,
  id: '01JH0000000000000000000042',
  type: 'parcel.stored',
  carrier: 'acme',
  ts: Date.UTC(2026, 0, 1, 12),
  clockSynced: true,
  bootId: '01JH00000000000000000BOOT1',
  data: JSON.stringify({ waybill: 'WB-1', compartment: 'A3', codeJwe: 'eyJhbGciOi.x.y.z.w' }),
  wire: null,
  sent: false,
  acked: false,
};

describe('event envelope', () => {
  let locker: SigningKeyPair;
  let other: SigningKeyPair;
  let signer: DocumentSigner;

  beforeAll(async () => {
    locker = await generateSigningKeyPair();
    other = await generateSigningKeyPair();
    signer = ed25519Signer(locker.privateKey, locker.publicJwk.kid ?? 'locker');
  });

  it('carries every field of DESIGN.md section 7 and verifies with the locker key', () => {
    const payload = encodeEnvelope(row, 'locker-1', signer);
    const verdict = verifyEnvelope(payload, [locker.publicJwk], 'locker-1');
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const { sig, ...rest } = verdict.envelope;
    expect(sig).toMatch(/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/);
    expect(rest).toEqual({
      v: 1,
      id: row.id,
      type: 'parcel.stored',
      locker: 'locker-1',
      carrier: 'acme',
      bootId: row.bootId,
      seq: 42,
      ts: row.ts,
      clockSynced: true,
      data: { waybill: 'WB-1', compartment: 'A3', codeJwe: 'eyJhbGciOi.x.y.z.w' },
    });
    expect('replay' in rest).toBe(false);
  });

  it('flags replays, and the flag is covered by the signature', () => {
    const replayed = JSON.parse(encodeEnvelope(row, 'locker-1', signer, true).toString()) as Record<string, unknown>;
    expect(replayed.replay).toBe(true);
    expect(verifyDocument(replayed, [locker.publicJwk]).ok).toBe(true);
    delete replayed.replay;
    expect(verifyDocument(replayed, [locker.publicJwk])).toEqual({ ok: false, reason: 'signature does not verify' });
  });

  it('refuses a sig text with characters outside base64url, though the decoded bytes are the same', () => {
    const env = JSON.parse(encodeEnvelope(row, 'locker-1', signer).toString()) as Record<string, unknown>;
    const sig = String(env.sig);
    expect(verifyEnvelope(JSON.stringify(env), [locker.publicJwk]).ok).toBe(true);
    const cut = sig.length - 10;
    for (const altered of [`${sig.slice(0, cut)}!${sig.slice(cut)}`, `${sig} `, `${sig}=`, sig.replace('..', '..\n')])
      expect(verifyEnvelope(JSON.stringify({ ...env, sig: altered }), [locker.publicJwk]).ok).toBe(false);
  });

  it('refuses a tampered field, another key, another locker, and a missing signature', () => {
    const env = JSON.parse(encodeEnvelope(row, 'locker-1', signer).toString()) as Record<string, unknown>;
    expect(verifyEnvelope(JSON.stringify({ ...env, seq: 43 }), [locker.publicJwk]).ok).toBe(false);
    expect(verifyEnvelope(JSON.stringify({ ...env, data: { waybill: 'WB-2' } }), [locker.publicJwk]).ok).toBe(false);
    expect(verifyEnvelope(JSON.stringify(env), [other.publicJwk]).ok).toBe(false);
    expect(verifyEnvelope(JSON.stringify(env), [locker.publicJwk], 'locker-2')).toEqual({ ok: false, reason: 'envelope names another locker' });
    const { sig: _sig, ...unsigned } = env;
    expect(verifyEnvelope(JSON.stringify(unsigned), [locker.publicJwk]).ok).toBe(false);
    expect(verifyEnvelope('not json', [locker.publicJwk])).toEqual({ ok: false, reason: 'not JSON' });
  });

  it('accepts any of several keys (rotation) and is independent of member order', () => {
    const env = JSON.parse(encodeEnvelope(row, 'locker-1', signer).toString()) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(env).reverse());
    expect(verifyEnvelope(JSON.stringify(reordered), [other.publicJwk, locker.publicJwk]).ok).toBe(true);
  });

  it('is a standard detached JWS over the RFC 8785 canonical JSON (verifiable with jose)', async () => {
    const env = signEnvelope(envelopeOf(row, 'locker-1'), signer);
    const { sig, ...body } = env;
    const [protectedHeader = '', , signature = ''] = sig.split('.');
    const result = await flattenedVerify(
      { protected: protectedHeader, payload: Buffer.from(canonicalJson(body)).toString('base64url'), signature },
      await importJWK(locker.publicJwk, 'EdDSA'),
    );
    expect(result.protectedHeader).toEqual({ alg: 'EdDSA', kid: locker.publicJwk.kid });
  });

  it('canonical JSON sorts keys, drops undefined members and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1.5, y: undefined, x: -0 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"x":0,"z":1.5}}');
    expect(canonicalJson('é\n')).toBe('"é\\n"');
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(TypeError);
  });

  it('signs any document the same way (replies, reported config)', () => {
    const doc = signDocument({ v: 1, ok: true, id: 'j1' }, signer);
    expect(verifyDocument(doc, [locker.publicJwk]).ok).toBe(true);
    expect(verifyDocument({ ...doc, ok: false }, [locker.publicJwk]).ok).toBe(false);
    // A header other than EdDSA is refused before any key is tried.
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(verifyDocument({ ...doc, sig: `${header}..${doc.sig.split('.')[2] ?? ''}` }, [locker.publicJwk])).toEqual({ ok: false, reason: 'algorithm is not EdDSA' });
  });

  it('wraps data that is not an object so the envelope stays valid', () => {
    const env = envelopeOf({ ...row, data: '[1,2]' }, 'locker-1');
    expect(env.data).toEqual({ value: [1, 2] });
    expect(EventEnvelope.safeParse(signEnvelope(env, signer)).success).toBe(true);
  });

  it('carries carrier null on the operator stream', () => {
    const verdict = verifyEnvelope(encodeEnvelope({ ...row, stream: 'op', carrier: null, type: 'alarm.latch_jammed' }, 'locker-1', signer), [locker.publicJwk]);
    expect(verdict.ok && verdict.envelope.carrier).toBe(null);
  });
});
