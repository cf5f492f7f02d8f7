// Deposits and pickups keep producing events while the broker is stopped and started again,
// several times, gracefully and by SIGKILL. Every stream (two carriers and the operator)
// ends up complete and in order at its consumer; the presence topic says online again.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { startWatch, type WatchHandle, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { carrierTenant, operatorTenant, type Tenant } from '../../src/sync/topics.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt', operator: 'pw-op' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('broker restarts during a stream of events', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  const clients: MqttClient[] = [];
  const handles: WatchHandle[] = [];
  const received: Record<string, WatchLine[]> = { acme: [], bolt: [], op: [] };

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, inflightWindow: 16 });
    locker.sync.start();
    const clock = new SystemClock();
    const consumers: [keyof typeof received, Tenant, keyof typeof users][] = [
      ['acme', carrierTenant('acme'), 'acme'],
      ['bolt', carrierTenant('bolt'), 'bolt'],
      ['op', operatorTenant, 'operator'],
    ];
    for (const [name, tenant, user] of consumers) {
      const client = await openMqttSession({ url: broker.url, username: user, password: users[user], protocolVersion: name === 'bolt' ? 5 : 4 });
      clients.push(client);
      handles.push(
        await startWatch({
          client,
          clock,
          tenant,
          locker: 'L1',
          lockerKeys: () => [locker.key.publicJwk],
          startAt: { L1: 1 },
          replayRetryMs: 1_000,
          output: (l) => received[name]?.push(l),
        }),
      );
    }
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
  });

  afterAll(async () => {
    for (const h of handles) await h.stop();
    for (const c of clients) await closeMqttSession(c);
    await locker?.close();
    await broker?.dispose();
  });

  it('loses nothing and keeps the order of every stream', async () => {
    const appended = { acme: 0, bolt: 0, op: 0 };
    let producing = true;
    const producer = (async () => {
      let n = 0;
      while (producing) {
        // A deposit and a pickup per carrier, now and then an alarm for the operator.
        const carrier = n % 2 === 0 ? 'acme' : 'bolt';
        locker.append(carrier, n % 4 < 2 ? 'parcel.stored' : 'parcel.picked_up', { n });
        appended[carrier]++;
        if (n % 10 === 0) {
          locker.append(null, 'alarm.door_left_open', { n });
          appended.op++;
        }
        n++;
        await sleep(4);
      }
    })();

    const plan: { downMs: number; signal: NodeJS.Signals }[] = [
      { downMs: 300, signal: 'SIGTERM' },
      { downMs: 50, signal: 'SIGKILL' },
      { downMs: 800, signal: 'SIGTERM' },
      { downMs: 0, signal: 'SIGKILL' },
      { downMs: 400, signal: 'SIGKILL' },
    ];
    for (const step of plan) {
      await sleep(700);
      await broker.stop(step.signal);
      await sleep(step.downMs);
      await broker.startProcess();
    }
    await sleep(500);
    producing = false;
    await producer;
    expect(appended.acme).toBeGreaterThan(100);

    await waitFor(
      () => received.acme?.length === appended.acme && received.bolt?.length === appended.bolt && received.op?.length === appended.op,
      60_000,
      'every stream complete',
    );
    for (const name of ['acme', 'bolt', 'op'] as const) {
      expect(received[name]?.map((l) => l.seq)).toEqual(Array.from({ length: appended[name] }, (_, i) => i + 1));
    }
    // Within a stream the data order is the append order too.
    const ns = received.acme?.map((l) => l.data.n as number) ?? [];
    expect([...ns].sort((a, b) => a - b)).toEqual(ns);

    // Presence: the retained state (lost with each non-persistent restart) was published again.
    const op = await connectAsync(broker.url, { username: 'operator', password: users.operator, reconnectPeriod: 0 });
    clients.push(op);
    const state = new Promise<string>((resolve) => op.on('message', (_t, p) => resolve(p.toString())));
    await op.subscribeAsync('lk/v1/op/l/L1/state', { qos: 1 });
    expect(JSON.parse(await state)).toEqual({ online: true, bootId: 'boot-L1' });
    expect(locker.sync.health().connects).toBeGreaterThanOrEqual(plan.length + 1);
  });
});
