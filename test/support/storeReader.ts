// What lockerd recorded, read back through the store's own code: the Outbox for events, the
// LockerStore for parcels, sessions, compartments, budgets and the audit trail, and the
// database module for integrity checks. No SQL of its own. Rows keep the column names the
// scenario tests have always used (compartment_id, ...), mapped from the store's typed rows.
import { foreignKeyProblems, integrityCheck, tableDump, type Db } from '../../src/store/database.js';
import { LockerStore } from '../../src/store/lockerStore.js';
import { Outbox, type OutboxRow as StoredOutboxRow } from '../../src/store/outbox.js';

/** An outbox row of the store with its data parsed. */
export type OutboxRow = Pick<StoredOutboxRow, 'stream' | 'seq' | 'id' | 'type' | 'carrier' | 'ts' | 'bootId'> & { data: Record<string, unknown> };

export interface ParcelDbRow {
  id: string;
  carrier: string;
  waybill: string;
  kind: string;
  state: string;
  size: string | null;
  compartment_id: string | null;
  code_digest: string | null;
  expires_at: number | null;
}

export interface SessionDbRow {
  id: string;
  compartment_id: string;
  purpose: string;
  state: string;
  outcome: string | null;
  context: string;
}

/** Streams whose seq numbers are not exactly 1..n (empty when every stream is contiguous). */
export function seqGaps(rows: readonly OutboxRow[]): string[] {
  const byStream = new Map<string, number[]>();
  for (const r of rows) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r.seq]);
  const problems: string[] = [];
  for (const [stream, seqs] of byStream) {
    const sorted = [...seqs].sort((a, b) => a - b);
    if (!sorted.every((s, i) => s === i + 1)) problems.push(`${stream}: ${sorted.join(',')}`);
  }
  return problems;
}

/** Every table's rows as text, to check that something (a plaintext code) appears nowhere. */
export function allTableText(db: Db): string {
  return tableDump(db);
}

export class StoreReader {
  private readonly store: LockerStore;
  private readonly outboxRows: Outbox;

  constructor(readonly db: Db) {
    this.store = new LockerStore(db);
    this.outboxRows = new Outbox(db);
  }

  outbox(stream?: string): OutboxRow[] {
    return this.outboxRows
      .rows(stream)
      .map((r) => ({ stream: r.stream, seq: r.seq, id: r.id, type: r.type, carrier: r.carrier, ts: r.ts, bootId: r.bootId, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  /** Event types of one stream, in seq order. */
  eventTypes(stream: string): string[] {
    return this.outbox(stream).map((r) => r.type);
  }

  events(type: string): OutboxRow[] {
    return this.outbox().filter((r) => r.type === type);
  }

  parcels(): ParcelDbRow[] {
    return this.store.allParcels().map((p) => ({
      id: p.id,
      carrier: p.carrier,
      waybill: p.waybill,
      kind: p.kind,
      state: p.state,
      size: p.size,
      compartment_id: p.compartmentId,
      code_digest: p.codeDigest,
      expires_at: p.expiresAt,
    }));
  }

  parcel(id: string): ParcelDbRow | undefined {
    return this.parcels().find((p) => p.id === id);
  }

  /** The newest parcel with this waybill. */
  parcelByWaybill(waybill: string): ParcelDbRow | undefined {
    return this.parcels()
      .filter((p) => p.waybill === waybill)
      .at(-1);
  }

  sessions(): SessionDbRow[] {
    return this.store.doorSessions().map((s) => ({ id: s.id, compartment_id: s.compartmentId, purpose: s.purpose, state: s.state, outcome: s.outcome, context: JSON.stringify(s.context) }));
  }

  inFlightSessions(): SessionDbRow[] {
    return this.sessions().filter((s) => s.state === 'in_flight');
  }

  compartmentRow(id: string): { in_service: number; fault: string | null } | undefined {
    const c = this.store.compartment(id);
    return c ? { in_service: c.inService ? 1 : 0, fault: c.fault } : undefined;
  }

  /** The keypad's token bucket as last written (tries left); undefined before the first wrong code. */
  keypadBudget(): { tokens: number; updated_at: number; alarmed_at: number } | undefined {
    const b = this.store.budget('keypad');
    return b ? { tokens: b.tokens, updated_at: b.updatedAt, alarmed_at: b.alarmedAt } : undefined;
  }

  auditActions(): string[] {
    return this.store.auditActions();
  }

  integrity(): string {
    return integrityCheck(this.db);
  }

  foreignKeyProblems(): unknown[] {
    return foreignKeyProblems(this.db);
  }

  allText(): string {
    return tableDump(this.db);
  }
}

/** The reader's former name. */
export { StoreReader as DbReader };
