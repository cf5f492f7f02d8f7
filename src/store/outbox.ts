// The transactional outbox (tables `streams` and `outbox`), and its only owner: stream naming,
// append (seq allocated from streams.next_seq in the caller's transaction), read, mark sent
// (PUBACK), acknowledge (the consumer's {upTo}) and prune beyond the retention bound. The
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

export interface OutboxRow {
  stream: string;
  seq: number;
  id: string;
  type: string;
  carrier: string | null;
  ts: number;
  clockSynced: boolean;
  bootId: string;
  /** The event data as stored: a JSON text. */
  data: string;
  sentAt: number | null;
  ackedAt: number | null;
}

export interface StreamInfo {
  stream: string;
  /** null for the operator stream. */
  carrier: string | null;
  /** The seq the next appended row will get; the last row has nextSeq - 1. */
  nextSeq: number;
  ackedUpTo: number;
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
  data: string;
  sent_at: number | null;
  acked_at: number | null;
}

const OPERATOR_STREAM = 'op';

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
    data: r.data,
    sentAt: r.sent_at,
    ackedAt: r.acked_at,
  };
}

export class Outbox {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      ensureStream: db.prepare<[string, string | null]>('INSERT INTO streams (stream, carrier) VALUES (?, ?) ON CONFLICT(stream) DO NOTHING'),
      takeSeq: db.prepare<[string], { seq: number }>('UPDATE streams SET next_seq = next_seq + 1 WHERE stream = ? RETURNING next_seq - 1 AS seq'),
      insert: db.prepare(
        `INSERT INTO outbox (stream, seq, id, type, carrier, ts, clock_synced, boot_id, data)
         VALUES (@stream, @seq, @id, @type, @carrier, @ts, @clockSynced, @bootId, @data)`,
      ),
      all: db.prepare<[], RawRow>('SELECT * FROM outbox ORDER BY stream, seq'),
      allOf: db.prepare<[string], RawRow>('SELECT * FROM outbox WHERE stream = ? ORDER BY seq'),
      counts: db.prepare<[], { stream: string; unacked: number; unsent: number }>(
        'SELECT s.stream AS stream, MAX(0, s.next_seq - 1 - s.acked_upto) AS unacked, (SELECT COUNT(*) FROM outbox o WHERE o.stream = s.stream AND o.sent_at IS NULL) AS unsent FROM streams s ORDER BY s.stream',
      ),
      unsentOfType: db.prepare<[string, string], { n: number }>('SELECT 1 AS n FROM outbox WHERE stream = ? AND sent_at IS NULL AND type = ? LIMIT 1'),
      lastOfType: db.prepare<[string, string], RawRow>('SELECT * FROM outbox WHERE stream = ? AND type = ? ORDER BY seq DESC LIMIT 1'),
      streams: db.prepare<[], { stream: string; carrier: string | null; next_seq: number; acked_upto: number }>(
        'SELECT stream, carrier, next_seq, acked_upto FROM streams ORDER BY stream',
      ),
      stream: db.prepare<[string], { stream: string; carrier: string | null; next_seq: number; acked_upto: number }>(
        'SELECT stream, carrier, next_seq, acked_upto FROM streams WHERE stream = ?',
      ),
      // A bare `LIMIT ?` makes SQLite re-prepare the statement at every call (the planner takes
      // the bound limit into account), about 20 µs each; the publisher asks this of every idle
      // stream at every notify. An expression as the limit keeps the prepared plan.
      from: db.prepare<[string, number, number], RawRow>('SELECT * FROM outbox WHERE stream = ? AND seq >= ? ORDER BY seq LIMIT CAST(? AS INTEGER)'),
      unsent: db.prepare<[string, number], RawRow>('SELECT * FROM outbox WHERE stream = ? AND sent_at IS NULL ORDER BY seq LIMIT CAST(? AS INTEGER)'),
      firstUnsent: db.prepare<[string], { seq: number }>('SELECT seq FROM outbox WHERE stream = ? AND sent_at IS NULL ORDER BY seq LIMIT 1'),
      firstRetained: db.prepare<[string], { seq: number }>('SELECT seq FROM outbox WHERE stream = ? ORDER BY seq LIMIT 1'),
      unsentCount: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM outbox WHERE stream = ? AND sent_at IS NULL'),
      markSent: db.prepare<[number, string, number]>('UPDATE outbox SET sent_at = ? WHERE stream = ? AND seq = ? AND sent_at IS NULL'),
      ackRows: db.prepare<[number, number, string, number]>(
        'UPDATE outbox SET acked_at = ?, sent_at = COALESCE(sent_at, ?) WHERE stream = ? AND seq <= ? AND acked_at IS NULL',
      ),
      ackStream: db.prepare<[number, string, number]>('UPDATE streams SET acked_upto = ? WHERE stream = ? AND acked_upto < ?'),
      prune: db.prepare<[string, number]>('DELETE FROM outbox WHERE stream = ? AND seq <= ? AND acked_at IS NOT NULL'),
    };
  }

  /**
   * Appends one event to its stream with the next contiguous seq. Call inside the caller's
   * transaction (the recorder's commit), so the row commits with the change it reports.
   */
  append(e: OutboxEventInput, stamp: EventStamp): { stream: string; seq: number } {
    const stream = streamOf(e.carrier);
    this.stmts.ensureStream.run(stream, e.carrier);
    const row = this.stmts.takeSeq.get(stream);
    if (!row) throw new Error(`stream ${stream} vanished`);
    this.stmts.insert.run({
      stream,
      seq: row.seq,
      id: stamp.id,
      type: e.type,
      carrier: e.carrier,
      ts: stamp.ts,
      clockSynced: stamp.clockSynced ? 1 : 0,
      bootId: stamp.bootId,
      data: JSON.stringify(e.data),
    });
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

  /** Unsent and unacknowledged rows per stream, in one statement (what the metrics scrape). */
  counts(): { stream: string; unsent: number; unacked: number }[] {
    return this.stmts.counts.all();
  }

  /** Whether a row of this type is still waiting for its PUBACK on the stream. */
  hasUnsent(stream: string, type: string): boolean {
    return this.stmts.unsentOfType.get(stream, type) !== undefined;
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

  streams(): StreamInfo[] {
    return this.stmts.streams.all().map((r) => ({ stream: r.stream, carrier: r.carrier, nextSeq: r.next_seq, ackedUpTo: r.acked_upto }));
  }

  stream(stream: string): StreamInfo | undefined {
    const r = this.stmts.stream.get(stream);
    return r ? { stream: r.stream, carrier: r.carrier, nextSeq: r.next_seq, ackedUpTo: r.acked_upto } : undefined;
  }

  /** Up to limit rows with seq >= fromSeq, in seq order, sent or not (the publisher's cursor decides). */
  rowsFrom(stream: string, fromSeq: number, limit: number): OutboxRow[] {
    return this.stmts.from.all(stream, fromSeq, limit).map(toRow);
  }

  /** The oldest rows without a PUBACK, in seq order. */
  nextUnsent(stream: string, limit: number): OutboxRow[] {
    return this.stmts.unsent.all(stream, limit).map(toRow);
  }

  /** Where publishing resumes after a (re)connect: the lowest seq without a PUBACK. */
  firstUnsentSeq(stream: string): number | undefined {
    return this.stmts.firstUnsent.get(stream)?.seq;
  }

  firstRetainedSeq(stream: string): number | undefined {
    return this.stmts.firstRetained.get(stream)?.seq;
  }

  /**
   * Records PUBACKs, several at once. The commit is not fsynced (synchronous=NORMAL for this one
   * transaction): a sent mark lost in a power cut only makes the row go out again, which
   * consumers drop by id, and it saves an fsync per event on an SD card. The next durable
   * commit or checkpoint makes it durable anyway.
   */
  markSent(stream: string, seqs: readonly number[], at: number): void {
    if (seqs.length === 0) return;
    const previous = this.db.pragma('synchronous', { simple: true }) as number;
    try {
      this.db.pragma('synchronous = NORMAL');
      this.db.transaction(() => {
        for (const seq of seqs) this.stmts.markSent.run(at, stream, seq);
      })();
    } catch (e) {
      mapStoreError(e);
    } finally {
      this.db.pragma(`synchronous = ${previous}`);
    }
  }

  /**
   * The consumer confirms every row up to upTo on this stream (and no other). A value beyond the
   * last appended row is clamped: nobody can acknowledge what does not exist yet. Then prunes
   * acknowledged rows older than the newest `retainAcked`. Returns the effective acked seq.
   */
  ackUpTo(stream: string, upTo: number, at: number, retainAcked: number): number {
    try {
      return this.db.transaction(() => {
        const info = this.stmts.stream.get(stream);
        if (!info) return 0;
        const upto = Math.min(Math.floor(upTo), info.next_seq - 1);
        if (upto <= info.acked_upto) return info.acked_upto;
        this.stmts.ackRows.run(at, at, stream, upto);
        this.stmts.ackStream.run(upto, stream, upto);
        this.stmts.prune.run(stream, upto - retainAcked);
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
        for (const s of this.stmts.streams.all()) deleted += this.stmts.prune.run(s.stream, s.acked_upto - retainAcked).changes;
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
      this.db.prepare('UPDATE outbox SET seq = -(seq - ?), sent_at = NULL, acked_at = NULL WHERE stream = ?').run(base, s.stream);
      this.db.prepare('UPDATE outbox SET seq = -seq WHERE stream = ? AND seq < 0').run(s.stream);
      this.db.prepare('UPDATE streams SET next_seq = MAX(1, next_seq - ?), acked_upto = 0 WHERE stream = ?').run(base, s.stream);
    }
  }

  backlog(): StreamBacklog[] {
    return this.stmts.streams.all().map((s) => ({
      stream: s.stream,
      unsent: this.stmts.unsentCount.get(s.stream)?.n ?? 0,
      unacked: Math.max(0, s.next_seq - 1 - s.acked_upto),
      lastSeq: s.next_seq - 1,
      ackedUpTo: s.acked_upto,
      firstRetained: this.stmts.firstRetained.get(s.stream)?.seq ?? null,
    }));
  }
}
