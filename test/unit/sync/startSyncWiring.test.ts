// startSync subscribes the publisher to the recorder's commits itself: one hop from a committed
// event to the pump that publishes it, and the subscription ends with the sync.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { cryptoRandom } from '../../../kernel/random.js';
import { generateSigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase } from '../../../src/store/database.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ed25519Signer } from '../../../src/sync/detachedSignature.js';
import { startSync } from '../../../src/sync/startSync.js';
import { MqttConfig } from '../../../src/config/schema.js';
import { FakeLockerOperations } from '../../support/fakeLockerOperations.js';

describe('startSync wiring', () => {
  it('wakes the publisher on every commit the recorder reports, and unsubscribes on stop', async () => {
    const db = openDatabase(':memory:');
    const key = await generateSigningKeyPair();
    const listeners = new Set<() => void>();
    let unsubscribed = 0;
    const ops = new FakeLockerOperations({ id: 'op', signingKeys: [] });
    const running = startSync({
      // Nothing listens on port 1: the client keeps retrying, which is all this test needs.
      config: MqttConfig.parse({ url: 'mqtt://127.0.0.1:1', username: 'L1', password: 'x' }),
      lockerId: 'L1',
      bootId: 'b1',
      signer: ed25519Signer(key.privateKey, 'k'),
      outbox: new Outbox(db),
      onAppended: (listener) => {
        listeners.add(listener);
        return () => {
          unsubscribed++;
          listeners.delete(listener);
        };
      },
      db,
      clock: new ManualClock(),
      random: cryptoRandom(),
      logger: silentLogger(),
      issuers: ops,
      operations: ops,
    });
    let wakes = 0;
    running.sync.publisher.notifySoon = () => {
      wakes++;
    };
    expect(listeners.size).toBe(1);
    for (const l of listeners) l();
    expect(wakes).toBe(1);
    await running.stop();
    expect(unsubscribed).toBe(1);
    expect(listeners.size).toBe(0);
    db.close();
  });
});
