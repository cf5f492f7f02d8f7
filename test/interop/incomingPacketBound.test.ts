// Issue 10, item 3 (every buffer bounded): MQTT.js has no bound of its own on the packets it
// receives; its parser buffers a whole PUBLISH before anyone can look at it. The shipped broker
// configurations cap messages at 256 KiB (message_size_limit), but a broker without that cap let
// a carrier's publish on the locker's cmd topic grow the locker's memory as far as it liked.
// Over MQTT 5 the locker now tells the broker its Maximum Packet Size in CONNECT, and the broker
// does not deliver a larger packet to it; a command over the processor's own 64 KiB bound but
// under the packet bound still gets its coded PAYLOAD_TOO_LARGE reply.
// Real Mosquitto 2 without message_size_limit (the test's own configuration).
import { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { tokenRef } from '../../src/sync/commandReply.js';
import { MAX_INCOMING_PACKET_BYTES } from '../../src/sync/syncClient.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', operator: 'pw-op' };

describe('the locker bounds the MQTT packets it receives', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let acme: MqttClient;
  const replies: { ref?: string; code?: string }[] = [];

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    const ops = new FakeLockerOperations({ id: 'operator', signingKeys: [] });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, operations: ops, protocolVersion: 5 });
    locker.sync.start();
    acme = await openMqttSession({ url: broker.url, username: 'acme', password: users.acme });
    acme.on('message', (_t, payload) => {
      const r = JSON.parse(payload.toString('utf8')) as { ref?: string; error?: { code?: string } };
      replies.push({ ...(r.ref ? { ref: r.ref } : {}), ...(r.error?.code ? { code: r.error.code } : {}) });
    });
    await acme.subscribeAsync('lk/v1/c/acme/l/L1/res', { qos: 1 });
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    await closeMqttSession(acme);
    await locker?.close();
    await broker?.dispose();
  });

  it('a packet over the bound never reaches the locker; a smaller oversized command gets its coded refusal', async () => {
    const huge = Buffer.alloc(MAX_INCOMING_PACKET_BYTES + 64 * 1024, 0x61);
    const large = Buffer.alloc(80 * 1024, 0x62);
    // In this order on one topic: had the huge one been delivered, its reply would come first.
    await acme.publishAsync('lk/v1/c/acme/l/L1/cmd', huge, { qos: 1 });
    await acme.publishAsync('lk/v1/c/acme/l/L1/cmd', large, { qos: 1 });
    await waitFor(() => replies.some((r) => r.ref === tokenRef(large)), 10_000, 'the reply to the 80 KiB command');
    expect(replies.find((r) => r.ref === tokenRef(large))?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(replies.filter((r) => r.ref === tokenRef(huge))).toEqual([]);
    // The locker stayed connected on its first connection.
    expect(locker.sync.health().connects).toBe(1);
  });
});
