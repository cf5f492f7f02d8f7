// Attack (issue 7, finding 12): a carrier with its genuine signing key floods the locker with
// valid commands, each with a fresh jti. Before, every one started at once, each left a row in
// the replay table for up to 7 days, and the locker's memory and disk grew with the flood.
// Real Mosquitto with the shipped configuration. Now: the flooder's commands beyond its burst
// get coded refusals (CMD_RATE_LIMITED) and, past its refusal budget, nothing; the replay
// table stays within the admitted count; another carrier's and the operator's commands are
// answered normally, and the first of them is handled before the flood's backlog is.
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { signCommand, type CommandToken } from '../../src/cli/lockerctl/commandToken.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import { SignedCommandReply } from '../../src/sync/commandReply.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { carrierTenant, operatorTenant, type Tenant } from '../../src/sync/topics.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';
import { SyncLocker, waitFor } from '../support/syncLocker.js';

const users = { L1: 'pw-l1', acme: 'pw-acme', bolt: 'pw-bolt', operator: 'pw-op' };
const FLOOD = 1_000;
// Buckets that do not refill within the test, and a queue longer than the burst, so the
// counts below are exact (queue overflow and refill are the dispatcher's unit tests).
const limits = { burst: 20, perSecond: 0.0001, refusalBurst: 30, refusalsPerS: 0.0001, maxQueuedPerTenant: 40 };

describe.runIf(mosquittoAvailable())('one carrier floods the locker with valid commands', () => {
  let broker: MosquittoBroker;
  let locker: SyncLocker;
  let ops: FakeLockerOperations;
  let keys: Record<'operator' | 'acme' | 'bolt', SigningKeyPair>;
  let acme: MqttClient;
  const others: Record<string, MqttClient> = {};
  const acmeReplies: SignedCommandReply[] = [];
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users, shipped: 'mosquitto.conf' });
    const [operator, a, b] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
    keys = { operator, acme: a, bolt: b };
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operator.publicJwk] });
    for (const id of ['acme', 'bolt'] as const) ops.carriers.set(id, { id, name: id, signingKeys: [keys[id].publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: users.L1, operations: ops, commandLimits: limits });
    await waitFor(() => locker.sync.health().connected, 10_000, 'locker connected');
    acme = await connectAsync(broker.url, { username: 'acme', password: users.acme, reconnectPeriod: 0 });
    acme.on('message', (_t, payload) => {
      const r = SignedCommandReply.safeParse(JSON.parse(payload.toString('utf8')));
      if (r.success) acmeReplies.push(r.data);
    });
    await acme.subscribeAsync('lk/v1/c/acme/l/L1/res', { qos: 1 });
    for (const u of ['operator', 'bolt'] as const) others[u] = await openMqttSession({ url: broker.url, username: u, password: users[u] });
    await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    for (const c of Object.values(others)) await closeMqttSession(c);
    await acme?.endAsync(true);
    await locker?.close();
    await broker?.dispose();
  });

  const sign = (issuer: 'operator' | 'acme' | 'bolt', cmd: string, args: Record<string, unknown> = {}): Promise<CommandToken> =>
    signCommand({ key: keys[issuer].privateKey, issuer, locker: 'L1', cmd, args, ttlS: 300, clock, ids });

  const send = (as: 'operator' | 'bolt', tenant: Tenant, command: CommandToken) => {
    const client = others[as];
    if (!client) throw new Error(as);
    return sendCommand({ client, clock, tenant, locker: 'L1', command, timeoutMs: 15_000, lockerKeys: [toPublicKey(locker.key.publicJwk)] });
  };

  const acmeCalls = () => ops.callsOf('createReservation').filter((c) => c.args[0] === 'acme').length;
  const replayRows = (issuer: string) => locker.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM command_log WHERE issuer = ?').get(issuer)?.n ?? 0;

  it('the flood is cut at the burst, refused with a code, and the others are served first', async () => {
    const tokens: CommandToken[] = [];
    for (let i = 0; i < FLOOD; i++) tokens.push(await sign('acme', 'createReservation', { waybill: `FLOOD-${i}`, size: 'S', kind: 'delivery' }));
    const boltCmd = await sign('bolt', 'createReservation', { waybill: 'BOLT-1', size: 'S', kind: 'delivery' });
    const opCmd = await sign('operator', 'inventory');

    // The whole flood is on the wire before the others send anything.
    const published = Promise.all(tokens.map((t) => acme.publishAsync('lk/v1/c/acme/l/L1/cmd', t.token, { qos: 1 })));
    let acmeDoneWhenBoltAnswered = -1;
    const [boltReply, opReply] = await Promise.all([
      send('bolt', carrierTenant('bolt'), boltCmd).then((r) => {
        acmeDoneWhenBoltAnswered = acmeCalls();
        return r;
      }),
      send('operator', operatorTenant, opCmd),
    ]);
    await published;
    expect(boltReply).toMatchObject({ id: boltCmd.jti, ok: true });
    expect(opReply).toMatchObject({ id: opCmd.jti, ok: true });
    // Bolt did not wait behind the flood: at most the flooder's burst ran before it.
    expect(acmeDoneWhenBoltAnswered).toBeLessThanOrEqual(limits.burst);

    await waitFor(() => acmeReplies.length >= limits.burst + limits.refusalBurst, 20_000, 'the flood answered');
    await new Promise((r) => setTimeout(r, 500));
    expect(acmeCalls()).toBe(limits.burst);
    const refused = acmeReplies.filter((r) => !r.ok);
    expect(refused.length).toBe(limits.refusalBurst);
    expect(refused.every((r) => r.error?.code === 'CMD_RATE_LIMITED')).toBe(true);
    // No more replies than the budgets allow: the rest of the flood was dropped unanswered.
    expect(acmeReplies.length).toBe(limits.burst + limits.refusalBurst);
    expect(locker.dispatcher?.stats().dropped).toBe(FLOOD - limits.burst - limits.refusalBurst);
    // The replay table holds the admitted commands only.
    expect(replayRows('acme')).toBe(limits.burst);
  });

  it('after the flood the other carrier and the operator are still served', async () => {
    const boltCmd = await sign('bolt', 'listParcels');
    const opCmd = await sign('operator', 'diagnostics');
    expect(await send('bolt', carrierTenant('bolt'), boltCmd)).toMatchObject({ ok: true });
    expect(await send('operator', operatorTenant, opCmd)).toMatchObject({ ok: true });
    expect(locker.sync.health().connected).toBe(true);
  });
});
