// The transactional outbox (tables `streams` and `outbox`), and its only owner: stream naming,
// append (seq allocated from streams.next_seq in the caller's transaction), read, mark sent
// (PUBACK watermark), acknowledge (the consumer's {upTo}) and prune beyond the retention bound. The
// recorder appends through it, the publisher reads and marks through it, the test fixtures use
// it too; no other module knows these tables. Every method is a short synchronous statement or
// one small transaction.
import type { Db } from './database.js';
import { mapStoreError } from './database.js';

/** One event to append; the stream follows from the carrier. */
export interface OutboxEventInput {
  /** null for the operator stream, otherwise the carrier id. */
  carrier: string | null;
  type: string;
  data: Record<string, unknown>;
}

/** What the recorder stamps on every event it appends. */
export interface EventStamp {
  id: string;
  ts: number;
  clockSynced: boolean;
  bootId: string;
}

/** One appended row as the sealer signs it: the envelope's fields, data as its JSON text. */
export interface OutboxEntry {
  stream: string;
  seq: number;
  id: string;
  type: string;
  carrier: string | null;
  ts: number;
  clockSynced: boolean;
  bootId: string;
  /** The event data: a JSON text. */
  data: string;
}

/**
 * Turns a row being appended into the exact bytes that go on the wire (the signed envelope,
 * src/sync/envelope.ts envelopeSealer). Runs inside the appending transaction; the composition
 * root injects it with the locker's signing key.
 */
export type OutboxSealer = (entry: OutboxEntry) => Buffer;

export interface OutboxRow extends OutboxEntry {
  /** The stored wire bytes, null for a row appended without a sealer (signed when it is sent). */
  wire: Buffer | null;
  /** Covered by the stream's sent watermark: every row up to it had its PUBACK (or was acknowledged). */
  sent: boolean;
  /** Covered by the consumer's {upTo}. */
  acked: boolean;
}

/** What the drain reads: the seq and, when the row was sealed at append, its wire bytes. */
export interface WireRow {
  seq: number;
  wire: Buffer | null;
}

export interface StreamInfo {
  stream: string;
  /** null for the operator stream. */
  carrier: string | null;
  /** The seq the next appended row will get; the last row has nextSeq - 1. */
  nextSeq: number;
  ackedUpTo: number;
  /** Every row up to this seq had its PUBACK (the publisher's watermark). */
  sentUpTo: number;
}

export interface StreamBacklog {
  stream: string;
  /** Rows not yet confirmed by the broker (no PUBACK). */
  unsent: number;
  /** Rows the consumer has not acknowledged yet. */
  unacked: number;
  lastSeq: number;
  ackedUpTo: number;
  /** Lowest seq still stored, null when the stream holds no rows. */
  firstRetained: number | null;
}

interface RawRow {
  stream: string;
  seq: number;
  id: string;
  type: string;
  carrier: string | null;
  ts: number;
  clock_synced: number;
  boot_id: string;
  data: string | null;
  wire: Buffer | null;
  sent: number;
  acked: number;
}

interface RawStream {
  stream: string;
  carrier: string | null;
  next_seq: number;
  acked_upto: number;
  sent_upto: number;
}

const OPERATOR_STREAM = 'op';

/**
 * Acknowledged rows one acknowledgement deletes at most (one short transaction); a consumer that
 * acknowledges a long backlog at once leaves the rest to the retention pass (pruneAcked).
 */
export const ACK_PRUNE_MAX_ROWS = 2_000;

/** The stream name of a carrier, or of the operator when carrier is null. */
export function streamOf(carrier: string | null): string {
  return carrier === null ? OPERATOR_STREAM : `c/${carrier}`;
}

/** The carrier a stream belongs to, null for the operator stream, undefined for a name that is neither. */
export function carrierOfStream(stream: string): string | null | undefined {
  if (stream === OPERATOR_STREAM) return null;
  if (stream.startsWith('c/') && stream.length > 2) return stream.slice(2);
  return undefined;
}

