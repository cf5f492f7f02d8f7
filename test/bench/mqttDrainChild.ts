// One contender of the backlog-drain benchmark, in a fresh process (started by
// mqttBacklogDrain.ts with its arguments as JSON in argv, result sent over IPC):
//   sync: the real SyncClient drains the outbox database (synchronous=FULL, as lockerd opens
//         it): reads seq and the envelope bytes signed at append, publishes QoS 1 with the
//         configured in-flight window, and moves the per-stream sent watermarks on PUBACK in
//         batched commits.
//   bare: a plain MQTT.js QoS 1 publish loop with the same in-flight window, sending the very
//         same payloads (the rows' stored envelopes, read before the clock starts).
// Both are timed from CONNACK to the last PUBACK of an event; sync also to the moment every
// row is covered by its stream's sent watermark in the database.
import { createPrivateKey } from 'node:crypto';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { SystemClock } from '../../kernel/clock.js';
import { MqttConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logger.js';
import { cryptoRandom } from '../../kernel/random.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { type DocumentSigner, ed25519Signer } from '../../src/sync/detachedSignature.js';
import { Outbox, carrierOfStream } from '../../src/store/outbox.js';
import { outboxPublisher } from '../../src/sync/startSync.js';
import { SyncClient } from '../../src/sync/syncClient.js';
import { tenantOfCarrier, topicFor } from '../../src/sync/topics.js';

export type DrainMode = 'sync' | 'bare';

export interface DrainChildArgs {
  mode: DrainMode;
  url: string;
  lockerId: string;
  password: string;
  dbFile: string;
  inflightWindow: number;
  /** PKCS#8 DER of the locker's Ed25519 key, base64. */
  signingKey: string;
  kid: string;
  events: number;
  timeoutMs: number;
}

export interface DrainChildResult {
  mode: DrainMode;
  events: number;
  payloadBytes: number;
  /** CONNACK -> last PUBACK of an event, ms. */
  elapsedMs: number;
  ratePerS: number;
  /** CONNACK -> every outbox row marked sent (sync only), ms. */
  allMarkedMs: number | null;
  unsentAfter: number | null;
  /** CPU of this process over the drain (user + system), ms. */
  cpuMs: number;
  /** Time inside Ed25519 signing during the drain (replays only: rows were signed at append), ms. */
  signMs: number;
  /** Transactions the publisher committed (PUBACK marks) and the time inside them (sync only). */
  commits: number;
  commitMs: number;
  /** PRAGMA synchronous of the drained database: 2 is FULL. */
  synchronous: number | null;
}

function now(): number {
  return performance.now();
}

/** Counts and times the database's transactions (each is a commit with its WAL fsync here). */
function timeTransactions(db: Db, stats: { commits: number; ms: number }): void {
  const original = db.transaction.bind(db);
  const patched = (fn: (...args: unknown[]) => unknown): unknown => {
    const tx = original(fn);
    const run = (...args: unknown[]): unknown => {
      const t0 = now();
      try {
        return tx(...args);
      } finally {
        stats.commits += 1;
        stats.ms += now() - t0;
      }
    };
    return Object.assign(run, { default: run, deferred: tx.deferred, immediate: tx.immediate, exclusive: tx.exclusive });
  };
  db.transaction = patched as unknown as Db['transaction'];
}

/** Watches a client's packets: PUBACKs of event publishes and when the last one came. */
function watchEventAcks(client: MqttClient, expected: number, onAll: (at: number) => void): void {
  const pending = new Set<number>();
  let acked = 0;
  client.on('packetsend', (packet) => {
    if (packet.cmd === 'publish' && packet.topic.endsWith('/evt') && packet.messageId !== undefined) pending.add(packet.messageId);
  });
  client.on('packetreceive', (packet) => {
    if (packet.cmd !== 'puback' || packet.messageId === undefined || !pending.delete(packet.messageId)) return;
    acked += 1;
    if (acked === expected) onAll(now());
  });
}

function mqttOptions(a: DrainChildArgs): IClientOptions {
  // As SyncClient connects: MQTT 3.1.1, persistent session, no MQTT.js reconnect or offline queue.
  return { protocolVersion: 4, clientId: `lk-${a.lockerId}`, username: a.lockerId, password: a.password, clean: false, keepalive: 30, reconnectPeriod: 0, queueQoSZero: false, resubscribe: false };
}

async function drainSync(a: DrainChildArgs, signer: DocumentSigner, signStats: { ms: number }): Promise<DrainChildResult> {
  const db = openDatabase(a.dbFile);
  const synchronous = db.pragma('synchronous', { simple: true }) as number;
  const tx = { commits: 0, ms: 0 };
  timeTransactions(db, tx);
  const outbox = new Outbox(db);
  const unsent = { get: () => ({ n: outbox.counts().reduce((sum, c) => sum + c.unsent, 0) }) };
  const config = MqttConfig.parse({ url: a.url, username: a.lockerId, password: a.password, inflightWindow: a.inflightWindow, protocolVersion: 4 });
  let connackAt = 0;
  let lastAckAt = 0;
  let payloadBytes = 0;
  let running: SyncClient | undefined;
  const done = new Promise<void>((resolve) => {
    const sync = new SyncClient({
      config,
      lockerId: a.lockerId,
      bootId: 'bench-boot',
      signer,
      publisher: outboxPublisher({ outbox, config, signer, lockerId: a.lockerId, clock: new SystemClock(), logger: silentLogger() }),
      clock: new SystemClock(),
      random: cryptoRandom(),
      logger: silentLogger(),
      connect: (url, options) => {
        const client = mqttConnect(url, options);
        // Registered before SyncClient's own listener: the clock starts at CONNACK, before it publishes.
        client.on('connect', () => {
          connackAt = now();
        });
        client.on('packetsend', (packet) => {
          if (packet.cmd === 'publish' && packet.topic.endsWith('/evt') && packet.payload) payloadBytes += packet.payload.length;
        });
        watchEventAcks(client, a.events, (at) => {
          lastAckAt = at;
          resolve();
        });
        return client;
      },
    });
    running = sync;
    sync.start();
  });
  const cpu0 = process.cpuUsage();
  await withTimeout(done, a.timeoutMs, 'sync drain');
  // PUBACK marks are committed in batches (256 or 20 ms): wait for the last commit.
  const deadline = now() + 10_000;
  while (unsent.get().n !== 0 && now() < deadline) await new Promise((r) => setTimeout(r, 2));
  const markedAt = now();
  const cpu = process.cpuUsage(cpu0);
  const left = unsent.get().n;
  await running?.stop();
  db.close();
  const elapsedMs = lastAckAt - connackAt;
  return {
    mode: a.mode,
    events: a.events,
    payloadBytes,
    elapsedMs,
    ratePerS: (a.events * 1000) / elapsedMs,
    // Bounded by the 2 ms poll above.
    allMarkedMs: left === 0 ? markedAt - connackAt : null,
    unsentAfter: left,
    cpuMs: (cpu.user + cpu.system) / 1000,
    signMs: signStats.ms,
    commits: tx.commits,
    commitMs: tx.ms,
    synchronous,
  };
}

async function drainBare(a: DrainChildArgs): Promise<DrainChildResult> {
  // The same payloads, in the publisher's order (round-robin between streams), read untimed.
  const db = openDatabase(a.dbFile);
  const reader = new Outbox(db);
  const queues = reader.streams().map((s) => {
    const carrier = carrierOfStream(s.stream);
    if (carrier === undefined) throw new Error(`unexpected stream ${s.stream}`);
    const topic = topicFor(tenantOfCarrier(carrier), a.lockerId, 'evt');
    return reader.rowsFrom(s.stream, 1, a.events).map((row) => {
      if (!row.wire) throw new Error(`row ${s.stream}/${row.seq} was not signed at append`);
      return { topic, payload: row.wire };
    });
  });
  db.close();
  const messages: { topic: string; payload: Buffer }[] = [];
  for (let i = 0; messages.length < a.events; i++) {
    let any = false;
    for (const q of queues) {
      const m = q[i];
      if (m) {
        messages.push(m);
        any = true;
      }
    }
    if (!any) break;
  }
  const payloadBytes = messages.reduce((s, m) => s + m.payload.length, 0);
  const client = mqttConnect(a.url, mqttOptions(a));
  client.on('error', () => undefined);
  let connackAt = 0;
  let lastAckAt = 0;
  const cpu0 = process.cpuUsage();
  const done = new Promise<void>((resolve) => {
    watchEventAcks(client, messages.length, (at) => {
      lastAckAt = at;
      resolve();
    });
    client.once('connect', () => {
      connackAt = now();
      let next = 0;
      let inflight = 0;
      const pump = (): void => {
        while (inflight < a.inflightWindow && next < messages.length) {
          const m = messages[next++];
          if (!m) break;
          inflight += 1;
          client.publish(m.topic, m.payload, { qos: 1 }, () => {
            inflight -= 1;
            pump();
          });
        }
      };
      pump();
    });
  });
  await withTimeout(done, a.timeoutMs, 'bare loop');
  const cpu = process.cpuUsage(cpu0);
  await client.endAsync();
  const elapsedMs = lastAckAt - connackAt;
  return {
    mode: 'bare',
    events: messages.length,
    payloadBytes,
    elapsedMs,
    ratePerS: (messages.length * 1000) / elapsedMs,
    allMarkedMs: null,
    unsentAfter: null,
    cpuMs: (cpu.user + cpu.system) / 1000,
    signMs: 0,
    commits: 0,
    commitMs: 0,
    synchronous: null,
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

async function main(): Promise<DrainChildResult> {
  const a = JSON.parse(process.argv[2] ?? '{}') as DrainChildArgs;
  const key = createPrivateKey({ key: Buffer.from(a.signingKey, 'base64'), format: 'der', type: 'pkcs8' });
  const inner = ed25519Signer(key, a.kid);
  const signStats = { ms: 0 };
  if (a.mode === 'bare') return drainBare(a);
  const signer: DocumentSigner = {
    kid: inner.kid,
    sign: (data) => {
      const t0 = now();
      try {
        return inner.sign(data);
      } finally {
        signStats.ms += now() - t0;
      }
    },
  };
  return drainSync(a, signer, signStats);
}

main().then(
  (result) => process.send?.({ ok: true, result }, () => process.exit(0)),
  (err: unknown) => process.send?.({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }, () => process.exit(1)),
);
