// Typed access to the locker database. Every method is one statement or a few; callers group
// them with `transaction()` so a state change, its audit record and its outbound events land
// together or not at all (transactional outbox).
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Db, mapStoreError } from './database.js';
import { type BudgetRow } from '../codes/budgetLedger.js';
import { type SizeClass, type CompartmentConfig, type CarrierConfig, CarrierConfig as CarrierConfigSchema } from '../config/schema.js';

export type ParcelKind = 'delivery' | 'dropoff';
export type ParcelState =
  | 'announced'
  | 'stored'
  | 'picked_up'
  | 'expired'
  | 'retrieved'
  | 'cancelled'
  | 'announced_dropoff'
  | 'dropped_off'
  | 'collected';

export const liveParcelStates: readonly ParcelState[] = ['stored', 'expired', 'dropped_off'];

export interface CompartmentRow {
  id: string;
  size: SizeClass;
  bus: string;
  board: number;
  lock: number;
  accessible: boolean;
  column: number;
  row: number;
  inService: boolean;
  fault: string | null;
}

export interface ParcelRow {
  id: string;
  carrier: string;
  waybill: string;
  kind: ParcelKind;
  state: ParcelState;
  size: SizeClass | null;
  compartmentId: string | null;
  codeDigest: string | null;
  dwellHours: number | null;
  announcedAt: number | null;
  storedAt: number | null;
  expiresAt: number | null;
  closedAt: number | null;
}

export interface DoorSessionRow {
  id: string;
  compartmentId: string;
  purpose: string;
  /** uncertain: ended with an outcome the sensors could not tell; its compartment waits for an operator (settled). */
  state: 'in_flight' | 'done' | 'failed' | 'reconciled' | 'uncertain' | 'settled';
  actor: string;
  context: Record<string, unknown>;
  startedAt: number;
}

export type { BudgetRow } from '../codes/budgetLedger.js';

/** One entry of the badge revocation list (table badge_revocations). Times in epoch ms. */
export interface RevocationRow {
  issuer: string;
  kind: 'badge' | 'subject';
  /** The jti (kind badge) or the subject id (kind subject). */
  target: string;
  role: 'courier' | 'operator';
  /** Subject entries: badges issued before this are refused. */
  notBefore: number | null;
  /** revokedAt for a badge id, notBefore for a subject: the entry expires a maximum lifetime after it. */
  basisAt: number;
  revokedAt: number;
  revokedBy: string;
}

interface RawRevocation {
  issuer: string;
  kind: 'badge' | 'subject';
  target: string;
  role: 'courier' | 'operator';
  not_before: number | null;
  basis_at: number;
  revoked_at: number;
  revoked_by: string;
}

// The outbox tables belong to store/outbox.ts; the event input type is re-exported for callers
// that build events next to other store calls.
export type { OutboxEventInput, EventStamp } from './outbox.js';

interface RawCompartment {
  id: string;
  size: SizeClass;
  bus: string;
  board: number;
  lock: number;
  accessible: number;
  col: number;
  row: number;
  in_service: number;
  fault: string | null;
}

interface RawParcel {
  id: string;
  carrier: string;
  waybill: string;
  kind: ParcelKind;
  state: ParcelState;
  size: SizeClass | null;
  compartment_id: string | null;
  code_digest: string | null;
  dwell_hours: number | null;
  announced_at: number | null;
  stored_at: number | null;
  expires_at: number | null;
  closed_at: number | null;
}

function compartmentFromRaw(r: RawCompartment): CompartmentRow {
  return {
    id: r.id,
    size: r.size,
    bus: r.bus,
    board: r.board,
    lock: r.lock,
    accessible: r.accessible === 1,
    column: r.col,
    row: r.row,
    inService: r.in_service === 1,
    fault: r.fault,
  };
}

function parcelFromRaw(r: RawParcel): ParcelRow {
  return {
    id: r.id,
    carrier: r.carrier,
    waybill: r.waybill,
    kind: r.kind,
    state: r.state,
    size: r.size,
    compartmentId: r.compartment_id,
    codeDigest: r.code_digest,
    dwellHours: r.dwell_hours,
    announcedAt: r.announced_at,
    storedAt: r.stored_at,
    expiresAt: r.expires_at,
    closedAt: r.closed_at,
  };
}