/** The event data of a sealed row, read back from its envelope. */
function dataOfWire(wire: Buffer): string {
  try {
    const env = JSON.parse(wire.toString('utf8')) as { data?: unknown };
    return JSON.stringify(env.data ?? {});
  } catch {
    return JSON.stringify({ unreadable: true });
  }
}

function toRow(r: RawRow): OutboxRow {
  return {
    stream: r.stream,
    seq: r.seq,
    id: r.id,
    type: r.type,
    carrier: r.carrier,
    ts: r.ts,
    clockSynced: r.clock_synced !== 0,
    bootId: r.boot_id,
    data: r.data ?? (r.wire ? dataOfWire(r.wire) : '{}'),
    wire: r.wire,
    sent: r.sent !== 0,
    acked: r.acked !== 0,
  };
}

function toInfo(r: RawStream): StreamInfo {
  return { stream: r.stream, carrier: r.carrier, nextSeq: r.next_seq, ackedUpTo: r.acked_upto, sentUpTo: Math.max(r.sent_upto, r.acked_upto) };
}

/** A row with its sent and acked flags, derived from the stream's watermarks. */
const ROW = 'SELECT o.stream, o.seq, o.id, o.type, o.carrier, o.ts, o.clock_synced, o.boot_id, o.data, o.wire, o.seq <= MAX(s.sent_upto, s.acked_upto) AS sent, o.seq <= s.acked_upto AS acked FROM outbox o JOIN streams s ON s.stream = o.stream';

export class Outbox {
  private readonly stmts;

  /** sealer: signs and encodes each row as it is appended; without one rows keep their data and the publisher signs them when sent. */
  constructor(
    private readonly db: Db,
    private readonly sealer?: OutboxSealer,
  ) {
    this.stmts = {
      ensureStream: db.prepare<[string, string | null]>('INSERT INTO streams (stream, carrier) VALUES (?, ?) ON CONFLICT(stream) DO NOTHING'),
      takeSeq: db.prepare<[string], { seq: number }>('UPDATE streams SET next_seq = next_seq + 1 WHERE stream = ? RETURNING next_seq - 1 AS seq'),
      insert: db.prepare(
        `INSERT INTO outbox (stream, seq, id, type, carrier, ts, clock_synced, boot_id, data, wire)
         VALUES (@stream, @seq, @id, @type, @carrier, @ts, @clockSynced, @bootId, @data, @wire)`,
      ),
      all: db.prepare<[], RawRow>(`${ROW} ORDER BY o.stream, o.seq`),
      allOf: db.prepare<[string], RawRow>(`${ROW} WHERE o.stream = ? ORDER BY o.seq`),
      one: db.prepare<[string, number], RawRow>(`${ROW} WHERE o.stream = ? AND o.seq = ?`),
      counts: db.prepare<[], { stream: string; unacked: number; unsent: number }>(
        'SELECT stream, MAX(0, next_seq - 1 - acked_upto) AS unacked, MAX(0, next_seq - 1 - MAX(sent_upto, acked_upto)) AS unsent FROM streams ORDER BY stream',
      ),
      unsentOfType: db.prepare<[string, number, string], { n: number }>('SELECT 1 AS n FROM outbox WHERE stream = ? AND seq > ? AND type = ? LIMIT 1'),
      lastOfType: db.prepare<[string, string], RawRow>(`${ROW} WHERE o.stream = ? AND o.type = ? ORDER BY o.seq DESC LIMIT 1`),
      streams: db.prepare<[], RawStream>('SELECT stream, carrier, next_seq, acked_upto, sent_upto FROM streams ORDER BY stream'),
      stream: db.prepare<[string], RawStream>('SELECT stream, carrier, next_seq, acked_upto, sent_upto FROM streams WHERE stream = ?'),
      // A bare `LIMIT ?` makes SQLite re-prepare the statement at every call (the planner takes
      // the bound limit into account), about 20 µs each; the publisher asks this of every idle
      // stream at every notify. An expression as the limit keeps the prepared plan.
      from: db.prepare<[string, number, number], RawRow>(`${ROW} WHERE o.stream = ? AND o.seq >= ? ORDER BY o.seq LIMIT CAST(? AS INTEGER)`),
      // The drain's read: two columns, no join, no JSON (raw rows: [seq, wire]).
      wireFrom: db.prepare<[string, number, number], [number, Buffer | null]>('SELECT seq, wire FROM outbox WHERE stream = ? AND seq >= ? ORDER BY seq LIMIT CAST(? AS INTEGER)').raw(true),
      after: db.prepare<[string, number, number], RawRow>(`${ROW} WHERE o.stream = ? AND o.seq > ? ORDER BY o.seq LIMIT CAST(? AS INTEGER)`),
      firstAfter: db.prepare<[string, number], { seq: number }>('SELECT seq FROM outbox WHERE stream = ? AND seq > ? ORDER BY seq LIMIT 1'),
      firstRetained: db.prepare<[string], { seq: number }>('SELECT seq FROM outbox WHERE stream = ? ORDER BY seq LIMIT 1'),
      markSent: db.prepare<[number, string, number]>('UPDATE streams SET sent_upto = MIN(?, next_seq - 1) WHERE stream = ? AND sent_upto < MIN(?, next_seq - 1)'),
      ackStream: db.prepare<[number, number, string, number]>('UPDATE streams SET acked_upto = ?, sent_upto = MAX(sent_upto, ?) WHERE stream = ? AND acked_upto < ?'),
      prune: db.prepare<[string, number]>('DELETE FROM outbox WHERE stream = ? AND seq <= ?'),
      // The oldest acknowledged rows first, at most `limit` (through the UNIQUE (stream, seq) index).
      pruneBatch: db.prepare<[string, number, number]>('DELETE FROM outbox WHERE rowid IN (SELECT rowid FROM outbox WHERE stream = ? AND seq <= ? ORDER BY seq LIMIT CAST(? AS INTEGER))'),
    };
  }

