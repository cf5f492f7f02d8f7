// Fuzzes the event envelope (src/sync/envelope.ts) and the locker's detached signature check
// (src/sync/detachedSignature.ts). Properties:
// - a signed envelope of any outbox row verifies with the locker's key (and only with it, and
//   only for its own locker);
// - arbitrary JSON and arbitrary bytes never verify and never throw;
// - no mutation of a valid signed envelope verifies, at the JSON level (a member changed,
//   added or removed, in the envelope or in its data, the signature replaced) or at the byte
//   level (flipped, inserted, deleted bytes). The only mutants allowed through are the same
//   document: the same canonical (RFC 8785) body and the same signature bytes, such as a
//   member order or a number spelling JSON does not distinguish.
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, ed25519Signer } from '../../src/sync/detachedSignature.js';
import { encodeEnvelope, verifyEnvelope } from '../../src/sync/envelope.js';
import { type OutboxRow } from '../../src/store/outbox.js';
import { describeViolations, runFuzz, timeoutOf, type Violation } from './support/fuzzRun.js';

const LOCKER = 'locker-fuzz-1';
const lockerKey = generateKeyPairSync('ed25519');
const otherKey = generateKeyPairSync('ed25519');
const signer = ed25519Signer(lockerKey.privateKey, 'locker-key-1');

const id = fc.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/);
const row: fc.Arbitrary<OutboxRow> = fc.record({
  stream: fc.constantFrom('op', 'c/acme'),
  seq: fc.integer({ min: 1, max: 2 ** 40 }),
  id,
  type: fc.constantFrom('parcel.stored', 'parcel.collected', 'door.forced_open', 'alarm.raised', 'x'),
  carrier: fc.constantFrom(null, 'acme', 'bolt'),
  ts: fc.integer({ min: 0, max: 2 ** 42 }),
  clockSynced: fc.boolean(),
  bootId: id,
  data: fc.oneof(
    fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }).map((d) => JSON.stringify(d)),
    fc.constantFrom('not json', '[1,2]', '"text"', 'null'),
  ),
  wire: fc.constant(null),
  sent: fc.constant(false),
  acked: fc.constant(false),
});

type Json = ReturnType<typeof JSON.parse>;

/** A JSON-level change to a parsed envelope. */
const jsonMutation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key: fc.constantFrom('v', 'id', 'type', 'locker', 'carrier', 'bootId', 'seq', 'ts', 'clockSynced', 'data', 'replay', 'sig', 'extra', '__proto__'), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom('v', 'id', 'type', 'locker', 'carrier', 'bootId', 'seq', 'ts', 'clockSynced', 'data', 'sig') }),
  fc.record({ op: fc.constant('data' as const), key: fc.string({ maxLength: 8 }), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ op: fc.constant('replay' as const) }),
  fc.record({ op: fc.constant('sigChar' as const), at: fc.nat(), char: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.= +/') }),
  fc.record({ op: fc.constant('sigOf' as const), other: row }),
);

/** A byte-level change to the payload. */
const byteMutation = fc.array(
  fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), byte: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x20, 0x22, 0x2c, 0x5c, 0x7b, 0x7d, 0x30, 0x2e)) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

function applyJson(env: Record<string, Json>, m: MutationOf<typeof jsonMutation>): string {
  const copy = JSON.parse(JSON.stringify(env)) as Record<string, Json>;
  switch (m.op) {
    case 'set':
      if (m.key === '__proto__') return JSON.stringify(copy).replace(/^\{/, `{"__proto__":${JSON.stringify(m.value)},`);
      copy[m.key] = m.value;
      break;
    case 'delete':
      delete copy[m.key];
      break;
    case 'data':
      copy['data'] = { ...(copy['data'] as Record<string, Json>), [m.key]: m.value };
      break;
    case 'replay':
      copy['replay'] = true;
      break;
    case 'sigChar': {
      const sig = String(copy['sig']);
      const at = m.at % sig.length;
      copy['sig'] = sig.slice(0, at) + m.char + sig.slice(at + 1);
      break;
    }
    case 'sigOf':
      copy['sig'] = (JSON.parse(encodeEnvelope(m.other, LOCKER, signer).toString('utf8')) as { sig: string }).sig;
      break;
  }
  return JSON.stringify(copy);
}

type MutationOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

function applyBytes(payload: Buffer, ms: MutationOf<typeof byteMutation>): Buffer {
  let b = Buffer.from(payload);
  for (const m of ms) {
    const at = m.at % Math.max(1, b.length);
    if (m.op === 'flip') b[at] = (b[at] ?? 0) ^ (1 << m.bit);
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.of(m.byte), b.subarray(at)]);
    else b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
  }
  return b;
}

/** Same document: same canonical body, same protected header, same signature bytes. */
function sameDocument(original: string, mutant: Buffer | string): boolean {
  try {
    const a = JSON.parse(original) as Record<string, Json>;
    const b = JSON.parse(typeof mutant === 'string' ? mutant : mutant.toString('utf8')) as Record<string, Json>;
    const { sig: sa, ...ba } = a;
    const { sig: sb, ...bb } = b;
    const [ha, , xa] = String(sa).split('.');
    const [hb, , xb] = String(sb).split('.');
    return canonicalJson(ba) === canonicalJson(bb) && ha === hb && Buffer.from(xa ?? '', 'base64url').equals(Buffer.from(xb ?? '', 'base64url'));
  } catch {
    return false;
  }
}