export class LockerStore {
  private readonly stmts;

  constructor(readonly db: Db) {
    this.stmts = {
      compartments: db.prepare<[], RawCompartment>('SELECT * FROM compartments WHERE active = 1 ORDER BY col, row, id'),
      compartment: db.prepare<[string], RawCompartment>('SELECT * FROM compartments WHERE id = ?'),
      parcelByDigest: db.prepare<[string], RawParcel>(
        "SELECT * FROM parcels WHERE code_digest = ? AND state IN ('announced','stored','expired','announced_dropoff')",
      ),
      // A code already used up (issue 11, defect 2): the most recent parcel it opened, closed since a time.
      spentParcelByDigest: db.prepare<[string, number], RawParcel>(
        "SELECT * FROM parcels WHERE code_digest = ? AND state IN ('picked_up','retrieved','collected') AND closed_at >= ? ORDER BY closed_at DESC LIMIT 1",
      ),
      parcel: db.prepare<[string], RawParcel>('SELECT * FROM parcels WHERE id = ?'),
      recentSessionsIn: db.prepare<[string, number], { purpose: string; state: string; started_at: number; ended_at: number | null; outcome: string | null }>(
        'SELECT purpose, state, started_at, ended_at, outcome FROM door_sessions WHERE compartment_id = ? ORDER BY started_at DESC, id DESC LIMIT ?',
      ),
      parcelByWaybill: db.prepare<[string, string], RawParcel>(
        "SELECT * FROM parcels WHERE carrier = ? AND waybill = ? AND state IN ('announced','stored','expired','announced_dropoff','dropped_off')",
      ),
      occupied: db.prepare<[], { compartment_id: string }>(
        "SELECT DISTINCT compartment_id FROM parcels WHERE state IN ('stored','expired','dropped_off') AND compartment_id IS NOT NULL",
      ),
      parcelsIn: db.prepare<[string], RawParcel>("SELECT * FROM parcels WHERE compartment_id = ? AND state IN ('stored','expired','dropped_off')"),
      dueForExpiry: db.prepare<[number], RawParcel>("SELECT * FROM parcels WHERE state = 'stored' AND expires_at <= ? ORDER BY expires_at LIMIT 500"),
      collectable: db.prepare<[string], RawParcel>(
        "SELECT * FROM parcels WHERE carrier = ? AND state IN ('expired','dropped_off') ORDER BY COALESCE(stored_at, announced_at)",
      ),
      carrierParcels: db.prepare<[string], RawParcel>(
        "SELECT * FROM parcels WHERE carrier = ? AND state IN ('announced','stored','expired','announced_dropoff','dropped_off') ORDER BY announced_at, stored_at",
      ),
      insertParcel: db.prepare(
        `INSERT INTO parcels (id, carrier, waybill, kind, state, size, compartment_id, code_digest, dwell_hours, announced_at, stored_at, expires_at)
         VALUES (@id, @carrier, @waybill, @kind, @state, @size, @compartmentId, @codeDigest, @dwellHours, @announcedAt, @storedAt, @expiresAt)`,
      ),
      storeParcel: db.prepare(
        `UPDATE parcels SET state = @state, compartment_id = @compartmentId, code_digest = @codeDigest, size = @size,
           stored_at = @storedAt, expires_at = @expiresAt WHERE id = @id AND state = @from`,
      ),
      setParcelState: db.prepare('UPDATE parcels SET state = @state, closed_at = @closedAt WHERE id = @id AND state = @from'),
      setService: db.prepare('UPDATE compartments SET in_service = @inService, fault = @fault WHERE id = @id'),
      upsertCompartment: db.prepare(
        `INSERT INTO compartments (id, size, bus, board, lock, accessible, col, row, active)
         VALUES (@id, @size, @bus, @board, @lock, @accessible, @col, @row, 1)
         ON CONFLICT(id) DO UPDATE SET size = excluded.size, bus = excluded.bus, board = excluded.board, lock = excluded.lock,
           accessible = excluded.accessible, col = excluded.col, row = excluded.row, active = 1`,
      ),
      deactivateCompartments: db.prepare('UPDATE compartments SET active = 0'),
      insertSession: db.prepare(
        `INSERT INTO door_sessions (id, compartment_id, purpose, state, actor, context, started_at)
         VALUES (@id, @compartmentId, @purpose, 'in_flight', @actor, @context, @startedAt)`,
      ),
      endSession: db.prepare("UPDATE door_sessions SET state = @state, ended_at = @endedAt, outcome = @outcome WHERE id = @id AND state = 'in_flight'"),
      inFlight: db.prepare<[], RawSession>(
        "SELECT * FROM door_sessions WHERE state = 'in_flight' ORDER BY started_at",
      ),
      uncertain: db.prepare<[], RawSession>("SELECT * FROM door_sessions WHERE state = 'uncertain' ORDER BY ended_at, rowid"),
      uncertainIn: db.prepare<[string], RawSession>("SELECT * FROM door_sessions WHERE state = 'uncertain' AND compartment_id = ? ORDER BY ended_at DESC, rowid DESC LIMIT 1"),
      settleSession: db.prepare("UPDATE door_sessions SET state = 'settled', outcome = @outcome WHERE id = @id AND state = 'uncertain'"),
      audit: db.prepare('INSERT INTO audit (ts, actor, action, subject, data) VALUES (?, ?, ?, ?, ?)'),
      recentAudit: db.prepare<[string, number], { id: number; ts: number; actor: string; action: string; subject: string | null; data: string }>(
        'SELECT * FROM audit WHERE action LIKE ? ORDER BY id DESC LIMIT ?',
      ),
      budget: db.prepare<[string], { tokens: number; updated_at: number; alarmed_at: number }>('SELECT tokens, updated_at, alarmed_at FROM attempt_budgets WHERE scope = ?'),
      putBudget: db.prepare(
        `INSERT INTO attempt_budgets (scope, tokens, updated_at, alarmed_at) VALUES (@scope, @tokens, @updatedAt, @alarmedAt)
         ON CONFLICT(scope) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, alarmed_at = excluded.alarmed_at`,
      ),
      parcelByToken: db.prepare<[string], RawParcel>("SELECT * FROM parcels WHERE token_digest = ? AND state IN ('stored','expired')"),
      setTokenDigest: db.prepare('UPDATE parcels SET token_digest = ? WHERE id = ?'),
      liveCodes: db.prepare<[], { n: number }>(
        "SELECT COUNT(*) AS n FROM parcels WHERE code_digest IS NOT NULL AND state IN ('announced','stored','expired','announced_dropoff')",
      ),
      carriers: db.prepare<[], { id: string; config: string }>('SELECT id, config FROM carriers ORDER BY id'),
      upsertCarrier: db.prepare(
        'INSERT INTO carriers (id, config, updated_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at',
      ),
      deleteCarrier: db.prepare('DELETE FROM carriers WHERE id = ?'),
      getSetting: db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?'),
      putSetting: db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getProvisioned: db.prepare<[string], { version: number; value: string }>('SELECT version, value FROM provisioned WHERE key = ?'),
      putProvisioned: db.prepare(
        `INSERT INTO provisioned (key, version, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET version = excluded.version, value = excluded.value, updated_at = excluded.updated_at`,
      ),
    };
  }

