// The MQTT.js client the locker makes holds no caches it does not need (issue 10): with the
// default writeCache, mqtt-packet keeps 65,536 two-byte Buffers (about 6 MiB of heap) for the
// life of the process.
import { describe, expect, it } from 'vitest';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ManualClock } from '../../../kernel/clock.js';
import { cryptoRandom } from '../../../kernel/random.js';
import { MqttConfig } from '../../../src/config/schema.js';
import { generateSigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase } from '../../../src/store/database.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ed25519Signer } from '../../../src/sync/detachedSignature.js';
import { outboxPublisher } from '../../../src/sync/startSync.js';
import { SyncClient } from '../../../src/sync/syncClient.js';

describe('MQTT client options', () => {
  it('turns the packet writer number cache off (writeCache: false)', async () => {
    const key = await generateSigningKeyPair();
    const config = MqttConfig.parse({ url: 'mqtt://127.0.0.1:1', username: 'L1', password: 'x'.repeat(24) });
    const common = { config, lockerId: 'L1', bootId: 'boot-L1', signer: ed25519Signer(key.privateKey, 'L1'), clock: new ManualClock(), random: cryptoRandom(), logger: silentLogger() };
    const seen: IClientOptions[] = [];
    const sync = new SyncClient({
      ...common,
      publisher: outboxPublisher({ ...common, outbox: new Outbox(openDatabase(':memory:')) }),
      connect: (_url: string, options: IClientOptions): MqttClient => {
        seen.push(options);
        throw new Error('no broker in this test');
      },
    });
    sync.start();
    await sync.stop();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.writeCache).toBe(false);
  });
});
