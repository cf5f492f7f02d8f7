// The carrier here is not our code: the independent mosquitto_sub and mosquitto_pub clients
// receive the locker's events, acknowledge them and send a signed command, over a real
// Mosquitto 2 with the shipped ACL.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import { SignedCommandReply } from '../../src/sync/commandReply.js';
import { verifyDocument } from '../../src/sync/detachedSignature.js';
import { verifyEnvelope } from '../../src/sync/envelope.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const run = promisify(execFile);
const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt' };

describe('mosquitto_sub / mosquitto_pub as the carrier', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let ops: FakeLockerOperations;
  let acmeKey: SigningKeyPair;
  let sub: ChildProcess;
  const lines: { topic: string; payload: string }[] = [];

  const pub = (topic: string, message: string) =>
    run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'acme', '-P', users.acme, '-q', '1', '-t', topic, '-m', message]);

  beforeAll(async () => {
    acmeKey = await generateSigningKeyPair();
    broker = await MosquittoBroker.start({ users });
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [] });
    ops.carriers.set('acme', { id: 'acme', name: 'Acme', signingKeys: [acmeKey.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, operations: ops });
    locker.sync.start();
    sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', 'acme', '-P', users.acme, '-q', '1', '-v', '-t', 'lk/v1/c/acme/#'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    sub.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const space = line.indexOf(' ');
        lines.push({ topic: line.slice(0, space), payload: line.slice(space + 1) });
      }
    });
    // mosquitto_sub has subscribed once it sees what is published on its own subtree.
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
    for (let i = 0; i < 50 && !lines.some((l) => l.topic === 'lk/v1/c/acme/probe'); i++) {
      await pub('lk/v1/c/acme/probe', 'hello');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    sub?.kill();
    await locker?.close();
    await broker?.dispose();
  });

  it('mosquitto_sub receives the carrier\'s signed events in order, and only its own', async () => {
    for (let i = 1; i <= 5; i++) {
      locker.append('acme', 'parcel.stored', { waybill: `A-${i}` });
      locker.append('bolt', 'parcel.stored', { waybill: `B-${i}` });
    }
    await waitFor(() => lines.filter((l) => l.topic.endsWith('/evt')).length >= 5, 10_000, 'five events');
    const events = lines.filter((l) => l.topic.endsWith('/evt'));
    expect(events.every((l) => l.topic === 'lk/v1/c/acme/l/L1/evt')).toBe(true);
    const envelopes = events.map((l) => {
      const v = verifyEnvelope(l.payload, [locker.key.publicJwk], 'L1');
      if (!v.ok) throw new Error(v.reason);
      return v.envelope;
    });
    expect(envelopes.map((e) => [e.seq, e.carrier, e.data.waybill])).toEqual([1, 2, 3, 4, 5].map((i) => [i, 'acme', `A-${i}`]));
  });

  it('mosquitto_pub acknowledges {upTo}: the locker records it for that stream only', async () => {
    await pub('lk/v1/c/acme/l/L1/ack', '{"upTo":5}');
    await waitFor(() => locker.ackedUpTo('c/acme') === 5, 5_000, 'ack recorded');
    expect(locker.ackedUpTo('c/bolt')).toBe(0);
  });

  it('mosquitto_pub sends a signed command; the reply carries its id and the locker\'s signature', async () => {
    const clock = new SystemClock();
    const cmd = await signCommand({
      key: acmeKey.privateKey,
      issuer: 'acme',
      locker: 'L1',
      cmd: 'createReservation',
      args: { waybill: 'A-100', size: 'M', kind: 'delivery' },
      clock,
      ids: createIdFactory(clock, cryptoRandom()),
    });
    await pub('lk/v1/c/acme/l/L1/cmd', cmd.token);
    await waitFor(() => lines.some((l) => l.topic === 'lk/v1/c/acme/l/L1/res'), 10_000, 'reply');
    const res = lines.find((l) => l.topic === 'lk/v1/c/acme/l/L1/res');
    const json = JSON.parse(res?.payload ?? '{}') as Record<string, unknown>;
    expect(verifyDocument(json, [locker.key.publicJwk]).ok).toBe(true);
    expect(SignedCommandReply.parse(json)).toMatchObject({ id: cmd.jti, ok: true, result: { waybill: 'A-100', state: 'announced' } });
    expect(ops.callsOf('createReservation')).toHaveLength(1);
  });
});
