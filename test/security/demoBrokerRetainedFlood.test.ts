// Attack (issue 7, finding 15, memory): the demo broker lives in lockerd's own process and kept
// every retained message without limit (100 x 1 MB added about 100 MB of RSS). A carrier with
// valid credentials floods its own subtree with retained messages, big ones and many small
// ones, and sends oversized packets. Now: packets above the size cap close the connection
// before they are buffered, retained messages are capped per message, per principal (count
// and bytes) and in total, and the locker's own retained presence survives the flood.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embeddedBroker.js';
import { silentLogger } from '../../src/logger.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const passwords = { L1: 'pw-l1-long-enough', acme: 'pw-acme-long-enough', operator: 'pw-op-long-enough' };

async function carrier(url: string): Promise<MqttClient> {
  const c = await connectAsync(url, { username: 'acme', password: passwords.acme, clientId: 'acme:flood', reconnectPeriod: 0, connectTimeout: 3_000 });
  c.on('error', () => undefined);
  return c;
}

/** Publishes; true when the broker took it, false when it closed the connection instead. */
async function tryPublish(c: MqttClient, topic: string, payload: Buffer, retain: boolean): Promise<boolean> {
  if (!c.connected) return false;
  return new Promise((resolve) => {
    const onClose = (): void => resolve(false);
    c.once('close', onClose);
    c.publish(topic, payload, { qos: 1, retain }, (err) => {
      c.off('close', onClose);
      resolve(!err && c.connected);
    });
  });
}

/** Subscribes afresh to a filter and counts the retained messages the broker hands out. */
async function retainedUnder(url: string, user: 'acme' | 'operator', filter: string): Promise<{ count: number; bytes: number }> {
  const c = await connectAsync(url, { username: user, password: passwords[user], clientId: `${user}:count`, reconnectPeriod: 0 });
  let count = 0;
  let bytes = 0;
  c.on('message', (_t, payload, packet) => {
    if (packet.retain) {
      count++;
      bytes += payload.length;
    }
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await new Promise((r) => setTimeout(r, 300));
  await c.endAsync(true);
  return { count, bytes };
}

describe('retained-message flood on the demo broker', () => {
  let broker: EmbeddedBroker;
  let locker: SyncLocker;

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ logger: silentLogger(), port: 0, passwords });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1 });
    locker.sync.start();
    await waitFor(() => locker.sync.health().connected, 5_000, 'locker connected');
  });

  afterAll(async () => {
    await locker?.close();
    await broker?.close();
  });

  it('closes a connection that sends a 1 MB packet, retained or not, and keeps nothing of it', async () => {
    const big = Buffer.alloc(1024 * 1024, 0x61);
    for (let i = 0; i < 5; i++) {
      const c = await carrier(broker.url);
      expect(await tryPublish(c, `lk/v1/c/acme/big/${i}`, big, i % 2 === 0)).toBe(false);
      c.end(true);
    }
    expect(await retainedUnder(broker.url, 'acme', 'lk/v1/c/acme/big/#')).toEqual({ count: 0, bytes: 0 });
  });

  it('refuses a retained message above the per-message cap', async () => {
    const c = await carrier(broker.url);
    expect(await tryPublish(c, 'lk/v1/c/acme/mid/1', Buffer.alloc(100 * 1024, 0x62), true)).toBe(false);
    c.end(true);
    expect((await retainedUnder(broker.url, 'acme', 'lk/v1/c/acme/mid/#')).count).toBe(0);
  });

  it('holds at most the per-principal count of retained messages however often the carrier reconnects', async () => {
    let c = await carrier(broker.url);
    let accepted = 0;
    for (let i = 0; i < 100; i++) {
      if (!c.connected) {
        c.end(true);
        c = await carrier(broker.url);
      }
      if (await tryPublish(c, `lk/v1/c/acme/many/${i}`, Buffer.alloc(1024, 0x63), true)) accepted++;
    }
    c.end(true);
    const held = await retainedUnder(broker.url, 'acme', 'lk/v1/c/acme/#');
    expect(accepted).toBe(64);
    expect(held.count).toBeLessThanOrEqual(64);
    expect(held.bytes).toBeLessThanOrEqual(512 * 1024);
    // Overwriting and deleting its own retained topics still works within the quota.
    const again = await carrier(broker.url);
    expect(await tryPublish(again, 'lk/v1/c/acme/many/0', Buffer.alloc(10, 0x64), true)).toBe(true);
    expect(await tryPublish(again, 'lk/v1/c/acme/many/1', Buffer.alloc(0), true)).toBe(true);
    expect(await tryPublish(again, 'lk/v1/c/acme/many/new', Buffer.alloc(10, 0x65), true)).toBe(true);
    again.end(true);
  });

  it('the locker\'s retained presence is still there after the flood', async () => {
    const presence = await retainedUnder(broker.url, 'operator', 'lk/v1/op/l/L1/state');
    expect(presence.count).toBe(1);
    expect(locker.sync.health().connected).toBe(true);
  });
});