  /**
   * Appends one event to its stream with the next contiguous seq. Call inside the caller's
   * transaction (the recorder's commit), so the row commits with the change it reports. With a
   * sealer the row is signed and encoded here, and the stored bytes are what the drain publishes.
   */
  append(e: OutboxEventInput, stamp: EventStamp): { stream: string; seq: number } {
    const stream = streamOf(e.carrier);
    this.stmts.ensureStream.run(stream, e.carrier);
    const row = this.stmts.takeSeq.get(stream);
    if (!row) throw new Error(`stream ${stream} vanished`);
    const entry: OutboxEntry = {
      stream,
      seq: row.seq,
      id: stamp.id,
      type: e.type,
      carrier: e.carrier,
      ts: stamp.ts,
      clockSynced: stamp.clockSynced,
      bootId: stamp.bootId,
      data: JSON.stringify(e.data),
    };
    const wire = this.sealer ? this.sealer(entry) : null;
    this.stmts.insert.run({ ...entry, clockSynced: entry.clockSynced ? 1 : 0, data: wire ? null : entry.data, wire });
    return { stream, seq: row.seq };
  }

  /** Appends several events in one transaction of its own (tools and test fixtures). */
  appendAll(events: readonly { event: OutboxEventInput; stamp: EventStamp }[]): { stream: string; seq: number }[] {
    try {
      return this.db.transaction(() => events.map((e) => this.append(e.event, e.stamp))).immediate();
    } catch (e) {
      return mapStoreError(e);
    }
  }

  /** Every stored row of one stream (or of all streams), in stream and seq order. */
  rows(stream?: string): OutboxRow[] {
    return (stream === undefined ? this.stmts.all.all() : this.stmts.allOf.all(stream)).map(toRow);
  }

  /** One stored row. */
  row(stream: string, seq: number): OutboxRow | undefined {
    const r = this.stmts.one.get(stream, seq);
    return r ? toRow(r) : undefined;
  }

  /** Unsent and unacknowledged rows per stream, in one statement (what the metrics scrape). */
  counts(): { stream: string; unsent: number; unacked: number }[] {
    return this.stmts.counts.all();
  }

