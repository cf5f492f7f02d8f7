// Writes outbox rows the way the locker core does: the stream row is created on first use and
// seq is taken from streams.next_seq in the same transaction as the row itself. The sync tests
// drive the outbox with this until the core produces the rows for real.
import type { Db } from '../../src/store/database.js';

export interface AppendInput {
  carrier: string | null;
  type?: string;
  data?: Record<string, unknown>;
  ts?: number;
  clockSynced?: boolean;
  bootId?: string;
}

export class OutboxWriter {
  private counter = 0;
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly idPrefix = '01TEST',
  ) {
    this.stmts = {
      ensure: db.prepare('INSERT INTO streams (stream, carrier) VALUES (?, ?) ON CONFLICT(stream) DO NOTHING'),
      take: db.prepare<[string], { seq: number }>('UPDATE streams SET next_seq = next_seq + 1 WHERE stream = ? RETURNING next_seq - 1 AS seq'),
      insert: db.prepare(
        `INSERT INTO outbox (stream, seq, id, type, carrier, ts, clock_synced, boot_id, data)
         VALUES (@stream, @seq, @id, @type, @carrier, @ts, @clockSynced, @bootId, @data)`,
      ),
    };
  }

  /** Appends one event in its own transaction; returns its stream and seq. */
  append(input: AppendInput): { stream: string; seq: number; id: string } {
    return this.db.transaction(() => this.appendInTx(input))();
  }

  /** Appends many events in one transaction (a fast way to build a large backlog). */
  appendMany(count: number, input: (i: number) => AppendInput): void {
    this.db.transaction(() => {
      for (let i = 0; i < count; i++) this.appendInTx(input(i));
    })();
  }

  private appendInTx(input: AppendInput): { stream: string; seq: number; id: string } {
    const stream = input.carrier === null ? 'op' : `c/${input.carrier}`;
    this.stmts.ensure.run(stream, input.carrier);
    const row = this.stmts.take.get(stream);
    if (!row) throw new Error(`stream ${stream} vanished`);
    const id = `${this.idPrefix}${String(++this.counter).padStart(20, '0')}`;
    this.stmts.insert.run({
      stream,
      seq: row.seq,
      id,
      type: input.type ?? 'parcel.stored',
      carrier: input.carrier,
      ts: input.ts ?? Date.UTC(2026, 0, 1),
      clockSynced: input.clockSynced === false ? 0 : 1,
      bootId: input.bootId ?? 'boot-1',
      data: JSON.stringify(input.data ?? { n: this.counter }),
    });
    return { stream, seq: row.seq, id };
  }
}
