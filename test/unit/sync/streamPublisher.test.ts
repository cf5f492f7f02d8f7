import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { ed25519Signer } from '../../../src/sync/detachedSignature.js';
import { verifyEnvelope, type EventEnvelope } from '../../../src/sync/envelope.js';
import { Outbox } from '../../../src/store/outbox.js';
import { StreamPublisher, type PublishChannel } from '../../../src/sync/streamPublisher.js';
import { OutboxWriter } from '../../support/outboxFixture.js';

/** A broker stand-in: keeps publishes pending until the test acknowledges them. */
class FakeChannel implements PublishChannel {
  pending: { topic: string; env: EventEnvelope; done: (err?: Error) => void }[] = [];
  published: { topic: string; env: EventEnvelope }[] = [];
  constructor(private readonly key: SigningKeyPair) {}
  publish(topic: string, payload: Buffer, done: (err?: Error) => void): void {
    const v = verifyEnvelope(payload, [this.key.publicJwk]);
    if (!v.ok) throw new Error(v.reason);
    this.pending.push({ topic, env: v.envelope, done });
    this.published.push({ topic, env: v.envelope });
  }
  pubackAll(): void {
    const p = this.pending;
    this.pending = [];
    for (const x of p) x.done();
  }
  seqs(topic?: string): number[] {
    return this.published.filter((p) => topic === undefined || p.topic === topic).map((p) => p.env.seq);
  }
}

