// Remote open over a real Mosquitto 2 (shipped ACL) against the real lockerd runtime on the
// simulator: a valid operator-signed command releases exactly one latch, the right one, and is
// answered ok; the same token again gets the same reply and opens nothing; forged, expired,
// wrong-audience, replayed, carrier-signed and long-lived remote opens are refused with their
// codes and open nothing. The open is audited, evented to the operator, and a door left open
// after it raises the alarm.
import type { CryptoKey } from 'jose';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { signCommand, type CommandToken } from '../../src/cli/lockerctl/commandToken.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { startWatch, type WatchHandle, type WatchLine } from '../../src/cli/lockerctl/watch.js';
import { generateSigningKeyPair, importSigningKey } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import type { SignedCommandReply } from '../../src/sync/commandReply.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { carrierTenant, operatorTenant, type Tenant } from '../../src/sync/topics.js';
import type { SimPosition } from '../../sim/world.js';
import { LockerHarness, sleep, waitFor } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { auditRows, fastMqtt, lockerPublicKeys, UnlockRecorder, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'demo-locker-1';
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator', swiftpost: 'pw-swiftpost', parcelgo: 'pw-parcelgo' };

describe('a remote open opens exactly one door', () => {
  let broker: MosquittoBroker;
  let h: LockerHarness;
  let unlocks: UnlockRecorder;
  let operatorKey: CryptoKey;
  let swiftpostKey: CryptoKey;
  let lockerVerifyKey: ReturnType<typeof toPublicKey>;
  const clients: Partial<Record<'operator' | 'swiftpost', MqttClient>> = {};
  let opWatch: WatchHandle | undefined;
  let opWatchClient: MqttClient | undefined;
  const opLines: WatchLine[] = [];
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());
  /** Refusal codes in the order they were sent, for the audit check. */
  const refusals: string[] = [];

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    h = await LockerHarness.start({ overrides: { mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER]) } });
    await waitForSyncConnected(h.running);
    unlocks = new UnlockRecorder(h.world);
    operatorKey = await importSigningKey(h.demo.keys.operator.signing);
    const swiftpost = h.demo.keys.carriers.swiftpost;
    if (!swiftpost) throw new Error('no demo key for swiftpost');
    swiftpostKey = await importSigningKey(swiftpost.signing);
    lockerVerifyKey = toPublicKey((await lockerPublicKeys(h.running)).signingKey);
    clients.operator = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    clients.swiftpost = await openMqttSession({ url: broker.url, username: 'swiftpost', password: users.swiftpost });
    opWatchClient = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    opWatch = await startWatch({
      client: opWatchClient,
      clock,
      tenant: operatorTenant,
      locker: LOCKER,
      lockerKeys: () => [lockerVerifyKey],
      startAt: { [LOCKER]: 1 },
      output: (l) => opLines.push(l),
    });
  });

  afterAll(async () => {
    unlocks?.stop();
    await opWatch?.stop();
    for (const c of [...Object.values(clients), opWatchClient]) if (c) await closeMqttSession(c);
    await h?.cleanup();
    await broker?.dispose();
  });

  const sign = (key: CryptoKey, issuer: string, args: Record<string, unknown>, o: { ttlS?: number; claims?: Partial<{ iat: number; exp: number; jti: string; aud: string }>; cmd?: string } = {}) =>
    signCommand({ key, issuer, locker: LOCKER, cmd: o.cmd ?? 'remoteOpen', args, ttlS: o.ttlS ?? 60, clock, ids, ...(o.claims ? { claims: o.claims } : {}) });

  function send(as: 'operator' | 'swiftpost', tenant: Tenant, command: CommandToken, retryMs?: number): Promise<SignedCommandReply> {
    const client = clients[as];
    if (!client) throw new Error(`no client for ${as}`);
    // Every reply must carry the locker's signature (sendCommand rejects it otherwise).
    return sendCommand({ client, clock, tenant, locker: LOCKER, command, timeoutMs: 15_000, lockerKeys: [lockerVerifyKey], ...(retryMs !== undefined ? { retryMs } : {}) });
  }

  const openDoors = (): SimPosition[] => h.world.allLocks().filter((l) => l.doorOpen).map((l) => l.position);

  let first: CommandToken;
  let firstReply: SignedCommandReply;

  it('a valid operator-signed remote open releases exactly one latch, the right one, and replies ok', async () => {
    expect(openDoors()).toEqual([]);
    first = await sign(operatorKey, 'operator', { compartmentId: 'B4', reason: 'courier locked out at B4' });
    // The sender repeats the token every 25 ms while the door session runs: copies reach the locker.
    firstReply = await send('operator', operatorTenant, first, 25);
    expect(firstReply).toMatchObject({ v: 1, id: first.jti, ref: first.ref, locker: LOCKER, cmd: 'remoteOpen', ok: true, result: { compartmentId: 'B4', opened: true } });
    expect(typeof (firstReply.result as { sessionId?: unknown }).sessionId).toBe('string');

    await waitFor('B4 reported open by lockerd', () => h.running.locker.compartment('B4').door === 'open');
    await sleep(300);
    expect(unlocks.unlocks).toEqual([h.position('B4')]);
    expect(openDoors()).toEqual([h.position('B4')]);
    h.close('B4');
    await h.waitForDoor('B4', 'closed');
  });

  it('the same token again gets the same reply and opens nothing', async () => {
    const again = await send('operator', operatorTenant, first);
    expect(again).toEqual(firstReply);
    await sleep(500);
    expect(unlocks.unlocks).toHaveLength(1);
    expect(openDoors()).toEqual([]);
  });

  it('forged, expired, wrong-audience, replayed, carrier-signed and long-lived remote opens are refused and open nothing', async () => {
    const args = { compartmentId: 'A1', reason: 'let me in' };
    const attacker = await generateSigningKeyPair();
    const now = Math.floor(Date.now() / 1000);
    const cases: { what: string; as: 'operator' | 'swiftpost'; tenant: Tenant; token: CommandToken; code: string }[] = [
      { what: 'forged signature', as: 'operator', tenant: operatorTenant, token: await sign(attacker.privateKey, 'operator', args), code: 'CMD_BAD_SIGNATURE' },
      { what: 'carrier key claiming to be the operator', as: 'operator', tenant: operatorTenant, token: await sign(swiftpostKey, 'operator', args), code: 'CMD_BAD_SIGNATURE' },
      { what: 'expired', as: 'operator', tenant: operatorTenant, token: await sign(operatorKey, 'operator', args, { claims: { iat: now - 600, exp: now - 300 } }), code: 'CMD_EXPIRED' },
      { what: 'another locker', as: 'operator', tenant: operatorTenant, token: await sign(operatorKey, 'operator', args, { claims: { aud: 'demo-locker-2' } }), code: 'CMD_WRONG_AUDIENCE' },
      { what: 'a used jti', as: 'operator', tenant: operatorTenant, token: await sign(operatorKey, 'operator', args, { claims: { jti: first.jti } }), code: 'CMD_REPLAYED' },
      { what: 'carrier-signed, on its own topic', as: 'swiftpost', tenant: carrierTenant('swiftpost'), token: await sign(swiftpostKey, 'swiftpost', args), code: 'CMD_FORBIDDEN' },
      { what: 'carrier-signed, relayed on the operator topic', as: 'operator', tenant: operatorTenant, token: await sign(swiftpostKey, 'swiftpost', args), code: 'CMD_WRONG_TENANT' },
      { what: 'an hour of validity', as: 'operator', tenant: operatorTenant, token: await sign(operatorKey, 'operator', args, { ttlS: 3600 }), code: 'CMD_LIFETIME_EXCEEDED' },
      { what: 'no reason', as: 'operator', tenant: operatorTenant, token: await sign(operatorKey, 'operator', { compartmentId: 'A1' }), code: 'CMD_MALFORMED' },
    ];
    for (const c of cases) {
      const reply = await send(c.as, c.tenant, c.token);
      expect({ what: c.what, ok: reply.ok, code: reply.error?.code }).toEqual({ what: c.what, ok: false, code: c.code });
      expect(reply.ref).toBe(c.token.ref);
      refusals.push(c.code);
    }
    await sleep(500);
    expect(unlocks.unlocks).toHaveLength(1);
    expect(openDoors()).toEqual([]);
    expect(h.running.locker.compartments().every((c) => c.door === 'closed')).toBe(true);
  });

  it('the remote open is audited once and reaches the operator as a signed door.remote_opened event', async () => {
    const audit = auditRows(h.running);
    const opens = audit.filter((a) => a.action === 'door.remote_open');
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({ actor: 'operator:operator', subject: 'B4', data: { reason: 'courier locked out at B4' } });
    const accepted = audit.filter((a) => a.action === 'command.accepted' && a.subject === 'remoteOpen');
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ actor: 'operator:operator', data: { jti: first.jti } });
    // Every refusal left its own audit record with its code.
    const refused = audit.filter((a) => a.action === 'command.refused').map((a) => a.data.code);
    expect(refused.filter((c) => c !== 'CMD_MALFORMED' && c !== 'CMD_FORBIDDEN')).toEqual(refusals.filter((c) => c !== 'CMD_MALFORMED' && c !== 'CMD_FORBIDDEN'));
    // The long-lived one is refused by the verifier before its jti is claimed (command.refused).
    expect(audit.filter((a) => a.action === 'command.failed').map((a) => a.data.code).sort()).toEqual(['CMD_FORBIDDEN', 'CMD_MALFORMED']);

    const events = h.read.outbox('op').filter((r) => r.type === 'door.remote_opened');
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ compartment: 'B4', reason: 'courier locked out at B4', by: 'operator:operator' });
    const line = await waitFor('door.remote_opened on the operator stream', () => opLines.find((l) => l.type === 'door.remote_opened'), 10_000);
    expect(line).toMatchObject({ locker: LOCKER, carrier: null, id: events[0]?.id, data: { compartment: 'B4' } });
    expect(opLines.filter((l) => l.type === 'door.remote_opened')).toHaveLength(1);
  });

  it('a remotely opened door left open raises the left-open alarm', async () => {
    const t = await sign(operatorKey, 'operator', { compartmentId: 'C2', reason: 'inspection of C2' });
    expect(await send('operator', operatorTenant, t)).toMatchObject({ ok: true, result: { compartmentId: 'C2', opened: true } });
    expect(unlocks.unlocks).toEqual([h.position('B4'), h.position('C2')]);
    const alarm = await waitFor('alarm.door_left_open for C2', () => opLines.find((l) => l.type === 'alarm.door_left_open' && JSON.stringify(l.data).includes('C2')), 10_000);
    expect(alarm.carrier).toBeNull();
    h.close('C2');
    await h.waitForDoor('C2', 'closed');
  });
});