function verifies(payload: Buffer | string, what: string): Violation[] {
  try {
    return verifyEnvelope(payload, [lockerKey.publicKey], LOCKER).ok ? [{ kind: 'forgery-verifies', detail: `${what}: ${String(payload).slice(0, 300)}` }] : [];
  } catch (e) {
    return [{ kind: 'throw', detail: `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` }];
  }
}

/**
 * Mutants that verified because they are the same document. Those whose `sig` text differs
 * show the signature's text is malleable (the bytes are not): see docs/security.md.
 */
const accepted = { sameDocument: 0, sigTextDiffers: 0, example: '' };

function checkMutant(original: string, mutant: Buffer | string, what: string): Violation[] {
  let ok: boolean;
  try {
    ok = verifyEnvelope(mutant, [lockerKey.publicKey], LOCKER).ok;
  } catch (e) {
    return [{ kind: 'throw', detail: `${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` }];
  }
  if (!ok) return [];
  if (!sameDocument(original, mutant)) return [{ kind: 'mutant-verifies', detail: `${what}: ${String(mutant).slice(0, 400)}` }];
  accepted.sameDocument += 1;
  const sigOf = (p: Buffer | string): string => String((JSON.parse(String(p)) as { sig?: unknown }).sig);
  if (sigOf(mutant) !== sigOf(original)) {
    accepted.sigTextDiffers += 1;
    accepted.example ||= `${sigOf(original)} -> ${sigOf(mutant)}`;
  }
  return [];
}

describe('fuzzing the event envelope and its signature check', () => {
  it(
    'a signed envelope of any row verifies with the locker key only, and only for its locker',
    async () => {
      const figures = await runFuzz({
        target: 'event envelope: signed rows',
        arbitrary: row,
        check: (r) => {
          const payload = encodeEnvelope(r, LOCKER, signer);
          const found: Violation[] = [];
          if (!verifyEnvelope(payload, [lockerKey.publicKey], LOCKER).ok) found.push({ kind: 'genuine-refused', detail: payload.toString('utf8').slice(0, 300) });
          if (verifyEnvelope(payload, [otherKey.publicKey], LOCKER).ok) found.push({ kind: 'other-key-verifies', detail: payload.toString('utf8').slice(0, 300) });
          if (verifyEnvelope(payload, [lockerKey.publicKey], 'locker-2').ok) found.push({ kind: 'other-locker-verifies', detail: payload.toString('utf8').slice(0, 300) });
          return found;
        },
        budget: { ci: 300, long: 20_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

  it(
    'arbitrary JSON and arbitrary bytes never verify and never throw',
    async () => {
      const envelopeLike = fc.record(
        { v: fc.oneof(fc.constant(1), fc.jsonValue()), id, type: fc.string(), locker: fc.constant(LOCKER), carrier: fc.constantFrom(null, 'acme'), bootId: id, seq: fc.integer(), ts: fc.integer(), clockSynced: fc.boolean(), data: fc.jsonValue(), sig: fc.oneof(fc.string(), fc.stringMatching(/^eyJ[A-Za-z0-9_-]{10,40}\.\.[A-Za-z0-9_-]{86}$/)) },
        { requiredKeys: [] },
      );
      const figures = await runFuzz({
        target: 'event envelope: arbitrary JSON and bytes',
        arbitrary: fc.oneof(envelopeLike.map((e) => JSON.stringify(e)), fc.jsonValue().map((j) => JSON.stringify(j)), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b))),
        check: (p) => verifies(p, 'arbitrary'),
        budget: { ci: 1000, long: 60_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

  it(
    'no JSON-level mutation of a signed envelope verifies',
    async () => {
      const figures = await runFuzz({
        target: 'event envelope: JSON mutations',
        arbitrary: fc.tuple(row, fc.array(jsonMutation, { minLength: 1, maxLength: 3 })),
        check: ([r, ms]) => {
          const original = encodeEnvelope(r, LOCKER, signer).toString('utf8');
          let mutant = original;
          for (const m of ms) mutant = applyJson(JSON.parse(mutant) as Record<string, Json>, m);
          return checkMutant(original, mutant, `mutations ${JSON.stringify(ms).slice(0, 200)}`);
        },
        budget: { ci: 600, long: 40_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

  it(
    'no byte-level mutation of a signed envelope verifies',
    async () => {
      const figures = await runFuzz({
        target: 'event envelope: byte mutations',
        arbitrary: fc.tuple(row, byteMutation),
        check: ([r, ms]) => {
          const original = encodeEnvelope(r, LOCKER, signer);
          return checkMutant(original.toString('utf8'), applyBytes(original, ms), `bytes ${JSON.stringify(ms)}`);
        },
        budget: { ci: 600, long: 40_000 },
        extra: () => ({ equivalentMutantsAccepted: { ...accepted } }),
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );
});
