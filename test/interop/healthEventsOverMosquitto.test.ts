// Health events over a real Mosquitto 2 (shipped ACL) from the real lockerd runtime on the
// simulator: after a deposit and a pickup, the `health` event reaches the operator on its
// stream, signed by the locker and in sequence with the other operator events, and its figures
// match what /metrics says (transactions, door cycles, MQTT state, outbox streams). The
// report's interval comes from the config; the test asks for a report instead of waiting.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { startWatch, type WatchHandle, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { operatorTenant } from '../../src/sync/topics.js';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { sample } from '../support/promText.js';
import { fastMqtt, lockerPublicKeys, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'demo-locker-1';
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator' };

describe('health events on the operator stream', () => {
  let broker: MosquittoBroker;
  let h: LockerHarness;
  let watchClient: MqttClient | undefined;
  let watch: WatchHandle | undefined;
  const lines: WatchLine[] = [];

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    h = await LockerHarness.start({ overrides: { mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER]), metrics: { port: 0, healthIntervalS: 3600 } } });
    await waitForSyncConnected(h.running);
    const lockerKey = toPublicKey((await lockerPublicKeys(h.running)).signingKey);
    watchClient = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    // The watcher verifies every event's signature against the locker's key and checks seq order.
    watch = await startWatch({ client: watchClient, clock: new SystemClock(), tenant: operatorTenant, locker: LOCKER, lockerKeys: () => [lockerKey], startAt: { [LOCKER]: 1 }, output: (l) => lines.push(l) });
  });

  afterAll(async () => {
    await watch?.stop();
    if (watchClient) await closeMqttSession(watchClient);
    await h?.cleanup();
    await broker?.dispose();
  });

  it('carries the same figures as /metrics after a deposit and a pickup', async () => {
    const token = await h.courierLogin('swiftpost', 'courier-3');
    const stored = await h.deposit(token, 'SP-H1', 'S');
    expect((await h.pickup(stored.code)).status).toBe(200);
    h.take(stored.compartment);
    h.close(stored.compartment);
    await h.waitForDoor(stored.compartment, 'closed');
    // Both carrier events reached the broker, so the backlog figures are settled.
    await waitFor('both carrier events sent', () => h.running.outbox.counts().find((c) => c.stream === 'c/swiftpost')?.unsent === 0, 10_000);

    expect(await h.running.metrics.health.report()).toBe('appended');
    const event = await waitFor('a health event on the operator stream', () => lines.find((l) => l.type === 'health'), 10_000);
    expect(event).toMatchObject({ locker: LOCKER, carrier: null });
    expect(event.seq).toBe(h.read.outbox('op').find((r) => r.type === 'health')?.seq);
    const data = event.data as {
      intervalS: number;
      transactions: Record<string, number>;
      doorCycles: Record<string, [number, number]>;
      mqtt: { connected: boolean; connects: number } | null;
      outbox: Record<string, { unsent: number; unacked: number }>;
      doorOpenMs: { count: number };
      diskFreeBytes: number;
    };
    expect(data.intervalS).toBe(3600);

    const res = await fetch(`${h.running.metrics.url ?? ''}/metrics`);
    const text = await res.text();
    expect(data.transactions).toEqual({ 'deposit/ok': 1, 'pickup/ok': 1 });
    expect(sample(text, 'lockerd_transactions_total', { kind: 'deposit', outcome: 'ok' })).toBe(data.transactions['deposit/ok']);
    expect(sample(text, 'lockerd_transactions_total', { kind: 'pickup', outcome: 'ok' })).toBe(data.transactions['pickup/ok']);
    expect(data.doorCycles[stored.compartment]).toEqual([2, 2]);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'open' })).toBe(2);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'unlock' })).toBe(2);
    expect(data.doorOpenMs.count).toBe(sample(text, 'lockerd_door_open_latency_seconds_count'));
    expect(data.mqtt).toEqual({ connected: true, connects: 1 });
    expect(sample(text, 'lockerd_mqtt_connected')).toBe(1);
    expect(sample(text, 'lockerd_mqtt_connects')).toBe(1);
    expect(data.outbox['c/swiftpost']).toEqual({ unsent: 0, unacked: 2 });
    expect(sample(text, 'lockerd_outbox_backlog', { stream: 'c/swiftpost', state: 'unsent' })).toBe(0);
    expect(sample(text, 'lockerd_outbox_backlog', { stream: 'c/swiftpost', state: 'unacked' })).toBe(2);
    expect(data.diskFreeBytes).toBeGreaterThan(0);
    // The door cycles were written with the report.
    expect(h.read.db.prepare('SELECT opens, unlocks FROM door_cycles WHERE compartment_id = ?').get(stored.compartment)).toEqual({ opens: 2, unlocks: 2 });
  });
});
