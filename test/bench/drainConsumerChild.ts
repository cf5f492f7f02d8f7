// The carriers' consumers of the backlog-drain benchmark, in a process of their own so they do
// not share an event loop with the publisher being measured. One MQTT connection per carrier
// (its own principal, QoS 1 on lk/v1/c/{carrier}/l/+/evt); per stream (locker, carrier) it
// counts events in order, ahead of order and duplicates, and notes first and last arrival. One
// event in a hundred has its signature verified, to show the payloads are the real envelopes
// without spending a core on verifying all of them.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { type Ed25519PublicJwk } from '../../src/config/schema.js';
import { verifyEnvelope } from '../../src/sync/envelope.js';
import { parseTopic } from '../../src/sync/topics.js';

export type ToConsumer =
  | { kind: 'init'; url: string; carriers: string[]; password: string; lockerKey: Ed25519PublicJwk }
  | { kind: 'await'; locker: string; events: number; timeoutMs: number }
  /** Forget what arrived from this locker (the next round drains the same locker id again). */
  | { kind: 'reset'; locker: string }
  | { kind: 'stop' };

export interface LockerArrivals {
  locker: string;
  inOrder: number;
  ahead: number;
  duplicates: number;
  firstAt: number;
  lastAt: number;
  verified: number;
  badSignatures: number;
}

export type FromConsumer = { kind: 'ready' } | { kind: 'arrivals'; arrivals: LockerArrivals; complete: boolean } | { kind: 'stopped' } | { kind: 'failed'; message: string };

const clients: MqttClient[] = [];
const expected = new Map<string, number>();
const lockers = new Map<string, LockerArrivals>();
let key: KeyObject | undefined;
let received = 0;

function send(m: FromConsumer): void {
  process.send?.(m);
}

function arrivalsOf(locker: string): LockerArrivals {
  let a = lockers.get(locker);
  if (!a) {
    a = { locker, inOrder: 0, ahead: 0, duplicates: 0, firstAt: 0, lastAt: 0, verified: 0, badSignatures: 0 };
    lockers.set(locker, a);
  }
  return a;
}

function onMessage(topic: string, payload: Buffer): void {
  const t = performance.now();
  received += 1;
  const parsed = parseTopic(topic);
  if (!parsed || parsed.leaf !== 'evt' || parsed.tenant.kind !== 'carrier') return;
  const a = arrivalsOf(parsed.locker);
  if (a.firstAt === 0) a.firstAt = t;
  a.lastAt = t;
  const { seq } = JSON.parse(payload.toString('utf8')) as { seq: number };
  const stream = `${parsed.locker}/${parsed.tenant.carrier}`;
  const next = expected.get(stream) ?? 1;
  if (seq === next) {
    a.inOrder += 1;
    expected.set(stream, next + 1);
  } else if (seq < next) a.duplicates += 1;
  else a.ahead += 1;
  if (received % 100 === 0 && key) {
    if (verifyEnvelope(payload, [key], parsed.locker).ok) a.verified += 1;
    else a.badSignatures += 1;
  }
}

async function handle(m: ToConsumer): Promise<void> {
  switch (m.kind) {
    case 'init':
      key = createPublicKey({ key: { kty: m.lockerKey.kty, crv: m.lockerKey.crv, x: m.lockerKey.x }, format: 'jwk' });
      for (const carrier of m.carriers) {
        const client = connect(m.url, { protocolVersion: 4, clientId: `${carrier}-drain-consumer`, username: carrier, password: m.password, clean: true, reconnectPeriod: 0 });
        clients.push(client);
        client.on('message', onMessage);
        await new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
        });
        const granted = await client.subscribeAsync(`lk/v1/c/${carrier}/l/+/evt`, { qos: 1 });
        if (granted.some((g) => g.qos !== 1)) throw new Error(`subscription refused for ${carrier}`);
      }
      send({ kind: 'ready' });
      return;
    case 'await': {
      const deadline = performance.now() + m.timeoutMs;
      while (arrivalsOf(m.locker).inOrder < m.events && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const arrivals = arrivalsOf(m.locker);
      send({ kind: 'arrivals', arrivals, complete: arrivals.inOrder >= m.events });
      return;
    }
    case 'reset':
      lockers.delete(m.locker);
      for (const stream of [...expected.keys()]) if (stream.startsWith(`${m.locker}/`)) expected.delete(stream);
      send({ kind: 'ready' });
      return;
    case 'stop':
      await Promise.all(clients.map((c) => c.endAsync()));
      send({ kind: 'stopped' });
      process.disconnect();
      return;
  }
}

process.on('message', (m: ToConsumer) => {
  handle(m).catch((e: unknown) => send({ kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
process.on('disconnect', () => process.exit(0));
