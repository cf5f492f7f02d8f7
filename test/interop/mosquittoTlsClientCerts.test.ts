// The TLS variant of the shipped Mosquitto configuration: no passwords, every principal
// presents a client certificate and its CN is the username the ACL sees. The locker connects
// with the certificate files named in its MqttConfig.tls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { startWatch, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { carrierTenant } from '../../src/sync/topics.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';
import { makeCertificates, type CertificateSet } from '../support/testCertificates.js';

describe('Mosquitto with client certificates (CN = principal)', () => {
  let dir: string;
  let certs: CertificateSet;
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-tls-'));
    certs = makeCertificates(dir, ['L1', 'acme']);
    broker = await MosquittoBroker.start({ users: {}, tls: { cafile: certs.ca, certfile: certs.broker.cert, keyfile: certs.broker.key } });
    const l1 = certs.clients.L1;
    if (!l1) throw new Error('no L1 certificate');
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: '', protocolVersion: 5, tls: { ca: certs.ca, cert: l1.cert, key: l1.key } });
    locker.sync.start();
  });

  afterAll(async () => {
    for (const c of clients) await closeMqttSession(c);
    await locker?.close();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('events flow from the locker to the carrier, both authenticated by certificate', async () => {
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected over TLS');
    const acmeCert = certs.clients.acme;
    if (!acmeCert) throw new Error('no acme certificate');
    const acme = await openMqttSession({ url: broker.url, protocolVersion: 5, ca: certs.ca, cert: acmeCert.cert, key: acmeCert.key });
    clients.push(acme);
    const lines: WatchLine[] = [];
    await startWatch({ client: acme, clock: new SystemClock(), tenant: carrierTenant('acme'), locker: 'L1', lockerKeys: () => [locker.key.publicJwk], startAt: { L1: 1 }, output: (l) => lines.push(l) });
    for (let i = 0; i < 5; i++) locker.append('acme', 'parcel.stored', { i });
    await waitFor(() => lines.length === 5, 10_000, 'events over TLS');
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5]);
    // The CN decides: acme's certificate cannot speak for the locker or for another carrier.
    await expect(acme.publishAsync('lk/v1/op/l/L1/state', '{"online":false}', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(acme.publishAsync('lk/v1/c/bolt/l/L1/cmd', 'x', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
  });

  it('a client without a certificate is refused', async () => {
    await expect(openMqttSession({ url: broker.url, ca: certs.ca, connectTimeoutMs: 3_000 })).rejects.toThrow();
  });
});
