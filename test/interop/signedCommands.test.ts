// Signed commands over a real Mosquitto: forged, wrong issuer for the topic, wrong audience,
// expired and replayed commands are refused with their codes; a valid remote open opens
// exactly one door even when the sender retries. Part of it runs through `lockerctl send`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { lockerctl } from '../../src/cli/lockerctl.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { keygen, loadSigningKey, type LoadedSigningKey } from '../../src/cli/lockerctl/keyFiles.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { carrierTenant, operatorTenant, type Tenant } from '../../src/sync/topics.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt', operator: 'pw-op' };

describe('signed commands over MQTT', () => {
  let dir: string;
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let ops: FakeLockerOperations;
  let operatorKey: LoadedSigningKey;
  let acmeKey: SigningKeyPair;
  let boltKey: SigningKeyPair;
  let attackerKey: SigningKeyPair;
  const clients: Record<string, MqttClient> = {};
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-cmd-'));
    await keygen(dir, 'operator');
    operatorKey = await loadSigningKey(join(dir, 'operator.sign.jwk'));
    [acmeKey, boltKey, attackerKey] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
    broker = await MosquittoBroker.start({ users });
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorKey.publicJwk] });
    for (const [id, k] of [['acme', acmeKey], ['bolt', boltKey]] as const) {
      ops.carriers.set(id, { id, name: id, signingKeys: [k.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
    }
    await ops.setLayout({ version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b', board: 1, lock: 1, accessible: false, column: 1, row: 1 }] }, { kind: 'operator', id: 'operator', commandId: 'setup' });
    ops.calls.length = 0;
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, operations: ops });
    locker.sync.start();
    for (const u of ['operator', 'acme', 'bolt'] as const) clients[u] = await openMqttSession({ url: broker.url, username: u, password: users[u] });
    const spy = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    clients.spy = spy;
    spy.on('message', () => spyCount++);
    await spy.subscribeAsync('lk/v1/op/l/L1/cmd', { qos: 1 });
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
    // Let the locker's subscriptions settle before the first command.
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    for (const c of Object.values(clients)) await closeMqttSession(c);
    await locker?.close();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function roundTrip(as: 'operator' | 'acme' | 'bolt', tenant: Tenant, cmd: Awaited<ReturnType<typeof signCommand>>) {
    const client = clients[as];
    if (!client) throw new Error(as);
    return sendCommand({ client, clock, tenant, locker: 'L1', command: cmd, timeoutMs: 10_000, lockerKeys: [toPublicKey(locker.key.publicJwk)] });
  }

  /** Copies of commands that reached the locker, counted by a spy on its cmd topics. */
  let spyCount = 0;
  const countCommands = () => spyCount;

  const sign = (key: SigningKeyPair | LoadedSigningKey, issuer: string, cmd: string, args: Record<string, unknown> = {}, claims = {}, ttlS = 60) =>
    signCommand({ key: 'privateKey' in key ? key.privateKey : key.key, issuer, locker: 'L1', cmd, args, ttlS, clock, ids, claims });

  it('refuses a forged signature with CMD_BAD_SIGNATURE', async () => {
    const forged = await sign(attackerKey, 'operator', 'remoteOpen', { compartmentId: 'A1', reason: 'forged' });
    expect(await roundTrip('operator', operatorTenant, forged)).toMatchObject({ id: forged.jti, ok: false, error: { code: 'CMD_BAD_SIGNATURE' } });
  });

  it('refuses a command on a topic whose tenant is not its issuer with CMD_WRONG_TENANT', async () => {
    // bolt re-publishes a command acme signed, on bolt's own topic.
    const acmes = await sign(acmeKey, 'acme', 'listParcels');
    expect(await roundTrip('bolt', carrierTenant('bolt'), acmes)).toMatchObject({ ok: false, error: { code: 'CMD_WRONG_TENANT' } });
    // A carrier cannot pass off an operator command either.
    const operators = await sign(operatorKey, 'operator', 'listParcels');
    expect(await roundTrip('acme', carrierTenant('acme'), operators)).toMatchObject({ ok: false, error: { code: 'CMD_WRONG_TENANT' } });
  });

  it('refuses a command for another locker with CMD_WRONG_AUDIENCE', async () => {
    const t = await sign(operatorKey, 'operator', 'inventory', {}, { aud: 'L2' });
    expect(await roundTrip('operator', operatorTenant, t)).toMatchObject({ ok: false, error: { code: 'CMD_WRONG_AUDIENCE' } });
  });

  it('refuses an expired command with CMD_EXPIRED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const t = await sign(operatorKey, 'operator', 'inventory', {}, { iat: now - 600, exp: now - 300 });
    expect(await roundTrip('operator', operatorTenant, t)).toMatchObject({ ok: false, error: { code: 'CMD_EXPIRED' } });
  });

  it('refuses a replayed jti with CMD_REPLAYED', async () => {
    const first = await sign(acmeKey, 'acme', 'createReservation', { waybill: 'R-1', size: 'S', kind: 'delivery' });
    expect((await roundTrip('acme', carrierTenant('acme'), first)).ok).toBe(true);
    const replay = await sign(acmeKey, 'acme', 'createReservation', { waybill: 'R-2', size: 'S', kind: 'delivery' }, { jti: first.jti });
    expect(await roundTrip('acme', carrierTenant('acme'), replay)).toMatchObject({ id: first.jti, ok: false, error: { code: 'CMD_REPLAYED' } });
    expect(ops.callsOf('createReservation')).toHaveLength(1);
  });

  it('a valid remote open opens exactly one door, also when the sender retries', async () => {
    const before = ops.callsOf('remoteOpen').length;
    const t = await sign(operatorKey, 'operator', 'remoteOpen', { compartmentId: 'A1', reason: 'courier locked out' }, {}, 60);
    const client = clients.operator;
    if (!client) throw new Error('operator client');
    // The door session takes 300 ms and the sender retries every 20 ms: many copies of the
    // same token reach the locker while it runs.
    ops.remoteOpenDelayMs = 300;
    const commandsSeen = countCommands();
    const reply = await sendCommand({ client, clock, tenant: operatorTenant, locker: 'L1', command: t, retryMs: 20, lockerKeys: [toPublicKey(locker.key.publicJwk)] });
    expect(reply).toMatchObject({ id: t.jti, ok: true, result: { compartmentId: 'A1', opened: true } });
    const again = await roundTrip('operator', operatorTenant, t);
    expect(again).toEqual(reply);
    expect(countCommands() - commandsSeen).toBeGreaterThan(5);
    expect(ops.callsOf('remoteOpen').length - before).toBe(1);
    ops.remoteOpenDelayMs = 0;
  });

  it('lockerctl send exits 0 on success and 2 on a refusal, printing the reply', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(`ERR ${l}`), env: {} };
    const pubFile = join(dir, 'locker.pub.json');
    writeFileSync(pubFile, JSON.stringify({ signingKey: locker.key.publicJwk }));
    const base = ['send', '--url', broker.url, '--password', users.operator, '--key', join(dir, 'operator.sign.jwk'), '--issuer', 'operator', '--operator', '--locker', 'L1', '--pub', pubFile];
    expect(await lockerctl([...base, '--cmd', 'remoteOpen', '--args', '{"compartmentId":"A1","reason":"from the CLI"}'], io)).toBe(0);
    expect(JSON.parse(out.at(-1) ?? '{}')).toMatchObject({ ok: true, cmd: 'remoteOpen' });
    expect(await lockerctl([...base, '--cmd', 'remoteOpen', '--ttl', '3600', '--args', '{"compartmentId":"A1","reason":"too long"}'], io)).toBe(2);
    expect(JSON.parse(out.at(-1) ?? '{}')).toMatchObject({ ok: false, error: { code: 'CMD_LIFETIME_EXCEEDED' } });
    expect(readFileSync(join(dir, 'operator.sign.jwk'), 'utf8')).toContain('"d"');
  });
});
