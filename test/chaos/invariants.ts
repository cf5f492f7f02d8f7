// The invariants a chaos cycle checks after every restart, as pure functions over what the
// suite read from outside the process: the database (read-only, through the store's own
// code), the simulated world file (what physically is in the locker) and what the API
// confirmed before the power went. Where the sensors cannot tell, an honest record sends the
// compartment to inspection: that is accepted; only a WRONG record is a violation.

/** Every invariant the suite counts, in report order. */
export const INVARIANTS = [
  'bootsAndServes',
  'integrity',
  'confirmedFacts',
  'wrongCodeRefused',
  'physicalWorld',
  'seqContiguity',
  'seqStable',
  'transitionEventAudit',
  'consumerReceivesEveryRow',
] as const;
export type Invariant = (typeof INVARIANTS)[number];

export interface Violation {
  invariant: Invariant;
  cycle: number;
  detail: string;
}

export interface SnapParcel {
  id: string;
  carrier: string;
  waybill: string;
  kind: string;
  state: string;
  compartmentId: string | null;
}

export interface SnapCompartment {
  id: string;
  bus: string;
  board: number;
  lock: number;
  inService: boolean;
  fault: string | null;
}

export interface SnapLock {
  position: { bus: string; board: number; lock: number };
  latched: boolean;
  doorOpen: boolean;
  itemPresent: boolean;
}