  /** Whether a row of this type is still waiting for its PUBACK on the stream. */
  hasUnsent(stream: string, type: string): boolean {
    return this.stmts.unsentOfType.get(stream, this.sentUpTo(stream), type) !== undefined;
  }

  /** The newest stored row of this type on the stream. */
  lastOfType(stream: string, type: string): OutboxRow | undefined {
    const r = this.stmts.lastOfType.get(stream, type);
    return r ? toRow(r) : undefined;
  }

  /** How far the consumer of a stream has acknowledged (0 for a stream never written). */
  ackedUpTo(stream: string): number {
    return this.stmts.stream.get(stream)?.acked_upto ?? 0;
  }

  /** The stream's sent watermark: every row up to it had its PUBACK or was acknowledged. */
  sentUpTo(stream: string): number {
    const r = this.stmts.stream.get(stream);
    return r ? Math.max(r.sent_upto, r.acked_upto) : 0;
  }

  streams(): StreamInfo[] {
    return this.stmts.streams.all().map(toInfo);
  }

  stream(stream: string): StreamInfo | undefined {
    const r = this.stmts.stream.get(stream);
    return r ? toInfo(r) : undefined;
  }

  /** Up to limit rows with seq >= fromSeq, in seq order, sent or not. */
  rowsFrom(stream: string, fromSeq: number, limit: number): OutboxRow[] {
    return this.stmts.from.all(stream, fromSeq, limit).map(toRow);
  }

