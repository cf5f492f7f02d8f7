// The broker is down while the locker keeps working: 10,000 events pile up in the outbox.
// When the broker comes back, the carrier receives every one of them, in order, with no gap;
// any duplicate (a replay overlapping what was in flight) is removed by seq dedupe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { SystemClock } from '../../kernel/clock.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { startWatch, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { carrierTenant } from '../../src/sync/topics.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt' };
const BACKLOG = 10_000;

describe('offline backlog drains after the broker returns', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1 });
    locker.sync.start();
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
  });

  afterAll(async () => {
    for (const c of clients) await closeMqttSession(c);
    await locker?.close();
    await broker?.dispose();
  });

  it(`delivers all ${BACKLOG} events to the carrier, in order, no gaps`, async () => {
    await broker.stop();
    await waitFor(() => !locker.sync.health().connected, 10_000, 'locker noticed the broker is gone');
    const types = ['parcel.announced', 'parcel.stored', 'parcel.picked_up'];
    locker.writer.appendMany(BACKLOG, (i) => ({ carrier: 'acme', type: types[i % 3] ?? 'parcel.stored', data: { waybill: `A-${Math.floor(i / 3)}`, i } }));
    locker.writer.appendMany(500, (i) => ({ carrier: 'bolt', data: { i } }));
    locker.sync.notify();
    expect(locker.sync.health().publisher.streams.find((s) => s.stream === 'c/acme')?.unsent).toBe(BACKLOG);

    await broker.startProcess();
    const clock = new SystemClock();
    const lines: { acme: WatchLine[]; bolt: WatchLine[] } = { acme: [], bolt: [] };
    const handles = [];
    for (const carrier of ['acme', 'bolt'] as const) {
      const client = await openMqttSession({ url: broker.url, username: carrier, password: users[carrier] });
      clients.push(client);
      handles.push(
        await startWatch({
          client,
          clock,
          tenant: carrierTenant(carrier),
          locker: 'L1',
          lockerKeys: () => [locker.key.publicJwk],
          startAt: { L1: 1 },
          output: (l) => lines[carrier].push(l),
        }),
      );
    }
    await waitFor(() => lines.acme.length >= BACKLOG && lines.bolt.length >= 500, 90_000, 'backlog delivered');

    expect(lines.acme.map((l) => l.seq)).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
    expect(new Set(lines.acme.map((l) => l.id)).size).toBe(BACKLOG);
    expect(lines.acme.map((l) => l.data.i)).toEqual(Array.from({ length: BACKLOG }, (_, i) => i));
    expect(lines.bolt.map((l) => l.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    const stats = handles[0]?.stats();
    expect(stats?.delivered).toBe(BACKLOG);
    expect(stats?.rejected).toBe(0);

    // The consumers' acknowledgements reach the outbox: nothing is left unsent or unacknowledged.
    for (const h of handles) await h.stop();
    await waitFor(() => locker.ackedUpTo('c/acme') === BACKLOG && locker.ackedUpTo('c/bolt') === 500, 10_000, 'acks recorded');
    const acme = locker.sync.health().publisher.streams.find((s) => s.stream === 'c/acme');
    expect(acme).toMatchObject({ unsent: 0, unacked: 0, lastSeq: BACKLOG, ackedUpTo: BACKLOG });
  });
});
