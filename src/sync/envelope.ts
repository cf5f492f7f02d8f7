// The event envelope of DESIGN.md section 7: what one outbox row looks like on the wire, signed
// by the locker's Ed25519 key (see detachedSignature.ts for the signature form). Consumers
// parse with EventEnvelope, check the signature with verifyEnvelope, and dedupe by id or by
// (locker, carrier, epoch, seq): a new database or a restored backup starts a new epoch, in which
// every stream restarts at seq 1 (src/store/databaseIdentity.ts).
import { z } from 'zod';
import { signDocument, verifyDocument, type DocumentSigner, type VerifyKey } from './detachedSignature.js';
import type { OutboxEntry, OutboxSealer } from '../store/outbox.js';

export const ENVELOPE_VERSION = 1;

export const EventEnvelope = z.object({
  v: z.literal(ENVELOPE_VERSION),
  id: z.string().min(1).max(64),
  type: z.string().min(1).max(100),
  locker: z.string().min(1).max(64),
  /** null on the operator stream. */
  carrier: z.string().min(1).max(64).nullable(),
  bootId: z.string().min(1).max(64),
  /** The stream epoch (the database's): seqs count from 1 again in a new one. Absent from lockerd before it. */
  epoch: z.string().min(1).max(64).optional(),
  seq: z.number().int().min(1),
  /** Milliseconds since the epoch on the locker's clock. */
  ts: z.number().int(),
  /** false when the locker's clock had not been synchronised yet: ts may be far off. */
  clockSynced: z.boolean(),
  data: z.record(z.string(), z.unknown()),
  /** Present and true when the row is sent again because a consumer asked for a replay. */
  replay: z.literal(true).optional(),
  sig: z.string().min(10).max(400),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
export type UnsignedEnvelope = Omit<EventEnvelope, 'sig'>;

/** The row fields an envelope is built from (an outbox row, or a row being appended). */
export type EnvelopeSource = Omit<OutboxEntry, 'stream'> & { stream?: string };

/** Builds the unsigned envelope of an outbox row: the one place an envelope's fields are chosen. */
export function envelopeOf(row: EnvelopeSource, locker: string, replay = false, epoch?: string): UnsignedEnvelope {
  let data: unknown;
  try {
    data = JSON.parse(row.data);
  } catch {
    data = { unreadable: true };
  }
  // The core always writes an object; anything else is wrapped so the envelope stays valid.
  const record = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : { value: data };
  const env: UnsignedEnvelope = {
    v: ENVELOPE_VERSION,
    id: row.id,
    type: row.type,
    locker,
    carrier: row.carrier,
    bootId: row.bootId,
    ...(epoch !== undefined ? { epoch } : {}),
    seq: row.seq,
    ts: row.ts,
    clockSynced: row.clockSynced,
    data: record,
  };
  if (replay) env.replay = true;
  return env;
}

export function signEnvelope(env: UnsignedEnvelope, signer: DocumentSigner): EventEnvelope {
  return signDocument(env, signer);
}

/** The MQTT payload of one outbox row. */
export function encodeEnvelope(row: EnvelopeSource, locker: string, signer: DocumentSigner, replay = false, epoch?: string): Buffer {
  return Buffer.from(JSON.stringify(signEnvelope(envelopeOf(row, locker, replay, epoch), signer)), 'utf8');
}

/**
 * The outbox's sealer: signs and encodes each row when it is appended, inside the appending
 * transaction, so the drain publishes stored bytes (docs/protocol.md, "Signed at append"). The
 * stream epoch is the database's, fixed for the life of the process (a new epoch starts only at
 * boot, src/store/databaseIdentity.ts).
 */
export function envelopeSealer(locker: string, signer: DocumentSigner, epoch?: string): OutboxSealer {
  return (entry) => encodeEnvelope(entry, locker, signer, false, epoch);
}

/**
 * The payload of a row sent again on a consumer's {replayFrom}: the stored envelope with
 * `replay: true` added and signed anew, so the flag is covered by the signature like every
 * other member. Only replays pay for a signature at publish time.
 */
export function replayPayload(wire: Buffer, signer: DocumentSigner): Buffer {
  const env = JSON.parse(wire.toString('utf8')) as Record<string, unknown>;
  return Buffer.from(JSON.stringify(signDocument({ ...env, replay: true }, signer)), 'utf8');
}

export type EnvelopeVerdict = { ok: true; envelope: EventEnvelope } | { ok: false; reason: string };

/**
 * Parses and verifies an MQTT payload. keys are the locker's enrolled public keys (several
 * during a key rotation). When expectedLocker is given the envelope must name that locker, so a
 * validly signed event of locker A cannot be passed off on locker B's topic.
 */
export function verifyEnvelope(payload: Uint8Array | string, keys: readonly VerifyKey[], expectedLocker?: string): EnvelopeVerdict {
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = EventEnvelope.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not an envelope: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  if (expectedLocker !== undefined && parsed.data.locker !== expectedLocker) return { ok: false, reason: 'envelope names another locker' };
  // Verify the document as received, not as zod re-shaped it, so unknown members stay covered.
  const verdict = verifyDocument(json as Record<string, unknown>, keys);
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  return { ok: true, envelope: parsed.data };
}