  /** Runs fn in one IMMEDIATE transaction; disk-full and I/O errors become coded errors. */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (e) {
      return mapStoreError(e);
    }
  }

  // ---- compartments ----

  compartments(): CompartmentRow[] {
    return this.stmts.compartments.all().map(compartmentFromRaw);
  }

  compartment(id: string): CompartmentRow | undefined {
    const r = this.stmts.compartment.get(id);
    return r ? compartmentFromRaw(r) : undefined;
  }

  /** Replaces the active layout. Service state and faults of kept compartments survive. */
  applyLayout(compartments: CompartmentConfig[]): void {
    this.stmts.deactivateCompartments.run();
    for (const c of compartments) {
      this.stmts.upsertCompartment.run({
        id: c.id,
        size: c.size,
        bus: c.bus,
        board: c.board,
        lock: c.lock,
        accessible: c.accessible ? 1 : 0,
        col: c.column,
        row: c.row,
      });
    }
  }

  setService(id: string, inService: boolean, fault: string | null): void {
    this.stmts.setService.run({ id, inService: inService ? 1 : 0, fault });
  }

  occupiedCompartments(): Set<string> {
    return new Set(this.stmts.occupied.all().map((r) => r.compartment_id));
  }

  parcelsIn(compartmentId: string): ParcelRow[] {
    return this.stmts.parcelsIn.all(compartmentId).map(parcelFromRaw);
  }

  // ---- parcels ----

  parcel(id: string): ParcelRow | undefined {
    const r = this.stmts.parcel.get(id);
    return r ? parcelFromRaw(r) : undefined;
  }

  parcelByDigest(digest: string): ParcelRow | undefined {
    const r = this.stmts.parcelByDigest.get(digest);
    return r ? parcelFromRaw(r) : undefined;
  }

  /** The last parcel this code opened that has left the locker since `since` (picked up, retrieved, collected). */
  spentParcelByDigest(digest: string, since: number): ParcelRow | undefined {
    const r = this.stmts.spentParcelByDigest.get(digest, since);
    return r ? parcelFromRaw(r) : undefined;
  }

  /** The last door sessions of a compartment, newest first (service mode's details; no context, no actor). */
  recentSessionsIn(compartmentId: string, limit: number): { purpose: string; state: string; startedAt: number; endedAt: number | null; outcome: string | null }[] {
    return this.stmts.recentSessionsIn.all(compartmentId, limit).map((r) => ({ purpose: r.purpose, state: r.state, startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome }));
  }

  liveParcelByWaybill(carrier: string, waybill: string): ParcelRow | undefined {
    const r = this.stmts.parcelByWaybill.get(carrier, waybill);
    return r ? parcelFromRaw(r) : undefined;
  }

  insertParcel(p: Omit<ParcelRow, 'closedAt'>): void {
    this.stmts.insertParcel.run({ ...p });
  }

  /**
   * Stores a reserved parcel (compare-and-set: it must still be in `from`, its reservation
   * state). Throws TRANSACTION_STATE otherwise, inside the caller's transaction, so nothing
   * recorded with it is written.
   */
  storeParcel(p: { id: string; from: 'announced' | 'announced_dropoff'; state: 'stored' | 'dropped_off'; compartmentId: string; codeDigest: string | null; size: SizeClass; storedAt: number; expiresAt: number | null }): void {
    if (this.stmts.storeParcel.run(p).changes !== 1) this.conflict(p.id, p.from);
  }

  /** Moves a parcel from one state to the next (compare-and-set); false when it was no longer in `from`. */
  moveParcel(id: string, from: ParcelState, state: ParcelState, closedAt: number | null): boolean {
    return this.stmts.setParcelState.run({ id, from, state, closedAt }).changes === 1;
  }

  /**
   * moveParcel for a transaction that must not commit without it: throws TRANSACTION_STATE
   * (context: parcelId, expected, found) when the parcel was no longer in `from`. Called inside
   * the recorder's transaction, the throw rolls back its audit row and events too.
   */
  transitionParcel(id: string, from: ParcelState, state: ParcelState, closedAt: number | null): void {
    if (!this.moveParcel(id, from, state, closedAt)) this.conflict(id, from);
  }

  private conflict(id: string, expected: ParcelState): never {
    const found = this.parcel(id)?.state ?? null;
    throw new LockerError(ErrorCodes.TRANSACTION_STATE, `parcel ${id} is no longer ${expected} (now ${found ?? 'gone'}); nothing was changed`, { parcelId: id, expected, found });
  }

  dueForExpiry(now: number): ParcelRow[] {
    return this.stmts.dueForExpiry.all(now).map(parcelFromRaw);
  }

  collectable(carrier: string): ParcelRow[] {
    return this.stmts.collectable.all(carrier).map(parcelFromRaw);
  }

  carrierParcels(carrier: string): ParcelRow[] {
    return this.stmts.carrierParcels.all(carrier).map(parcelFromRaw);
  }

  // ---- door sessions ----

  insertSession(s: Omit<DoorSessionRow, 'state'>): void {
    this.stmts.insertSession.run({ ...s, context: JSON.stringify(s.context) });
  }

  /** Ends a session still in flight; a session already ended keeps its first outcome. Returns whether it ended it. */
  endSession(id: string, state: 'done' | 'failed' | 'reconciled' | 'uncertain', outcome: string, endedAt: number): boolean {
    return this.stmts.endSession.run({ id, state, outcome, endedAt }).changes === 1;
  }

  /** Sessions whose outcome the sensors could not tell, oldest first (each holds its compartment in inspection). */
  uncertainSessions(): (DoorSessionRow & { endedAt: number | null; outcome: string | null })[] {
    return this.stmts.uncertain.all().map((r) => ({ ...sessionFromRaw(r), endedAt: r.ended_at, outcome: r.outcome }));
  }

  /** The open uncertain session of a compartment, if any. */
  uncertainSessionIn(compartmentId: string): (DoorSessionRow & { endedAt: number | null; outcome: string | null }) | undefined {
    const r = this.stmts.uncertainIn.get(compartmentId);
    return r ? { ...sessionFromRaw(r), endedAt: r.ended_at, outcome: r.outcome } : undefined;
  }

  /** Closes an uncertain session with the operator's verdict (compare-and-set: throws TRANSACTION_STATE if already settled). */
  settleSession(id: string, outcome: string): void {
    if (this.stmts.settleSession.run({ id, outcome }).changes !== 1)
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, `door session ${id} is not waiting for a verdict`, { sessionId: id });
  }

  inFlightSessions(): DoorSessionRow[] {
    return this.stmts.inFlight.all().map(sessionFromRaw);
  }

  // ---- audit ----

  audit(ts: number, actor: string, action: string, subject: string | null, data: Record<string, unknown> = {}): void {
    this.stmts.audit.run(ts, actor, action, subject, JSON.stringify(data));
  }

  recentAudit(actionPrefix: string, limit: number): { id: number; ts: number; actor: string; action: string; subject: string | null; data: Record<string, unknown> }[] {
    return this.stmts.recentAudit.all(`${actionPrefix}%`, limit).map((r) => ({ ...r, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  // ---- attempt budgets (src/codes/budgetLedger.ts) ----

  budget(scope: string): BudgetRow | undefined {
    const r = this.stmts.budget.get(scope);
    return r ? { tokens: r.tokens, updatedAt: r.updated_at, alarmedAt: r.alarmed_at } : undefined;
  }

  putBudget(scope: string, row: BudgetRow): void {
    this.stmts.putBudget.run({ scope, ...row });
  }

  // ---- pickup QR tokens and live codes ----

  /** The stored (or expired, not yet taken back) parcel whose pickup QR token has this digest. */
  parcelByTokenDigest(digest: string): ParcelRow | undefined {
    const r = this.stmts.parcelByToken.get(digest);
    return r ? parcelFromRaw(r) : undefined;
  }

  setTokenDigest(parcelId: string, digest: string): void {
    this.stmts.setTokenDigest.run(digest, parcelId);
  }

  /** Codes a stranger could hit at the keypad: every live parcel that has a code digest. */
  liveCodeCount(): number {
    return this.stmts.liveCodes.get()?.n ?? 0;
  }

  // ---- carriers, settings, provisioned state ----

  carriers(): CarrierConfig[] {
    return this.stmts.carriers.all().map((r) => CarrierConfigSchema.parse(JSON.parse(r.config)));
  }

  upsertCarrier(c: CarrierConfig, now: number): void {
    this.stmts.upsertCarrier.run(c.id, JSON.stringify(c), now);
  }

  deleteCarrier(id: string): void {
    this.stmts.deleteCarrier.run(id);
  }

  setting(key: string): string | undefined {
    return this.stmts.getSetting.get(key)?.value;
  }

  putSetting(key: string, value: string): void {
    this.stmts.putSetting.run(key, value);
  }

  provisioned(key: string): { version: number; value: unknown } | undefined {
    const r = this.stmts.getProvisioned.get(key);
    return r ? { version: r.version, value: JSON.parse(r.value) as unknown } : undefined;
  }

  putProvisioned(key: string, version: number, value: unknown, now: number): void {
    this.stmts.putProvisioned.run(key, version, JSON.stringify(value), now);
  }

  // ---- badge revocation list ----

  private revocationStmtsCache?: ReturnType<LockerStore['prepareRevocationStmts']>;

  private get revocationStmts(): ReturnType<LockerStore['prepareRevocationStmts']> {
    this.revocationStmtsCache ??= this.prepareRevocationStmts();
    return this.revocationStmtsCache;
  }

  private prepareRevocationStmts() {
    return {
      covering: this.db.prepare<[string, string, string], RawRevocation>(
        "SELECT * FROM badge_revocations WHERE issuer = ? AND ((kind = 'badge' AND target = ?) OR (kind = 'subject' AND target = ?))",
      ),
      one: this.db.prepare<[string, string, string], RawRevocation>('SELECT * FROM badge_revocations WHERE issuer = ? AND kind = ? AND target = ?'),
      // A repeat never weakens an entry: not_before and basis_at only move forward.
      upsert: this.db.prepare(
        `INSERT INTO badge_revocations (issuer, kind, target, role, not_before, basis_at, revoked_at, revoked_by)
         VALUES (@issuer, @kind, @target, @role, @notBefore, @basisAt, @revokedAt, @revokedBy)
         ON CONFLICT(issuer, kind, target) DO UPDATE SET
           not_before = MAX(COALESCE(not_before, excluded.not_before), COALESCE(excluded.not_before, not_before)),
           basis_at = MAX(basis_at, excluded.basis_at),
           revoked_at = excluded.revoked_at,
           revoked_by = excluded.revoked_by`,
      ),
      count: this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM badge_revocations WHERE issuer = ?'),
      prune: this.db.prepare<[string, number]>('DELETE FROM badge_revocations WHERE role = ? AND basis_at < ?'),
    };
  }

  /** The entries that could cover a badge: its own id, and its subject's. */
  revocationsCovering(issuer: string, jti: string, subject: string): RevocationRow[] {
    return this.revocationStmts.covering.all(issuer, jti, subject).map(revocationFromRaw);
  }

  revocation(issuer: string, kind: 'badge' | 'subject', target: string): RevocationRow | undefined {
    const r = this.revocationStmts.one.get(issuer, kind, target);
    return r ? revocationFromRaw(r) : undefined;
  }

  /** Inserts or strengthens an entry (a later not_before wins). */
  putRevocation(r: RevocationRow): void {
    try {
      this.revocationStmts.upsert.run(r);
    } catch (e) {
      mapStoreError(e);
    }
  }

  revocationCount(issuer: string): number {
    return this.revocationStmts.count.get(issuer)?.n ?? 0;
  }

  /** Deletes the entries of a role whose basis is older than the given time; returns how many. */
  pruneRevocations(role: 'courier' | 'operator', basisBefore: number): number {
    return this.revocationStmts.prune.run(role, basisBefore).changes;
  }

  // ---- retention (src/store/retention.ts runs these periodically) ----

  private retentionStmtsCache?: ReturnType<LockerStore['prepareRetentionStmts']>;

  private get retentionStmts(): ReturnType<LockerStore['prepareRetentionStmts']> {
    this.retentionStmtsCache ??= this.prepareRetentionStmts();
    return this.retentionStmtsCache;
  }

  private prepareRetentionStmts() {
    return {
      // Each deletes at most `limit` rows, so one pass holds the write lock only briefly.
      auditBefore: this.db.prepare<[number, number]>('DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE ts < ? ORDER BY ts LIMIT ?)'),
      // The newest `keep` rows stay; below the id of the (keep+1)-th newest, the oldest go.
      auditBeyond: this.db.prepare<[number, number]>(
        'DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE id <= (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?) ORDER BY id LIMIT ?)',
      ),
      auditCount: this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit'),
      // Sessions in flight are what reconcile() reads after a power cut, and an uncertain one is
      // the inspection record its compartment is held for until the operator's verdict (it
      // becomes 'settled' then): neither is pruned, whatever its age.
      sessionsBefore: this.db.prepare<[number, number]>(
        "DELETE FROM door_sessions WHERE id IN (SELECT id FROM door_sessions WHERE state <> 'in_flight' AND state <> 'uncertain' AND ended_at < ? ORDER BY ended_at LIMIT ?)",
      ),
      // Only parcels in a final state; stored, expired and announced ones are live whatever their age.
      parcelsBefore: this.db.prepare<[number, number]>(
        `DELETE FROM parcels WHERE id IN (SELECT id FROM parcels WHERE closed_at IS NOT NULL AND closed_at < ?
           AND state IN ('picked_up','retrieved','cancelled','collected') ORDER BY closed_at LIMIT ?)`,
      ),
    };
  }

  /** Deletes up to `limit` audit rows recorded before `before`; returns how many. */
  pruneAuditBefore(before: number, limit: number): number {
    return this.retentionStmts.auditBefore.run(before, limit).changes;
  }

  /** Deletes up to `limit` of the oldest audit rows beyond the newest `keep`; returns how many. */
  pruneAuditBeyond(keep: number, limit: number): number {
    return this.retentionStmts.auditBeyond.run(keep, limit).changes;
  }

  auditCount(): number {
    return this.retentionStmts.auditCount.get()?.n ?? 0;
  }

  /** Deletes up to `limit` door sessions that ended before `before` (never one in flight, never one waiting for a verdict). */
  pruneDoorSessionsBefore(before: number, limit: number): number {
    return this.retentionStmts.sessionsBefore.run(before, limit).changes;
  }

  /** Deletes up to `limit` parcels picked up, retrieved, cancelled or collected before `before`. */
  pruneClosedParcelsBefore(before: number, limit: number): number {
    return this.retentionStmts.parcelsBefore.run(before, limit).changes;
  }

  // ---- read-outs (diagnostics and the test fixtures' store-backed reader; not on a hot path) ----

  private readoutStmts: ReturnType<LockerStore['prepareReadouts']> | undefined;

  private prepareReadouts() {
    return {
      parcels: this.db.prepare<[], RawParcel>('SELECT * FROM parcels ORDER BY rowid'),
      sessions: this.db.prepare<[], RawSession>('SELECT * FROM door_sessions ORDER BY started_at, rowid'),
      auditActions: this.db.prepare<[], { action: string }>('SELECT action FROM audit ORDER BY id'),
      auditTrail: this.db.prepare<[], { ts: number; actor: string; action: string; subject: string | null; data: string | null }>('SELECT ts, actor, action, subject, data FROM audit ORDER BY id'),
    };
  }

  private get readouts(): ReturnType<LockerStore['prepareReadouts']> {
    this.readoutStmts ??= this.prepareReadouts();
    return this.readoutStmts;
  }

  /** Every parcel ever stored, in insertion order, whatever its state. */
  allParcels(): ParcelRow[] {
    return this.readouts.parcels.all().map(parcelFromRaw);
  }

  /** Every door session, oldest first, with how it ended. */
  doorSessions(): (DoorSessionRow & { outcome: string | null; endedAt: number | null })[] {
    return this.readouts.sessions.all().map((r) => ({ ...sessionFromRaw(r), outcome: r.outcome, endedAt: r.ended_at }));
  }

  /** The whole audit trail, oldest first. */
  auditTrail(): { ts: number; actor: string; action: string; subject: string | null; data: Record<string, unknown> }[] {
    return this.readouts.auditTrail.all().map((r) => ({ ts: r.ts, actor: r.actor, action: r.action, subject: r.subject, data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : {} }));
  }

  /** The audit trail's actions, oldest first. */
  auditActions(): string[] {
    return this.readouts.auditActions.all().map((r) => r.action);
  }
}

interface RawSession {
  id: string;
  compartment_id: string;
  purpose: string;
  state: DoorSessionRow['state'];
  actor: string;
  context: string;
  started_at: number;
  ended_at: number | null;
  outcome: string | null;
}

function sessionFromRaw(r: RawSession): DoorSessionRow {
  return { id: r.id, compartmentId: r.compartment_id, purpose: r.purpose, state: r.state, actor: r.actor, context: JSON.parse(r.context) as Record<string, unknown>, startedAt: r.started_at };
}

function revocationFromRaw(r: RawRevocation): RevocationRow {
  return { issuer: r.issuer, kind: r.kind, target: r.target, role: r.role, notBefore: r.not_before, basisAt: r.basis_at, revokedAt: r.revoked_at, revokedBy: r.revoked_by };
}