describe('StreamPublisher', () => {
  let key: SigningKeyPair;
  let clock: ManualClock;
  let db: Db;
  let writer: OutboxWriter;
  let reader: Outbox;
  let pub: StreamPublisher;

  beforeAll(async () => {
    key = await generateSigningKeyPair();
  });

  beforeEach(() => {
    clock = new ManualClock();
    db = openDatabase(':memory:');
    writer = new OutboxWriter(db);
    reader = new Outbox(db);
    pub = new StreamPublisher({ outbox: reader, signer: ed25519Signer(key.privateKey, 'k'), lockerId: 'L1', clock, logger: silentLogger(), inflightWindow: 4, retainAcked: 1000 });
  });

  const ACME = 'lk/v1/c/acme/l/L1/evt';
  const OP = 'lk/v1/op/l/L1/evt';

  it('publishes each stream in order on its own topic, never more than the window in flight', async () => {
    writer.appendMany(6, () => ({ carrier: 'acme' }));
    writer.appendMany(3, () => ({ carrier: null }));
    const ch = new FakeChannel(key);
    pub.attach(ch);
    expect(ch.pending).toHaveLength(4);
    // Round-robin: both streams make progress.
    expect(ch.seqs(ACME)).toEqual([1, 2]);
    expect(ch.seqs(OP)).toEqual([1, 2]);
    while (ch.pending.length > 0) ch.pubackAll();
    expect(ch.seqs(ACME)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ch.seqs(OP)).toEqual([1, 2, 3]);
    pub.flushSent();
    expect(reader.firstUnsentSeq('c/acme')).toBe(undefined);
    expect(ch.published.every((p) => p.env.locker === 'L1')).toBe(true);
    await clock.advance(100);
  });

  it('marks rows sent only on PUBACK; after a reconnect resumes at the first unsent row', () => {
    writer.appendMany(5, () => ({ carrier: 'acme' }));
    const first = new FakeChannel(key);
    pub.attach(first);
    first.pending.slice(0, 2).forEach((p) => p.done());
    pub.detach();
    // Late PUBACKs of the dropped connection change nothing.
    first.pending.slice(2).forEach((p) => p.done());
    expect(reader.firstUnsentSeq('c/acme')).toBe(3);
    const second = new FakeChannel(key);
    pub.attach(second);
    expect(second.seqs()).toEqual([3, 4, 5]);
  });

  it('wakes on notify() for rows appended later, including a new stream', () => {
    const ch = new FakeChannel(key);
    pub.attach(ch);
    expect(ch.published).toHaveLength(0);
    writer.append({ carrier: 'bolt' });
    pub.notify();
    expect(ch.seqs('lk/v1/c/bolt/l/L1/evt')).toEqual([1]);
  });

  it('notifySoon() coalesces a burst of commits into one pump, after the current turn', async () => {
    const ch = new FakeChannel(key);
    pub.attach(ch);
    let pumps = 0;
    const notify = pub.notify.bind(pub);
    pub.notify = () => {
      pumps++;
      notify();
    };
    for (let i = 0; i < 3; i++) {
      writer.append({ carrier: 'acme' });
      pub.notifySoon();
    }
    expect(ch.published).toHaveLength(0);
    await Promise.resolve();
    expect(pumps).toBe(1);
    expect(ch.seqs()).toEqual([1, 2, 3]);
  });

  it('replays on request from a seq, in order, flagged, then continues with new rows', () => {
    writer.appendMany(5, () => ({ carrier: 'acme' }));
    const ch = new FakeChannel(key);
    pub.attach(ch);
    while (ch.pending.length > 0) ch.pubackAll();
    writer.append({ carrier: 'acme' });
    const outcome = pub.replay('c/acme', 3);
    expect(outcome).toEqual({ fromSeq: 3, lastSeq: 6, truncated: false });
    while (ch.pending.length > 0) ch.pubackAll();
    expect(ch.seqs()).toEqual([1, 2, 3, 4, 5, 3, 4, 5, 6]);
    expect(ch.published.slice(5).map((p) => p.env.replay ?? false)).toEqual([true, true, true, false]);
  });

  it('replay from before the retained rows starts at the oldest one and says so', () => {
    writer.appendMany(10, () => ({ carrier: 'acme' }));
    pub = new StreamPublisher({ outbox: reader, signer: ed25519Signer(key.privateKey, 'k'), lockerId: 'L1', clock, logger: silentLogger(), inflightWindow: 100, retainAcked: 2 });
    const ch = new FakeChannel(key);
    pub.attach(ch);
    ch.pubackAll();
    pub.ack('c/acme', 8);
    expect(pub.replay('c/acme', 1)).toEqual({ fromSeq: 7, lastSeq: 10, truncated: true });
    ch.pubackAll();
    expect(ch.seqs().slice(10)).toEqual([7, 8, 9, 10]);
  });

  it('an acknowledgement moves the cursor past rows the consumer already has', () => {
    writer.appendMany(10, () => ({ carrier: 'acme' }));
    const ch = new FakeChannel(key);
    pub.attach(ch);
    expect(ch.seqs()).toEqual([1, 2, 3, 4]);
    pub.detach();
    pub.ack('c/acme', 7);
    const next = new FakeChannel(key);
    pub.attach(next);
    expect(next.seqs()).toEqual([8, 9, 10]);
  });

  it('a refused publish keeps the order: the stream pauses and retries from that row', async () => {
    writer.appendMany(3, () => ({ carrier: 'acme' }));
    const ch = new FakeChannel(key);
    pub.attach(ch);
    const [p1, p2, p3] = ch.pending;
    ch.pending = [];
    p1?.done();
    p2?.done(new Error('not authorised'));
    p3?.done();
    expect(ch.seqs()).toEqual([1, 2, 3]);
    await clock.advance(5_000);
    expect(ch.seqs()).toEqual([1, 2, 3, 2, 3]);
  });

  it('a wall clock stepped back during the pause does not keep the stream paused (issue 9, finding 8)', async () => {
    writer.appendMany(2, () => ({ carrier: 'acme' }));
    const ch = new FakeChannel(key);
    pub.attach(ch);
    const [p1, p2] = ch.pending;
    ch.pending = [];
    p1?.done(new Error('not authorised'));
    p2?.done();
    clock.stepWall(-3_600_000);
    await clock.advance(5_000);
    expect(ch.seqs()).toEqual([1, 2, 1, 2]);
  });
});
