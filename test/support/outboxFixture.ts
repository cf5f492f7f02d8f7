// Writes outbox rows the way the locker core does, through the one owner of the outbox
// (src/store/outbox.ts): the stream row is created on first use and seq is taken from
// streams.next_seq in the same transaction as the row itself. The sync tests drive the outbox
// with this instead of a running core.
import type { Db } from '../../src/store/database.js';
import { Outbox, type EventStamp, type OutboxEventInput } from '../../src/store/outbox.js';

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
  readonly outbox: Outbox;

  constructor(
    db: Db | Outbox,
    private readonly idPrefix = '01TEST',
  ) {
    this.outbox = db instanceof Outbox ? db : new Outbox(db);
  }

  /** Appends one event in its own transaction; returns its stream, seq and id. */
  append(input: AppendInput): { stream: string; seq: number; id: string } {
    const e = this.entry(input);
    const [at] = this.outbox.appendAll([e]);
    if (!at) throw new Error('append returned nothing');
    return { ...at, id: e.stamp.id };
  }

  /** Appends many events in one transaction (a fast way to build a large backlog). */
  appendMany(count: number, input: (i: number) => AppendInput): void {
    const entries: { event: OutboxEventInput; stamp: EventStamp }[] = [];
    for (let i = 0; i < count; i++) entries.push(this.entry(input(i)));
    this.outbox.appendAll(entries);
  }

  private entry(input: AppendInput): { event: OutboxEventInput; stamp: EventStamp } {
    const id = `${this.idPrefix}${String(++this.counter).padStart(20, '0')}`;
    return {
      event: { carrier: input.carrier, type: input.type ?? 'parcel.stored', data: input.data ?? { n: this.counter } },
      stamp: { id, ts: input.ts ?? Date.UTC(2026, 0, 1), clockSynced: input.clockSynced !== false, bootId: input.bootId ?? 'boot-1' },
    };
  }
}