export interface SnapRow {
  stream: string;
  seq: number;
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface Snapshot {
  integrity: string;
  foreignKeyProblems: number;
  parcels: SnapParcel[];
  compartments: SnapCompartment[];
  inFlightSessions: { id: string; compartmentId: string }[];
  outbox: SnapRow[];
  audit: { action: string; subject: string | null }[];
  world: SnapLock[];
}

/** What the kiosk API confirmed about one parcel (the harness's memory across cycles). */
export interface ConfirmedParcel {
  waybill: string;
  carrier: string;
  kind: 'delivery' | 'dropoff';
  /** The state the API confirmed: stored (deposit view `stored`) or dropped_off. */
  confirmed: 'stored' | 'dropped_off';
  compartment: string;
  /** A pickup or collection was started for it since (the record may then have moved on). */
  retrievalStarted: boolean;
}

const LIVE = new Set(['stored', 'expired', 'dropped_off']);

/** Event types that move a parcel into a state, and that state. */
export const TRANSITIONS: Readonly<Record<string, string>> = {
  'parcel.stored': 'stored',
  'dropoff.dropped_off': 'dropped_off',
  'parcel.picked_up': 'picked_up',
  'parcel.retrieved': 'retrieved',
  'dropoff.collected': 'collected',
  'parcel.expired': 'expired',
};

type Found = { invariant: Invariant; detail: string };

export function checkIntegrity(s: Snapshot): Found[] {
  const out: Found[] = [];
  if (s.integrity !== 'ok') out.push({ invariant: 'integrity', detail: `integrity_check: ${s.integrity.slice(0, 200)}` });
  if (s.foreignKeyProblems > 0) out.push({ invariant: 'integrity', detail: `${s.foreignKeyProblems} foreign key problems` });
  if (s.inFlightSessions.length > 0) out.push({ invariant: 'integrity', detail: `door sessions still in flight after boot: ${s.inFlightSessions.map((x) => x.compartmentId).join(',')}` });
  return out;
}

/** Every fact the API confirmed is still in the record (unless a later retrieval may have moved it on). */
export function checkConfirmedFacts(s: Snapshot, confirmed: Iterable<ConfirmedParcel>): Found[] {
  const out: Found[] = [];
  const byWaybill = new Map<string, SnapParcel>();
  for (const p of s.parcels) byWaybill.set(`${p.carrier}|${p.waybill}`, p);
  for (const c of confirmed) {
    const p = byWaybill.get(`${c.carrier}|${c.waybill}`);
    if (!p) {
      out.push({ invariant: 'confirmedFacts', detail: `${c.waybill}: confirmed ${c.confirmed} in ${c.compartment}, no parcel in the database` });
      continue;
    }
    const allowed = c.retrievalStarted
      ? c.kind === 'delivery'
        ? ['stored', 'picked_up', 'expired', 'retrieved']
        : ['dropped_off', 'collected']
      : c.kind === 'delivery'
        ? ['stored', 'expired']
        : ['dropped_off'];
    if (!allowed.includes(p.state)) out.push({ invariant: 'confirmedFacts', detail: `${c.waybill}: confirmed ${c.confirmed}, recorded ${p.state}` });
    if (p.compartmentId !== c.compartment) out.push({ invariant: 'confirmedFacts', detail: `${c.waybill}: confirmed in ${c.compartment}, recorded in ${p.compartmentId ?? 'none'}` });
  }
  return out;
}

/**
 * Compartments against parcels against the world. A compartment out of service or with a
 * fault is an honest "go and look": accepted whatever the world holds; so is a door standing
 * open (a person is at it; judged once it is shut). In service, a recorded
 * live parcel must physically be there, and an empty record (offered free) must be empty.
 */
export function checkPhysicalWorld(s: Snapshot): Found[] {
  const out: Found[] = [];
  const lockAt = new Map(s.world.map((l) => [`${l.position.bus}/${l.position.board}/${l.position.lock}`, l]));
  const live = new Map<string, SnapParcel[]>();
  for (const p of s.parcels) if (p.compartmentId && LIVE.has(p.state)) live.set(p.compartmentId, [...(live.get(p.compartmentId) ?? []), p]);
  for (const c of s.compartments) {
    const parcels = live.get(c.id) ?? [];
    if (parcels.length > 1) out.push({ invariant: 'physicalWorld', detail: `${c.id}: ${parcels.length} live parcels recorded in one compartment (${parcels.map((p) => p.waybill).join(',')})` });
    const lock = lockAt.get(`${c.bus}/${c.board}/${c.lock}`);
    if (!lock) continue;
    if (!c.inService || c.fault !== null) continue;
    // A door standing open has a person at it: judged at the next boot, once it is shut.
    if (lock.doorOpen) continue;
    if (parcels.length > 0 && !lock.itemPresent) out.push({ invariant: 'physicalWorld', detail: `${c.id}: recorded ${parcels[0]?.state} (${parcels[0]?.waybill}) but the compartment is empty` });
    if (parcels.length === 0 && lock.itemPresent) out.push({ invariant: 'physicalWorld', detail: `${c.id}: offered free but holds a parcel` });
  }
  return out;
}

/** Per stream, the seqs kept are contiguous (no hole between the lowest and the highest). */
export function checkSeqContiguity(s: Snapshot): Found[] {
  const byStream = new Map<string, number[]>();
  for (const r of s.outbox) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r.seq]);
  const out: Found[] = [];
  for (const [stream, seqs] of byStream) {
    const sorted = [...seqs].sort((a, b) => a - b);
    const first = sorted[0] ?? 1;
    const bad = sorted.findIndex((q, i) => q !== first + i);
    if (first !== 1 || bad >= 0) out.push({ invariant: 'seqContiguity', detail: `${stream}: seqs ${first}..${sorted.at(-1) ?? 0} with a hole at ${bad >= 0 ? String(sorted[bad]) : 'the start'}` });
  }
  return out;
}

/** (stream, seq) keeps its id from one boot to the next, and a stream's last seq never goes back. */
export function checkSeqStable(s: Snapshot, seen: Map<string, string>, lastSeq: Map<string, number>): Found[] {
  const out: Found[] = [];
  const top = new Map<string, number>();
  for (const r of s.outbox) {
    const key = `${r.stream}|${r.seq}`;
    const had = seen.get(key);
    if (had !== undefined && had !== r.id) out.push({ invariant: 'seqStable', detail: `${key}: was ${had}, now ${r.id} (a seq reused)` });
    seen.set(key, r.id);
    top.set(r.stream, Math.max(top.get(r.stream) ?? 0, r.seq));
  }
  for (const [stream, before] of lastSeq) {
    const now = top.get(stream) ?? 0;
    if (now < before) out.push({ invariant: 'seqStable', detail: `${stream}: last seq went back from ${before} to ${now}` });
  }
  for (const [stream, now] of top) lastSeq.set(stream, Math.max(now, lastSeq.get(stream) ?? 0));
  return out;
}

