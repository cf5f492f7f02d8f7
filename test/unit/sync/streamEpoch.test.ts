// Issue 9, finding 6: stream seqs restarted at 1 with a new database, and a consumer deduping by
// (locker, carrier, seq) dropped the real events. The stream's identity now carries an epoch:
// envelopes carry it (signed), a new epoch restarts every stream at seq 1, and the consumer
// (lockerctl watch, carrier back ends) reports the new epoch and delivers it from seq 1.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { seededRandom } from '../../../kernel/random.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { EventConsumer, type AckRequest } from '../../../src/cli/lockerctl/eventConsumer.js';
import { ed25519Signer, type DocumentSigner } from '../../../src/sync/detachedSignature.js';
import { encodeEnvelope, envelopeSealer, verifyEnvelope } from '../../../src/sync/envelope.js';
import { openDatabase } from '../../../src/store/database.js';
import { Outbox, type OutboxRow } from '../../../src/store/outbox.js';
import { readDatabaseIdentity, startNewEpoch } from '../../../src/store/databaseIdentity.js';
import { StreamPublisher } from '../../../src/sync/streamPublisher.js';
import { silentLogger } from '../../../src/logger.js';

const TOPIC = 'lk/v1/c/acme/l/L1/evt';
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('stream epoch', () => {
  let key: SigningKeyPair;
  let signer: DocumentSigner;
  beforeAll(async () => {
    key = await generateSigningKeyPair();
    signer = ed25519Signer(key.privateKey, 'k');
  });
  const row = (seq: number, id = `id-${seq}`): OutboxRow => ({ stream: 'c/acme', seq, id, type: 't', carrier: 'acme', ts: 0, clockSynced: true, bootId: 'b', data: '{}', sent: false, acked: false, wire: null });

  describe('envelope', () => {
    it('carries the epoch, covered by the signature', () => {
      const payload = encodeEnvelope(row(1), 'L1', signer, false, A);
      const verdict = verifyEnvelope(payload, [key.publicJwk], 'L1');
      expect(verdict.ok && verdict.envelope.epoch).toBe(A);
      const forged = { ...(JSON.parse(payload.toString()) as Record<string, unknown>), epoch: B };
      expect(verifyEnvelope(JSON.stringify(forged), [key.publicJwk], 'L1')).toEqual({ ok: false, reason: 'signature does not verify' });
    });
  });

  describe('consumer', () => {
    let clock: ManualClock;
    let acks: AckRequest[];
    let delivered: string[];
    let epochs: string[];
    let consumer: EventConsumer;
    beforeEach(() => {
      clock = new ManualClock();
      acks = [];
      delivered = [];
      epochs = [];
      consumer = new EventConsumer({
        clock,
        lockerKeys: () => [key.publicJwk],
        sendAck: (_l, m) => acks.push(m),
        deliver: (e) => {
          delivered.push(`${e.epoch?.[0] ?? '-'}${e.seq}`);
        },
        onEpoch: (locker, previous, next) => epochs.push(`${locker}:${previous[0] ?? ''}>${next[0] ?? ''}`),
        startAt: { L1: 1 },
        ackEvery: 100,
      });
    });
    const feed = (seq: number, epoch: string, replay = false) => consumer.receive(TOPIC, encodeEnvelope(row(seq, `${epoch[0] ?? ''}-${seq}`), 'L1', signer, replay, epoch));

    it('a new epoch restarts the stream at seq 1: its events are delivered, not dropped as duplicates, and the new epoch is reported', async () => {
      for (const s of [1, 2, 3, 4, 5]) await feed(s, A);
      for (const s of [1, 2]) await feed(s, B);
      expect(delivered).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2']);
      expect(epochs).toEqual(['L1:a>b']);
      expect(consumer.stats.epochs).toBe(1);
      expect(consumer.epochs()).toEqual({ L1: B });
      expect(consumer.cursors()).toEqual({ L1: 3 });
    });

    it('acknowledges and asks for replays naming the epoch, so an old ack never covers new seqs', async () => {
      await feed(1, A);
      await clock.advance(300);
      expect(acks).toEqual([{ upTo: 1, epoch: A }]);
      // The first envelope of the new epoch seen is seq 3: 1 and 2 are asked for again.
      await feed(3, B);
      expect(acks.at(-1)).toEqual({ replayFrom: 1, epoch: B });
      for (const s of [1, 2, 3]) await feed(s, B, true);
      await clock.advance(300);
      expect(delivered).toEqual(['a1', 'b1', 'b2', 'b3']);
      expect(acks.at(-1)).toEqual({ upTo: 3, epoch: B });
    });

    it('drops late envelopes of an epoch it left', async () => {
      for (const s of [1, 2]) await feed(s, A);
      await feed(1, B);
      await feed(3, A);
      expect(delivered).toEqual(['a1', 'a2', 'b1']);
      expect(consumer.stats.staleEpoch).toBe(1);
      expect(epochs).toEqual(['L1:a>b']);
    });

    it('keeps the epoch of a state file: a locker whose epoch changed while the watcher was away is reported at once', async () => {
      const c = new EventConsumer({ clock, lockerKeys: () => [key.publicJwk], sendAck: () => undefined, deliver: (e) => void delivered.push(`${e.epoch?.[0] ?? '-'}${e.seq}`), startAt: { L1: 40 }, startEpochs: { L1: A }, onEpoch: () => epochs.push('new') });
      await c.receive(TOPIC, encodeEnvelope(row(1), 'L1', signer, false, B));
      expect(delivered).toEqual(['b1']);
      expect(epochs).toEqual(['new']);
    });
  });

  describe('publisher', () => {
    it("every envelope the locker publishes carries the database's epoch", async () => {
      const db = openDatabase(':memory:');
      const outbox = new Outbox(db);
      outbox.appendAll([1, 2].map((n) => ({ event: { carrier: 'acme', type: 't', data: {} }, stamp: { id: `p${n}`, ts: n, clockSynced: true, bootId: 'b' } })));
      const pub = new StreamPublisher({ outbox, signer, lockerId: 'L1', epoch: A, clock: new ManualClock(), logger: silentLogger(), inflightWindow: 4, retainAcked: 10 });
      const seen: (string | undefined)[] = [];
      pub.attach({
        publish: (_topic, payload, done) => {
          const v = verifyEnvelope(payload, [key.publicJwk], 'L1');
          seen.push(v.ok ? v.envelope.epoch : 'bad');
          done();
        },
      });
      await new Promise((r) => setImmediate(r));
      expect(seen).toEqual([A, A]);
      pub.detach();
      db.close();
    });
  });

  describe('a new epoch in the database', () => {
    it('rows sealed at append are signed again with their new seq and the new epoch', () => {
      const db = openDatabase(':memory:');
      const outbox = new Outbox(db, envelopeSealer('L1', signer, A));
      outbox.appendAll([1, 2, 3].map((n) => ({ event: { carrier: 'acme', type: 't', data: { n } }, stamp: { id: `s${n}`, ts: n, clockSynced: true, bootId: 'b' } })));
      outbox.markSent(new Map([['c/acme', 3]]));
      outbox.ackUpTo('c/acme', 1, 1, 1000);
      const identity = startNewEpoch(db, undefined, { lockerId: 'L1', reason: 'restored', now: 5, random: seededRandom(2) });
      const rows = outbox.rows('c/acme');
      expect(rows.map((r) => [r.seq, r.id, r.wire, JSON.parse(r.data)])).toEqual([
        [1, 's2', null, { n: 2 }],
        [2, 's3', null, { n: 3 }],
      ]);
      const publisher = new StreamPublisher({ outbox, signer, lockerId: 'L1', clock: new ManualClock(), logger: silentLogger(), inflightWindow: 8, retainAcked: 100, epoch: identity.epoch });
      const sent: Buffer[] = [];
      publisher.attach({ publish: (_t, payload, done) => { sent.push(payload); done(); } });
      const envelopes = sent.map((p) => verifyEnvelope(p, [key.publicJwk], 'L1'));
      expect(envelopes.map((v) => v.ok && [v.envelope.seq, v.envelope.id, v.envelope.epoch, v.envelope.data])).toEqual([
        [1, 's2', identity.epoch, { n: 2 }],
        [2, 's3', identity.epoch, { n: 3 }],
      ]);
      db.close();
    });

    it('restarts every stream at seq 1: acknowledged rows dropped, the others renumbered in order and sent again', () => {
      const db = openDatabase(':memory:');
      const outbox = new Outbox(db);
      const stamp = (n: number) => ({ id: `e${n}`, ts: n, clockSynced: true, bootId: 'b' });
      let n = 0;
      outbox.appendAll(Array.from({ length: 6 }, () => ({ event: { carrier: 'acme', type: 't', data: { n: ++n } }, stamp: stamp(n) })));
      outbox.appendAll(Array.from({ length: 2 }, () => ({ event: { carrier: null, type: 't', data: { n: ++n } }, stamp: stamp(n) })));
      outbox.markSent(new Map([['c/acme', 5]]));
      outbox.ackUpTo('c/acme', 2, 1, 1000);
      const before = readDatabaseIdentity(db);
      const identity = startNewEpoch(db, undefined, { lockerId: 'L1', reason: 'restored', now: 5, random: seededRandom(1) });
      expect(identity.epoch).toMatch(/^[0-9a-f]{32}$/);
      expect(identity.epoch).not.toBe(before?.epoch);
      expect(readDatabaseIdentity(db)).toMatchObject({ lockerId: 'L1', epoch: identity.epoch, epochReason: 'restored' });
      expect(outbox.rows('c/acme').map((r) => [r.seq, r.id, r.sent])).toEqual([
        [1, 'e3', false],
        [2, 'e4', false],
        [3, 'e5', false],
        [4, 'e6', false],
      ]);
      expect(outbox.rows('op').map((r) => [r.seq, r.id])).toEqual([
        [1, 'e7'],
        [2, 'e8'],
      ]);
      expect(outbox.stream('c/acme')).toMatchObject({ nextSeq: 5, ackedUpTo: 0 });
      // The next event continues the new numbering.
      expect(outbox.appendAll([{ event: { carrier: 'acme', type: 't', data: {} }, stamp: stamp(99) }])).toEqual([{ stream: 'c/acme', seq: 5 }]);
      db.close();
    });
  });
});
