// Fills a locker database the way years of service would: parcels in every lifecycle state with
// real code digests (HMAC under the locker's own secret) and compartments from the real layout,
// and an outbox backlog written through the store's own append path. Rows go straight into the
// tables in one transaction; nothing here runs the locker's flows.
import { randomBytes } from 'node:crypto';
import { ulid as makeUlid } from 'ulid';
import { codeDigest, generateCode } from '../../../src/codes/pickupCode.js';
import { type CarrierEvent, Events, type OperatorEvent } from '../../../src/domain/events.js';
import { type RandomSource } from '../../../kernel/random.js';
import { type LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';

// ulid's own generator asks the OS for randomness one byte at a time; a pool makes 100k ids cheap.
let pool = randomBytes(0);
let used = 0;
function pooledFraction(): number {
  if (used >= pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  return (pool[used++] ?? 0) / 256;
}

function ulid(time = Date.now()): string {
  return makeUlid(time, pooledFraction);
}

export const benchCarriers = ['swiftpost', 'parcelgo'] as const;

export interface PopulateSpec {
  /** Parcel rows in all (live and historic). */
  total: number;
  /** Live reservations (announced, announced_dropoff) with a code and no compartment yet. */
  announced: number;
  /** Compartments that each get one live stored parcel (the codes are returned). */
  storedIn: readonly string[];
  /** Compartments historic rows point at (reused across rows: those parcels left long ago). */
  historicCompartments: readonly string[];
  /** Unsent events appended to the outbox. */
  outbox: number;
  now: number;
}

export interface Populated {
  /** compartment id -> plaintext code of the stored parcel in it */
  stored: Map<string, string>;
  /** Every code currently live in the database (stored and announced). */
  liveCodes: Set<string>;
  parcels: number;
  outbox: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const historicStates = [
  { state: 'picked_up', kind: 'delivery', weight: 80, inCompartment: true },
  { state: 'retrieved', kind: 'delivery', weight: 8, inCompartment: true },
  { state: 'cancelled', kind: 'delivery', weight: 6, inCompartment: false },
  { state: 'collected', kind: 'dropoff', weight: 6, inCompartment: true },
] as const;

const sizes = ['XS', 'S', 'S', 'M', 'M', 'L', 'XL'] as const;

function pick<T>(list: readonly T[], i: number): T {
  const v = list[i % list.length];
  if (v === undefined) throw new Error('empty list');
  return v;
}

/**
 * A fresh live code: unique among the codes live in this database, as the locker guarantees; of the
 * configuration's default length (codes.length, 10 digits).
 */
export function freshCode(random: RandomSource, live: Set<string>, length = 10): string {
  for (;;) {
    const code = generateCode(length, random);
    if (!live.has(code)) {
      live.add(code);
      return code;
    }
  }
}

/** Looks like a compact JWE (ECDH-ES, X25519, A256GCM) of a code payload, in length and alphabet. */
function jweLike(random: RandomSource): string {
  const part = (n: number): string => Buffer.from(random.bytes(n)).toString('base64url');
  return `${part(150)}..${part(12)}.${part(64)}.${part(16)}`;
}

export interface ParcelInsert {
  id: string;
  carrier: string;
  waybill: string;
  kind: 'delivery' | 'dropoff';
  state: string;
  size: string;
  compartmentId: string | null;
  codeDigest: string | null;
  announcedAt: number | null;
  storedAt: number | null;
  expiresAt: number | null;
  closedAt: number | null;
}

export function parcelInserter(store: LockerStore): (p: ParcelInsert) => void {
  const stmt = store.db.prepare(
    `INSERT INTO parcels (id, carrier, waybill, kind, state, size, compartment_id, code_digest, dwell_hours, announced_at, stored_at, expires_at, closed_at)
     VALUES (@id, @carrier, @waybill, @kind, @state, @size, @compartmentId, @codeDigest, NULL, @announcedAt, @storedAt, @expiresAt, @closedAt)`,
  );
  return (p) => {
    stmt.run(p);
  };
}

let waybillCounter = 0;
export function nextWaybill(carrier: string): string {
  waybillCounter += 1;
  return `${carrier === 'swiftpost' ? 'SP' : 'PG'}${String(Date.now() % 1e6).padStart(6, '0')}${String(waybillCounter).padStart(8, '0')}`;
}

export function populateLocker(store: LockerStore, secret: Uint8Array, random: RandomSource, spec: PopulateSpec): Populated {
  const live = new Set<string>();
  const stored = new Map<string, string>();
  const insert = parcelInserter(store);
  const historic = spec.total - spec.announced - spec.storedIn.length;
  if (historic < 0) throw new Error('more live parcels than rows');
  if (spec.historicCompartments.length === 0) throw new Error('no compartments for historic parcels');
  const totalWeight = historicStates.reduce((s, h) => s + h.weight, 0);
  const bootId = ulid(spec.now - 30 * DAY);

  store.transaction(() => {
    // Historic parcels, oldest first, spread over the last year.
    for (let i = 0; i < historic; i++) {
      const at = spec.now - 365 * DAY + Math.floor((i / Math.max(1, historic)) * 360 * DAY);
      let w = i % totalWeight;
      const h = historicStates.find((s) => (w -= s.weight) < 0) ?? historicStates[0];
      const carrier = pick(benchCarriers, i);
      insert({
        id: ulid(at),
        carrier,
        waybill: nextWaybill(carrier),
        kind: h.kind,
        state: h.state,
        size: pick(sizes, i),
        compartmentId: h.inCompartment ? pick(spec.historicCompartments, i) : null,
        codeDigest: codeDigest(secret, generateCode(8, random)),
        announcedAt: at - 6 * HOUR,
        storedAt: h.state === 'cancelled' ? null : at,
        expiresAt: h.state === 'cancelled' ? null : at + 72 * HOUR,
        closedAt: at + 20 * HOUR,
      });
    }
    // Live reservations: announced by the carrier, waiting for a courier or a consumer drop-off.
    for (let i = 0; i < spec.announced; i++) {
      const at = spec.now - Math.floor((i / Math.max(1, spec.announced)) * 2 * DAY);
      const dropoff = i % 10 === 9;
      const carrier = pick(benchCarriers, i);
      insert({
        id: ulid(at),
        carrier,
        waybill: nextWaybill(carrier),
        kind: dropoff ? 'dropoff' : 'delivery',
        state: dropoff ? 'announced_dropoff' : 'announced',
        size: pick(sizes, i),
        compartmentId: null,
        codeDigest: codeDigest(secret, freshCode(random, live)),
        announcedAt: at,
        storedAt: null,
        expiresAt: null,
        closedAt: null,
      });
    }
    // One stored parcel per listed compartment, expiring in the future.
    spec.storedIn.forEach((compartmentId, i) => {
      const at = spec.now - (i % 48) * HOUR;
      const code = freshCode(random, live);
      stored.set(compartmentId, code);
      insertStored(insert, secret, compartmentId, code, at);
    });
    // The outbox backlog: what a locker cut off from the broker for a long time has queued.
    const outbox = new Outbox(store.db);
    for (let i = 0; i < spec.outbox; i++) {
      const ts = spec.now - spec.outbox * 1000 + i * 1000;
      const carrier = i % 10 === 9 ? null : pick(benchCarriers, i);
      const e = carrier ? carrierEvent(i, carrier, random) : operatorEvent(i);
      outbox.append(e, { id: ulid(ts), ts, clockSynced: true, bootId });
    }
  });
  return { stored, liveCodes: live, parcels: spec.total, outbox: spec.outbox };
}

export function insertStored(insert: (p: ParcelInsert) => void, secret: Uint8Array, compartmentId: string, code: string, at: number): string {
  const id = ulid(at);
  insert({
    id,
    carrier: 'swiftpost',
    waybill: nextWaybill('swiftpost'),
    kind: 'delivery',
    state: 'stored',
    size: 'S',
    compartmentId,
    codeDigest: codeDigest(secret, code),
    announcedAt: null,
    storedAt: at,
    expiresAt: at + 72 * HOUR,
    closedAt: null,
  });
  return id;
}

function carrierEvent(i: number, carrier: string, random: RandomSource): CarrierEvent {
  const parcelId = ulid();
  const waybill = nextWaybill(carrier);
  switch (i % 4) {
    case 0:
      return Events.parcelAnnounced(carrier, { parcelId, waybill, size: 'M', codeChosenByCarrier: false });
    case 1:
      return Events.parcelStored(carrier, { parcelId, waybill, compartment: 'A3', size: 'M', storedAt: Date.now(), expiresAt: Date.now() + 72 * HOUR, courier: 'courier-17', codeJwe: jweLike(random), codeChosenByCarrier: false });
    case 2:
      return Events.parcelPickedUp(carrier, { parcelId, waybill, compartment: 'A3', pickedUpAt: Date.now() });
    default:
      return Events.parcelExpired(carrier, { parcelId, waybill, compartment: 'B2' });
  }
}

function operatorEvent(i: number): OperatorEvent {
  return i % 20 === 9 ? Events.doorLeftOpen({ compartment: 'C4', sessionId: ulid() }) : Events.compartmentService({ compartment: 'D2', inService: true, reason: null });
}
