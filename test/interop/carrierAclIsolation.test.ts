// Two carriers share one locker behind a real Mosquitto 2 with the shipped ACL: carrier A must
// not get at carrier B's topics (publishes refused, subscriptions yield nothing) and never
// receives one of B's events, while both receive all of their own.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { startWatch, type WatchHandle, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { carrierTenant } from '../../src/sync/topics.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt', operator: 'pw-op' };

describe('carrier ACL isolation on Mosquitto', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let acmeRaw: MqttClient;
  let bolt: MqttClient;
  let boltWatch: WatchHandle;
  const acmeSeen: { topic: string; payload: string }[] = [];
  const boltLines: WatchLine[] = [];
  const grants: Record<string, number> = {};

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1 });
    locker.sync.start();

    // Carrier A as an attacker: MQTT 5 so refusals come back as reason codes.
    acmeRaw = await connectAsync(broker.url, { username: 'acme', password: users.acme, protocolVersion: 5, reconnectPeriod: 0 });
    acmeRaw.on('message', (topic, payload) => acmeSeen.push({ topic, payload: payload.toString() }));
    for (const filter of ['lk/v1/c/acme/#', 'lk/v1/c/bolt/#', 'lk/v1/c/+/l/L1/evt', 'lk/v1/#', '#']) {
      const [g] = await acmeRaw.subscribeAsync(filter, { qos: 1 });
      grants[filter] = g?.qos ?? -1;
    }

    bolt = await connectAsync(broker.url, { username: 'bolt', password: users.bolt, reconnectPeriod: 500 });
    boltWatch = await startWatch({
      client: bolt,
      clock: new SystemClock(),
      tenant: carrierTenant('bolt'),
      locker: 'L1',
      lockerKeys: () => [locker.key.publicJwk],
      startAt: { L1: 1 },
      output: (l) => boltLines.push(l),
    });
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
  });

  afterAll(async () => {
    await boltWatch?.stop();
    await bolt?.endAsync();
    await acmeRaw?.endAsync();
    await locker?.close();
    await broker?.dispose();
  });

  it('A receives its own events and none of B\'s; B receives all of its own', async () => {
    for (let i = 0; i < 25; i++) {
      locker.append('acme', 'parcel.stored', { waybill: `A-${i}` });
      locker.append('bolt', 'parcel.stored', { waybill: `B-${i}` });
    }
    await waitFor(() => boltLines.length >= 25 && acmeSeen.filter((m) => m.topic.endsWith('/evt')).length >= 25, 20_000, 'events delivered');
    await new Promise((r) => setTimeout(r, 300));
    expect(boltLines.map((l) => l.seq)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(boltLines.every((l) => (l.data.waybill as string).startsWith('B-'))).toBe(true);
    expect(acmeSeen.length).toBeGreaterThan(0);
    // Whatever A subscribed to (even '#'), nothing outside its own subtree reached it.
    expect(acmeSeen.filter((m) => !m.topic.startsWith('lk/v1/c/acme/'))).toEqual([]);
    expect(acmeSeen.some((m) => m.payload.includes('"B-'))).toBe(false);
    // Mosquitto 2.0's acl_file grants a SUBSCRIBE and filters every delivery against the read
    // rules; newer brokers may refuse the SUBSCRIBE outright. Either way A got nothing of B's.
    expect(grants['lk/v1/c/acme/#']).toBe(1);
    for (const f of ['lk/v1/c/bolt/#', 'lk/v1/#', '#']) expect([1, 0x80, 0x87]).toContain(grants[f]);
  });

  it('A cannot publish on B\'s topics: the broker refuses and B and the locker never see it', async () => {
    const before = boltLines.length;
    const duplicatesBefore = boltWatch.stats().duplicates;
    const seenByBolt: string[] = [];
    bolt.on('message', (topic) => {
      if (!topic.endsWith('/evt')) seenByBolt.push(topic);
    });
    await bolt.subscribeAsync('lk/v1/c/bolt/#', { qos: 1 });
    const refusals: number[] = [];
    for (const topic of ['lk/v1/c/bolt/l/L1/cmd', 'lk/v1/c/bolt/l/L1/ack', 'lk/v1/c/bolt/l/L1/evt', 'lk/v1/op/l/L1/cmd']) {
      try {
        await acmeRaw.publishAsync(topic, topic.endsWith('ack') ? '{"replayFrom":1}' : '{"forged":true}', { qos: 1 });
        refusals.push(0);
      } catch (e) {
        refusals.push((e as { code?: number }).code ?? -1);
      }
    }
    // MQTT 5 PUBACK reason code 0x87: not authorized.
    expect(refusals).toEqual([0x87, 0x87, 0x87, 0x87]);
    await new Promise((r) => setTimeout(r, 500));
    expect(seenByBolt.filter((t) => t.startsWith('lk/v1/c/bolt/l/L1/') && !t.endsWith('/res'))).toEqual([]);
    expect(boltLines.length).toBe(before);
    // The forged {replayFrom} never reached the locker: B got no replayed duplicates.
    expect(boltWatch.stats().duplicates).toBe(duplicatesBefore);
    // B's own acknowledgements do reach it.
    await waitFor(() => locker.ackedUpTo('c/bolt') === 25, 5_000, 'bolt acks');
  });

  it('A cannot pass as B: B\'s password is needed to connect as B', async () => {
    await expect(connectAsync(broker.url, { username: 'bolt', password: users.acme, reconnectPeriod: 0, connectTimeout: 3_000 })).rejects.toThrow();
  });
});
