// Attack (issue 7, finding 11): a carrier holding valid broker credentials connects with the
// locker's client id (and with the locker's username as client id). MQTT lets a new CONNECT
// with a client id in use close the old session, so on a broker that does not bind client
// ids to principals the locker is knocked off again and again and commands go unanswered.
// Real Mosquitto 2 with the shipped deploy/mosquitto/mosquitto.conf (only paths rewritten) and
// the shipped ACL: the locker must not drop once, and commands keep being answered.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embeddedBroker.js';
import { SystemClock } from '../../kernel/clock.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { silentLogger } from '../../src/logger.js';
import { cryptoRandom } from '../../kernel/random.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { operatorTenant } from '../../src/sync/topics.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';
import { makeCertificates, type CertificateSet } from '../support/testCertificates.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', operator: 'pw-op' };

describe.runIf(mosquittoAvailable())('client-id takeover on the shipped Mosquitto configuration', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let ops: FakeLockerOperations;
  let operatorKey: SigningKeyPair;
  let operator: MqttClient;
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users, shipped: 'mosquitto.conf' });
    operatorKey = await generateSigningKeyPair();
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorKey.publicJwk] });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, operations: ops });
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
    operator = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    if (operator) await closeMqttSession(operator);
    await locker?.close();
    await broker?.dispose();
  });

  async function inventory(): Promise<boolean> {
    const cmd = await signCommand({ key: operatorKey.privateKey, issuer: 'operator', locker: 'L1', cmd: 'inventory', ttlS: 60, clock, ids });
    const reply = await sendCommand({ client: operator, clock, tenant: operatorTenant, locker: 'L1', command: cmd, timeoutMs: 5_000, lockerKeys: [toPublicKey(locker.key.publicJwk)] });
    return reply.ok;
  }

  it('a carrier reusing the locker\'s client id never disconnects the locker', async () => {
    const connectsBefore = locker.sync.health().connects;
    const stolenIds = ['lk-L1', 'L1'];
    const attackers: MqttClient[] = [];
    let answered = 0;
    for (let round = 0; round < 10; round++) {
      for (const clientId of stolenIds) {
        // Persistent sessions too: an attacker would like the locker's queued commands.
        for (const clean of [true, false]) {
          const a = await connectAsync(broker.url, { username: 'acme', password: users.acme, clientId, clean, reconnectPeriod: 0, connectTimeout: 3_000 });
          a.on('error', () => undefined);
          attackers.push(a);
        }
      }
      if (await inventory()) answered++;
    }
    for (const a of attackers) a.end(true);
    // Give a broken connection time to show in the locker's counters.
    await new Promise((r) => setTimeout(r, 300));
    expect(locker.sync.health().connects - connectsBefore).toBe(0);
    expect(locker.sync.health().connected).toBe(true);
    expect(answered).toBe(10);
  });

  it('the locker itself still connects, with a persistent session, under its own principal', async () => {
    // A reconnect of the locker resumes its own session: nothing about binding stops it.
    const connects = locker.sync.health().connects;
    await locker.sync.stop();
    locker.sync.start();
    await waitFor(() => locker.sync.health().connects > connects && locker.sync.health().connected, 10_000, 'locker reconnected');
    await new Promise((r) => setTimeout(r, 200));
    expect(await inventory()).toBe(true);
  });
});

describe.runIf(mosquittoAvailable())('client-id takeover on the shipped TLS configuration (CN = principal)', () => {
  let dir: string;
  let certs: CertificateSet;
  let broker: MosquittoBroker;
  let locker: SyncLocker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-tls-takeover-'));
    certs = makeCertificates(dir, ['L1', 'acme']);
    broker = await MosquittoBroker.start({ users: {}, shipped: 'mosquitto-tls.conf', tls: { cafile: certs.ca, certfile: certs.broker.cert, keyfile: certs.broker.key } });
    const l1 = certs.clients.L1;
    if (!l1) throw new Error('no L1 certificate');
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: '', protocolVersion: 5, tls: { ca: certs.ca, cert: l1.cert, key: l1.key } });
    locker.sync.start();
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected over TLS');
  });

  afterAll(async () => {
    await locker?.close();
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a carrier certificate with the locker\'s client id never disconnects the locker', async () => {
    const acme = certs.clients.acme;
    if (!acme) throw new Error('no acme certificate');
    const connectsBefore = locker.sync.health().connects;
    for (const clientId of ['lk-L1', 'L1', 'lk-L1', 'L1']) {
      const a = await connectAsync(broker.url, {
        protocolVersion: 5,
        clientId,
        ca: readFileSync(certs.ca),
        cert: readFileSync(acme.cert),
        key: readFileSync(acme.key),
        reconnectPeriod: 0,
        connectTimeout: 3_000,
      });
      a.on('error', () => undefined);
      a.end(true);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(locker.sync.health().connects - connectsBefore).toBe(0);
    expect(locker.sync.health().connected).toBe(true);
  });
});

describe('client-id takeover on the embedded demo broker', () => {
  const passwords = { L1: 'pw-l1-long-enough', acme: 'pw-acme-long-enough' };
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

  it('refuses a carrier that presents the locker\'s client id; the locker stays connected', async () => {
    const connectsBefore = locker.sync.health().connects;
    const outcomes: string[] = [];
    for (const clientId of ['L1', 'lk-L1', 'L1:x', 'L1', 'L1:x']) {
      try {
        const a = await connectAsync(broker.url, { username: 'acme', password: passwords.acme, clientId, reconnectPeriod: 0, connectTimeout: 3_000 });
        a.end(true);
        outcomes.push('accepted');
      } catch {
        outcomes.push('refused');
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    // 'lk-L1' belongs to nobody: refused too (a client id must be bound to its principal).
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
    expect(locker.sync.health().connects - connectsBefore).toBe(0);
    expect(locker.sync.health().connected).toBe(true);
  });

  it('lets a principal use its own client ids, several at once', async () => {
    const a = await connectAsync(broker.url, { username: 'acme', password: passwords.acme, clientId: 'acme', reconnectPeriod: 0 });
    const b = await connectAsync(broker.url, { username: 'acme', password: passwords.acme, clientId: 'acme:watch', reconnectPeriod: 0 });
    expect(a.connected && b.connected).toBe(true);
    await a.endAsync(true);
    await b.endAsync(true);
  });
});