  /**
   * The drain's read: seq and wire bytes of rows with seq >= fromSeq, in seq order, at most
   * maxRows of them and no more than maxBytes of wire bytes (at least one row, whatever its
   * size). A row without stored bytes counts as 1 KiB.
   */
  wireFrom(stream: string, fromSeq: number, maxRows: number, maxBytes: number): WireRow[] {
    const out: WireRow[] = [];
    let bytes = 0;
    for (const [seq, wire] of this.stmts.wireFrom.iterate(stream, fromSeq, maxRows)) {
      out.push({ seq, wire });
      bytes += wire ? wire.length : 1024;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  /** The oldest rows above the sent watermark, in seq order. */
  nextUnsent(stream: string, limit: number): OutboxRow[] {
    return this.stmts.after.all(stream, this.sentUpTo(stream), limit).map(toRow);
  }

  /** Where publishing resumes after a (re)connect: the lowest seq above the sent watermark. */
  firstUnsentSeq(stream: string): number | undefined {
    return this.stmts.firstAfter.get(stream, this.sentUpTo(stream))?.seq;
  }

  firstRetainedSeq(stream: string): number | undefined {
    return this.stmts.firstRetained.get(stream)?.seq;
  }

  /**
   * Records PUBACKs: each stream's watermark moves up to the given seq (every row up to it had
   * its PUBACK; never backwards, never past the last row), all streams in one transaction. One
   * UPDATE of the stream row per stream, whatever the number of rows it covers. The commit is
   * not fsynced (synchronous=NORMAL for this one transaction): a mark lost in a power cut only
   * makes rows go out again, which consumers drop by id, and it saves an fsync per batch on an
   * SD card. The next durable commit or checkpoint makes it durable anyway.
   */
  markSent(upTo: ReadonlyMap<string, number>): void {
    if (upTo.size === 0) return;
    const previous = this.db.pragma('synchronous', { simple: true }) as number;
    try {
      this.db.pragma('synchronous = NORMAL');
      this.db.transaction(() => {
        for (const [stream, seq] of upTo) this.stmts.markSent.run(seq, stream, seq);
      })();
    } catch (e) {
      mapStoreError(e);
    } finally {
      this.db.pragma(`synchronous = ${previous}`);
    }
  }

  /**
   * The consumer confirms every row up to upTo on this stream (and no other). A value beyond the
   * last appended row is clamped: nobody can acknowledge what does not exist yet. An
   * acknowledged row was evidently delivered: the sent watermark follows. Then prunes
   * acknowledged rows older than the newest `retainAcked`, at most ACK_PRUNE_MAX_ROWS of them in
   * this transaction (the retention pass prunes the rest). Returns the effective acked seq.
   */
  ackUpTo(stream: string, upTo: number, _at: number, retainAcked: number): number {
    try {
      return this.db.transaction(() => {
        const info = this.stmts.stream.get(stream);
        if (!info) return 0;
        const upto = Math.min(Math.floor(upTo), info.next_seq - 1);
        if (upto <= info.acked_upto) return info.acked_upto;
        this.stmts.ackStream.run(upto, upto, stream, upto);
        // Oldest first and bounded (ACK_PRUNE_MAX_ROWS): what is left goes in the retention pass.
        this.stmts.pruneBatch.run(stream, upto - Math.max(0, retainAcked), ACK_PRUNE_MAX_ROWS);
        return upto;
      })();
    } catch (e) {
      return mapStoreError(e);
    }
  }

  /** Deletes acknowledged rows beyond the newest retainAcked of each stream; returns rows deleted. */
  prune(retainAcked: number): number {
    let deleted = 0;
    try {
      this.db.transaction(() => {
        for (const s of this.stmts.streams.all()) deleted += this.stmts.prune.run(s.stream, s.acked_upto - Math.max(0, retainAcked)).changes;
      })();
    } catch (e) {
      mapStoreError(e);
    }
    return deleted;
  }

  /**
   * The retention rule of the outbox, in a bounded batch (src/store/retention.ts runs it
   * periodically; ackUpTo applies the same rule at every acknowledgement): an acknowledged row
   * goes once it is not among the newest `retainAcked` of its stream, oldest first; an
   * unacknowledged row never goes. Deletes at most `limit` rows over all streams, in one short
   * transaction. Returns the rows deleted.
   */
  pruneAcked(retainAcked: number, limit: number): number {
    let deleted = 0;
    try {
      this.db.transaction(() => {
        for (const s of this.stmts.streams.all()) {
          if (deleted >= limit) break;
          const upTo = s.acked_upto - Math.max(0, Math.floor(retainAcked));
          if (upTo < 1) continue;
          deleted += this.stmts.pruneBatch.run(s.stream, upTo, limit - deleted).changes;
        }
      })();
    } catch (e) {
      mapStoreError(e);
    }
    return deleted;
  }

  /**
   * A new stream epoch (src/store/databaseIdentity.ts): every stream restarts at seq 1.
   * Acknowledged rows are dropped; the others are renumbered from 1 in order and sent again.
   * Call inside the caller's transaction.
   */
  restartStreams(): void {
    for (const s of this.stmts.streams.all()) {
      const base = s.acked_upto;
      this.db.prepare('DELETE FROM outbox WHERE stream = ? AND seq <= ?').run(s.stream, base);
      // Through negative values: renumbering in place could collide with a row not moved yet.
      // Stored wire bytes name the old seq and epoch: such rows go back to their data and are
      // signed again when they are sent (the publisher's path for rows without bytes).
      this.db
        .prepare("UPDATE outbox SET seq = -(seq - ?), data = COALESCE(data, json_extract(CAST(wire AS TEXT), '$.data')), wire = NULL WHERE stream = ?")
        .run(base, s.stream);
      this.db.prepare('UPDATE outbox SET seq = -seq WHERE stream = ? AND seq < 0').run(s.stream);
      this.db.prepare('UPDATE streams SET next_seq = MAX(1, next_seq - ?), acked_upto = 0, sent_upto = 0 WHERE stream = ?').run(base, s.stream);
    }
  }

  backlog(): StreamBacklog[] {
    return this.stmts.streams.all().map((s) => {
      const lastSeq = s.next_seq - 1;
      return {
        stream: s.stream,
        // Rows above the acknowledged seq are never pruned, so the rows above the watermark are contiguous.
        unsent: Math.max(0, lastSeq - Math.max(s.sent_upto, s.acked_upto)),
        unacked: Math.max(0, lastSeq - s.acked_upto),
        lastSeq,
        ackedUpTo: s.acked_upto,
        firstRetained: this.stmts.firstRetained.get(s.stream)?.seq ?? null,
      };
    });
  }
}
