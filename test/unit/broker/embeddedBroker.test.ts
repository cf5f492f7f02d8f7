import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embeddedBroker.js';
import { SystemClock } from '../../../kernel/clock.js';
import { startWatch, type WatchLine } from '../../../src/cli/lockerctl/watch.js';
import { silentLogger } from '../../../src/logger.js';
import { carrierTenant } from '../../../src/sync/topics.js';
import { SyncLocker, waitFor } from '../../support/syncLocker.js';

const passwords = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt' };

describe('embedded broker (aedes on loopback, shipped ACL rules)', () => {
  let broker: EmbeddedBroker;
  let locker: SyncLocker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ logger: silentLogger(), port: 0, passwords });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1 });
    locker.sync.start();
    await waitFor(() => locker.sync.health().connected, 5_000, 'locker connected');
  });

  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await locker?.close();
    await broker?.close();
  });

  async function connect(user: keyof typeof passwords): Promise<MqttClient> {
    // A client id of the principal's own ("<user>:..."): the broker refuses anyone else's.
    const c = await connectAsync(broker.url, { username: user, password: passwords[user], clientId: `${user}:test-${clients.length}`, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  }

  it('listens on loopback on a free port', () => {
    expect(broker.host).toBe('127.0.0.1');
    expect(broker.port).toBeGreaterThan(0);
  });

  it('carries the locker\'s events to the right carrier', async () => {
    const acme = await connect('acme');
    const lines: WatchLine[] = [];
    const w = await startWatch({ client: acme, clock: new SystemClock(), tenant: carrierTenant('acme'), locker: 'L1', lockerKeys: () => [locker.key.publicJwk], startAt: { L1: 1 }, output: (l) => lines.push(l) });
    for (let i = 0; i < 10; i++) locker.append('acme', 'parcel.stored', { i });
    await waitFor(() => lines.length === 10, 5_000, 'events');
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await w.stop();
    await waitFor(() => locker.ackedUpTo('c/acme') === 10, 5_000, 'acks');
  });

  it('refuses a subscription outside the principal\'s rules with SUBACK 0x80', async () => {
    const acme = await connect('acme');
    // The SUBACK's return codes, one per filter in order (MQTT.js also reports an error).
    const filters = ['lk/v1/c/bolt/#', 'lk/v1/c/acme/#', 'lk/v1/op/#'];
    const codes = await new Promise<unknown[]>((resolve) => acme.subscribe(filters, { qos: 1 }, (_err, _g, packet) => resolve(packet?.granted ?? [])));
    expect(codes).toEqual([128, 1, 128]);
  });

  it('drops a client that publishes outside its rules; the message goes nowhere', async () => {
    const bolt = await connect('bolt');
    const seen: string[] = [];
    bolt.on('message', (t) => seen.push(t));
    await bolt.subscribeAsync('lk/v1/c/bolt/#', { qos: 1 });
    const acme = await connect('acme');
    const closed = new Promise<void>((resolve) => acme.once('close', () => resolve()));
    acme.publish('lk/v1/c/bolt/l/L1/cmd', 'forged', { qos: 1 });
    await closed;
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
  });

  it('refuses a wrong password and a missing username', async () => {
    await expect(connectAsync(broker.url, { username: 'acme', password: 'nope', reconnectPeriod: 0 })).rejects.toThrow();
    await expect(connectAsync(broker.url, { reconnectPeriod: 0 })).rejects.toThrow();
  });
});
