import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { EventConsumer, type AckRequest } from '../../../src/cli/lockerctl/eventConsumer.js';
import { ed25519Signer, type DocumentSigner } from '../../../src/sync/detachedSignature.js';
import { encodeEnvelope } from '../../../src/sync/envelope.js';
import type { OutboxRow } from '../../../src/store/outbox.js';

const TOPIC = 'lk/v1/c/acme/l/L1/evt';

describe('EventConsumer (carrier side of a stream)', () => {
  let key: SigningKeyPair;
  let signer: DocumentSigner;
  let clock: ManualClock;
  let acks: AckRequest[];
  let delivered: number[];
  let consumer: EventConsumer;

  beforeAll(async () => {
    key = await generateSigningKeyPair();
    signer = ed25519Signer(key.privateKey, 'k');
  });

  beforeEach(() => {
    clock = new ManualClock();
    acks = [];
    delivered = [];
    consumer = new EventConsumer({
      clock,
      lockerKeys: (l) => (l === 'L1' ? [key.publicJwk] : undefined),
      sendAck: (_l, m) => acks.push(m),
      deliver: (e) => {
        delivered.push(e.seq);
      },
      startAt: { L1: 1 },
      ackEvery: 3,
    });
  });

  const row = (seq: number): OutboxRow => ({ stream: 'c/acme', seq, id: `id-${seq}`, type: 't', carrier: 'acme', ts: 0, clockSynced: true, bootId: 'b', data: '{}', wire: null, sent: false, acked: false });
  const feed = (seq: number, replay = false) => consumer.receive(TOPIC, encodeEnvelope(row(seq), 'L1', signer, replay));

  it('delivers in order, drops duplicates and acknowledges every few events', async () => {
    for (const s of [1, 2, 2, 3, 1, 4]) await feed(s);
    expect(delivered).toEqual([1, 2, 3, 4]);
    expect(consumer.stats.duplicates).toBe(2);
    expect(acks).toEqual([{ upTo: 3 }]);
    await clock.advance(300);
    expect(acks).toEqual([{ upTo: 3 }, { upTo: 4 }]);
  });

  it('asks once for a replay on a gap, drops later rows until the gap is filled', async () => {
    await feed(1);
    for (const s of [4, 5, 6]) await feed(s);
    expect(acks).toEqual([{ replayFrom: 2 }]);
    for (const s of [2, 3, 4, 5, 6]) await feed(s, true);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('repeats a replay request that brought nothing', async () => {
    await feed(1);
    await feed(3);
    await clock.advance(2_000);
    expect(acks.filter((a) => a.replayFrom === 2)).toHaveLength(2);
  });

  it('on resume asks every known stream for what follows its cursor', async () => {
    await feed(1);
    await feed(2);
    consumer.resume();
    expect(acks.at(-1)).toEqual({ replayFrom: 3 });
    expect(consumer.cursors()).toEqual({ L1: 3 });
  });

  it('refuses envelopes with a bad signature or from a locker without an enrolled key', async () => {
    const rejected: string[] = [];
    const c = new EventConsumer({ clock, lockerKeys: () => [key.publicJwk], sendAck: () => undefined, deliver: () => undefined, reject: (r) => rejected.push(r) });
    const env = JSON.parse(encodeEnvelope(row(1), 'L1', signer).toString()) as Record<string, unknown>;
    await c.receive(TOPIC, Buffer.from(JSON.stringify({ ...env, type: 'forged' })));
    await c.receive('lk/v1/c/acme/l/L2/evt', encodeEnvelope(row(1), 'L1', signer));
    expect(rejected).toEqual(['signature does not verify', 'envelope names another locker']);
    await consumer.receive('lk/v1/c/acme/l/L9/evt', encodeEnvelope(row(1), 'L9', signer));
    expect(consumer.stats.rejected).toBe(1);
  });
});
