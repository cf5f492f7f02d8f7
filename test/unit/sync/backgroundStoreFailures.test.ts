// Issue 9, findings 5 and 7: the next PUBACK's markSent threw STORE_FULL inside a timer, and a
// damaged database threw SQLITE_CORRUPT inside the MQTT connect handler; both were uncaught
// and ended the process. Rule: every background path reports to the one failure policy
// (kernel/failurePolicy.ts) and never throws into the event loop; nothing is lost meanwhile.
import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { type MqttClient } from 'mqtt';
import { ManualClock } from '../../../kernel/clock.js';
import { reportingPolicy } from '../../../kernel/failurePolicy.js';
import { MqttConfig } from '../../../src/config/schema.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { mapStoreError, openDatabase, storeErrorCode } from '../../../src/store/database.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ed25519Signer } from '../../../src/sync/detachedSignature.js';
import { StreamPublisher, type PublishChannel } from '../../../src/sync/streamPublisher.js';
import { SyncClient } from '../../../src/sync/syncClient.js';
import { OutboxWriter } from '../../support/outboxFixture.js';

/** The outbox of a database that refuses writes (full disk) or reads (damaged pages) on demand. */
class FailingOutbox extends Outbox {
  full = false;
  corrupt = false;
  override markSent(upTo: ReadonlyMap<string, number>): void {
    if (this.full) mapStoreError(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    super.markSent(upTo);
  }
  override firstUnsentSeq(stream: string): number | undefined {
    if (this.corrupt) throw Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' });
    return super.firstUnsentSeq(stream);
  }
}

class AckingChannel implements PublishChannel {
  published = 0;
  publish(_topic: string, _payload: Buffer, done: (err?: Error) => void): void {
    this.published++;
    done();
  }
}

/** Just enough of an MQTT.js client for SyncClient's connect handler. */
class FakeMqttClient extends EventEmitter {
  connected = true;
  subscribe(_t: unknown, _o: unknown, cb?: (err: Error | null, granted: unknown[]) => void): this {
    cb?.(null, []);
    return this;
  }
  publish(_t: string, _p: unknown, _o: unknown, cb?: (err?: Error) => void): this {
    cb?.();
    return this;
  }
  end(_force?: boolean, _o?: unknown, cb?: () => void): this {
    cb?.();
    return this;
  }
}

describe('background paths on a full or damaged store', () => {
  let key: SigningKeyPair;
  beforeAll(async () => {
    key = await generateSigningKeyPair();
  });

  function setup() {
    const clock = new ManualClock();
    const db = openDatabase(':memory:');
    const outbox = new FailingOutbox(db);
    const failures: { path: string; code: string | undefined }[] = [];
    const policy = reportingPolicy((path, err) => failures.push({ path, code: storeErrorCode(err) }));
    const publisher = new StreamPublisher({ outbox, signer: ed25519Signer(key.privateKey, 'k'), lockerId: 'L1', clock, logger: silentLogger(), inflightWindow: 8, retainAcked: 100, failures: policy, retryMs: 1_000 });
    return { clock, db, outbox, failures, policy, publisher, writer: new OutboxWriter(db) };
  }

  it('a PUBACK mark refused by a full disk is reported, kept, and written once space returns', async () => {
    const { clock, outbox, failures, publisher, writer } = setup();
    writer.appendMany(3, () => ({ carrier: 'acme' }));
    outbox.full = true;
    const channel = new AckingChannel();
    publisher.attach(channel);
    expect(channel.published).toBe(3);
    // The flush timer fires with the disk full: no throw out of the timer.
    await clock.advance(50);
    expect(failures).toContainEqual({ path: 'outbox.flush', code: 'STORE_FULL' });
    expect(outbox.firstUnsentSeq('c/acme')).toBe(1);

    outbox.full = false;
    await clock.advance(1_000);
    expect(outbox.firstUnsentSeq('c/acme')).toBe(undefined);
  });

  it('a damaged database in the MQTT connect handler is reported, not thrown into the client', () => {
    const { clock, outbox, failures, policy, publisher, writer } = setup();
    writer.appendMany(1, () => ({ carrier: 'acme' }));
    publisher.notify();
    outbox.corrupt = true;
    const fake = new FakeMqttClient();
    const client = new SyncClient({
      config: MqttConfig.parse({ url: 'mqtt://127.0.0.1:1' }),
      lockerId: 'L1',
      bootId: 'b1',
      signer: ed25519Signer(key.privateKey, 'k'),
      publisher,
      clock,
      random: { bytes: (n: number) => new Uint8Array(n) },
      logger: silentLogger(),
      connect: () => fake as unknown as MqttClient,
      failures: policy,
    });
    client.start();
    expect(() => fake.emit('connect')).not.toThrow();
    expect(failures).toContainEqual({ path: 'sync.connect', code: 'STORE_CORRUPT' });
    // A message arriving on the same damaged store is reported too.
    expect(() => fake.emit('message', 'lk/v1/c/acme/l/L1/ack', Buffer.from(JSON.stringify({ replayFrom: 1 })))).not.toThrow();
    void client.stop();
  });
});