/**
 * Every parcel transition has exactly one event and one audit row, and the parcel's state is
 * the one its last transition event moved it to (no event for a transition that did not happen).
 */
export function checkTransitions(s: Snapshot): Found[] {
  const out: Found[] = [];
  const parcels = new Map(s.parcels.map((p) => [p.id, p]));
  const events = new Map<string, SnapRow[]>();
  for (const r of s.outbox) {
    if (!(r.type in TRANSITIONS)) continue;
    const id = typeof r.data.parcelId === 'string' ? r.data.parcelId : '';
    events.set(id, [...(events.get(id) ?? []), r]);
  }
  const audits = new Map<string, number>();
  for (const a of s.audit) if (a.action in TRANSITIONS && a.subject) audits.set(`${a.subject}|${a.action}`, (audits.get(`${a.subject}|${a.action}`) ?? 0) + 1);
  for (const [parcelId, rows] of events) {
    const p = parcels.get(parcelId);
    if (!p) {
      out.push({ invariant: 'transitionEventAudit', detail: `${rows[0]?.type} for unknown parcel ${parcelId}` });
      continue;
    }
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    for (const [type, n] of counts) {
      if (n !== 1) out.push({ invariant: 'transitionEventAudit', detail: `${p.waybill}: ${n} ${type} events` });
      const a = audits.get(`${parcelId}|${type}`) ?? 0;
      if (a !== n) out.push({ invariant: 'transitionEventAudit', detail: `${p.waybill}: ${n} ${type} event(s), ${a} audit row(s)` });
    }
    const last = [...rows].sort((a, b) => a.seq - b.seq).at(-1);
    const expected = last ? TRANSITIONS[last.type] : undefined;
    if (expected !== undefined && expected !== p.state) out.push({ invariant: 'transitionEventAudit', detail: `${p.waybill}: last transition event ${last?.type}, state ${p.state}` });
  }
  for (const p of s.parcels) {
    const target = Object.entries(TRANSITIONS).find(([, st]) => st === p.state)?.[0];
    if (target && !(events.get(p.id) ?? []).some((r) => r.type === target)) out.push({ invariant: 'transitionEventAudit', detail: `${p.waybill}: state ${p.state} without a ${target} event` });
  }
  for (const [key, n] of audits) {
    const [parcelId, action] = key.split('|');
    const e = (events.get(parcelId ?? '') ?? []).filter((r) => r.type === action).length;
    if (e === 0) out.push({ invariant: 'transitionEventAudit', detail: `${n} ${action ?? ''} audit row(s) for ${parcelId ?? ''} without an event` });
  }
  return out;
}

export interface ConsumerView {
  find(locker: string, stream: string, seq: number): { id: string; conflicts: string[] } | undefined;
}

/**
 * What the consumer received agrees with the record: nothing with an id the database does
 * not hold under that (stream, seq); with `complete`, every row was received.
 */
export function checkConsumer(s: Snapshot, locker: string, consumer: ConsumerView, complete: boolean): Found[] {
  const out: Found[] = [];
  let missing = 0;
  let example = '';
  for (const r of s.outbox) {
    const got = consumer.find(locker, r.stream, r.seq);
    if (!got) {
      missing++;
      example ||= `${r.stream}#${r.seq} ${r.type}`;
      continue;
    }
    if (got.id !== r.id || got.conflicts.length > 0) out.push({ invariant: 'consumerReceivesEveryRow', detail: `${r.stream}#${r.seq}: received ${[got.id, ...got.conflicts].join('/')}, recorded ${r.id}` });
  }
  if (complete && missing > 0) out.push({ invariant: 'consumerReceivesEveryRow', detail: `${missing} row(s) never received, e.g. ${example}` });
  return out;
}
