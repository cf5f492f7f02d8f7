import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { ACK_PRUNE_MAX_ROWS, Outbox, carrierOfStream, streamOf } from '../../../src/store/outbox.js';
import { OutboxWriter } from '../../support/outboxFixture.js';

describe('Outbox on a real SQLite outbox', () => {
  let db: Db;
  let writer: OutboxWriter;
  let reader: Outbox;

  beforeEach(() => {
    db = openDatabase(':memory:');
    writer = new OutboxWriter(db);
    reader = new Outbox(db);
  });

  const seqs = (rows: { seq: number }[]): number[] => rows.map((r) => r.seq);

  it('records sent marks without changing the durability of everything else', () => {
    for (let i = 0; i < 3; i++) writer.append({ carrier: 'acme' });
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    reader.markSent(new Map([['c/acme', 2]]));
    expect(seqs(reader.nextUnsent('c/acme', 10))).toEqual([3]);
    // FULL again for the core's transactions.
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('names streams like the core: c/<carrier> and op', () => {
    expect(streamOf('acme')).toBe('c/acme');
    expect(streamOf(null)).toBe('op');
    expect(carrierOfStream('c/acme')).toBe('acme');
    expect(carrierOfStream('op')).toBe(null);
    expect(carrierOfStream('x')).toBe(undefined);
  });

  it('returns the next unsent rows of one stream in seq order, bounded', () => {
    for (let i = 0; i < 5; i++) writer.append({ carrier: 'acme' });
    writer.append({ carrier: 'bolt' });
    writer.append({ carrier: null, type: 'alarm.door_left_open' });
    expect(seqs(reader.nextUnsent('c/acme', 3))).toEqual([1, 2, 3]);
    expect(seqs(reader.nextUnsent('c/bolt', 10))).toEqual([1]);
    const op = reader.nextUnsent('op', 10);
    expect(op[0]).toMatchObject({ stream: 'op', seq: 1, carrier: null, type: 'alarm.door_left_open', clockSynced: true, sent: false, acked: false, wire: null });
    expect(reader.streams().map((s) => [s.stream, s.carrier, s.nextSeq])).toEqual([
      ['c/acme', 'acme', 6],
      ['c/bolt', 'bolt', 2],
      ['op', null, 2],
    ]);
  });

  it('moves the sent watermark on PUBACK; resumption starts above it', () => {
    for (let i = 0; i < 6; i++) writer.append({ carrier: 'acme' });
    reader.markSent(new Map([['c/acme', 2]]));
    expect(reader.firstUnsentSeq('c/acme')).toBe(3);
    expect(seqs(reader.nextUnsent('c/acme', 10))).toEqual([3, 4, 5, 6]);
    // rowsFrom ignores the sent flag: the publisher's cursor decides what goes next.
    expect(seqs(reader.rowsFrom('c/acme', 2, 3))).toEqual([2, 3, 4]);
    expect(reader.rowsFrom('c/acme', 1, 4).map((r) => r.sent)).toEqual([true, true, false, false]);
    // A late mark (a resend's PUBACK) never moves the watermark back, nor past the last row.
    reader.markSent(new Map([['c/acme', 1]]));
    expect(reader.sentUpTo('c/acme')).toBe(2);
    reader.markSent(new Map([['c/acme', 99]]));
    expect(reader.sentUpTo('c/acme')).toBe(6);
    expect(reader.firstUnsentSeq('c/acme')).toBe(undefined);
  });

  it('acknowledges up to a seq on that stream only, never beyond the last row', () => {
    for (let i = 0; i < 5; i++) writer.append({ carrier: 'acme' });
    for (let i = 0; i < 5; i++) writer.append({ carrier: 'bolt' });
    expect(reader.ackUpTo('c/acme', 3, 500, 100)).toBe(3);
    const acme = reader.rowsFrom('c/acme', 1, 10);
    expect(acme.map((r) => r.acked)).toEqual([true, true, true, false, false]);
    // An acknowledged row was evidently delivered: it counts as sent too.
    expect(acme.map((r) => r.sent)).toEqual([true, true, true, false, false]);
    expect(reader.rowsFrom('c/bolt', 1, 10).every((r) => !r.acked)).toBe(true);
    expect(reader.stream('c/acme')?.ackedUpTo).toBe(3);
    expect(reader.stream('c/bolt')?.ackedUpTo).toBe(0);
    expect(reader.ackUpTo('c/acme', 99, 600, 100)).toBe(5);
    // Going backwards changes nothing.
    expect(reader.ackUpTo('c/acme', 2, 700, 100)).toBe(5);
    expect(reader.ackUpTo('c/unknown', 2, 700, 100)).toBe(0);
  });

  it('an acknowledgement of a long range prunes a bounded batch at once; the retention pass prunes the rest', () => {
    writer.appendMany(ACK_PRUNE_MAX_ROWS + 500, () => ({ carrier: 'acme' }));
    // One transaction deletes at most ACK_PRUNE_MAX_ROWS rows: the consumer's ack never holds the write lock for a whole backlog.
    expect(reader.ackUpTo('c/acme', ACK_PRUNE_MAX_ROWS + 500, 1, 100)).toBe(ACK_PRUNE_MAX_ROWS + 500);
    expect(reader.firstRetainedSeq('c/acme')).toBe(ACK_PRUNE_MAX_ROWS + 1);
    expect(reader.pruneAcked(100, 10_000)).toBe(400);
    expect(reader.firstRetainedSeq('c/acme')).toBe(ACK_PRUNE_MAX_ROWS + 401);
  });

  it('keeps only the newest retainAcked acknowledged rows per stream; unacked rows always stay', () => {
    writer.appendMany(20, () => ({ carrier: 'acme' }));
    writer.appendMany(20, () => ({ carrier: 'bolt' }));
    reader.ackUpTo('c/acme', 15, 1, 5);
    // 1..10 pruned (15 - 5), 11..15 retained acked, 16..20 unacked
    expect(reader.firstRetainedSeq('c/acme')).toBe(11);
    expect(seqs(reader.rowsFrom('c/acme', 1, 100))).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(reader.firstRetainedSeq('c/bolt')).toBe(1);
    // The retention bound can shrink later (remote config): prune applies it to every stream.
    reader.ackUpTo('c/bolt', 20, 1, 100);
    expect(reader.prune(2)).toBe(3 + 18);
    expect(reader.firstRetainedSeq('c/acme')).toBe(14);
    expect(reader.firstRetainedSeq('c/bolt')).toBe(19);
    // seq allocation is untouched by pruning: the next row is still contiguous.
    expect(writer.append({ carrier: 'acme' }).seq).toBe(21);
  });

  it('reports backlog counts per stream for health', () => {
    writer.appendMany(10, () => ({ carrier: 'acme' }));
    writer.append({ carrier: null });
    reader.markSent(new Map([['c/acme', 4]]));
    reader.ackUpTo('c/acme', 2, 2, 100);
    expect(reader.backlog()).toEqual([
      { stream: 'c/acme', unsent: 6, unacked: 8, lastSeq: 10, ackedUpTo: 2, firstRetained: 1 },
      { stream: 'op', unsent: 1, unacked: 1, lastSeq: 1, ackedUpTo: 0, firstRetained: 1 },
    ]);
  });

  it('marks a burst of PUBACKs with one update per stream, in one transaction', () => {
    writer.appendMany(500, () => ({ carrier: 'acme' }));
    writer.appendMany(5, () => ({ carrier: 'bolt' }));
    const before = reader.backlog().find((b) => b.stream === 'c/acme')?.unsent;
    const changes = db.prepare('SELECT total_changes() AS n').pluck();
    const n0 = changes.get() as number;
    reader.markSent(new Map([['c/acme', 500], ['c/bolt', 5]]));
    expect((changes.get() as number) - n0).toBe(2);
    expect(reader.firstUnsentSeq('c/bolt')).toBe(undefined);
    const after = reader.backlog().find((b) => b.stream === 'c/acme')?.unsent;
    expect([before, after]).toEqual([500, 0]);
    expect(reader.firstUnsentSeq('c/acme')).toBe(undefined);
  });
});
