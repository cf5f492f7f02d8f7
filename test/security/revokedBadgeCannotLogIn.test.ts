// Attack: a courier's badge is stolen (or a courier leaves); nothing could revoke it, so it
// logged in until its exp. Now a carrier pushes a signed revocation of its own badge, the
// operator one of any badge or of every badge of a subject issued before a time, through the
// real broker (Mosquitto, shipped ACL) to the real lockerd runtime. The revoked badge is refused
// at the kiosk with BADGE_REVOKED, its live session ends at once, another carrier cannot revoke
// it, and the list holds offline and across a restart.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CryptoKey } from 'jose';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { lockerctl } from '../../src/cli/lockerctl.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { mintBadge } from '../../src/credentials/badge.js';
import { importSigningKey } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import type { SignedCommandReply } from '../../src/sync/commandReply.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { carrierTenant, operatorTenant, type Tenant } from '../../src/sync/topics.js';
import { LockerHarness, errorCode, errorContext } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { fastMqtt, lockerPublicKeys, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'demo-locker-1';
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator', swiftpost: 'pw-swiftpost', parcelgo: 'pw-parcelgo' };
type Principal = 'operator' | 'swiftpost' | 'parcelgo';

describe('a revoked badge cannot log in', () => {
  let broker: MosquittoBroker;
  let h: LockerHarness;
  let dir: string;
  const keys: Partial<Record<Principal, CryptoKey>> = {};
  const clients: Partial<Record<Principal, MqttClient>> = {};
  let lockerVerifyKey: ReturnType<typeof toPublicKey>;
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());
  const nowS = () => Math.floor(clock.now() / 1000);
  const mqtt = () => fastMqtt(broker.url, LOCKER, users[LOCKER]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-revoke-'));
    broker = await MosquittoBroker.start({ users });
    h = await LockerHarness.start({ overrides: { mqtt: mqtt() } });
    await waitForSyncConnected(h.running);
    lockerVerifyKey = toPublicKey((await lockerPublicKeys(h.running)).signingKey);
    keys.operator = await importSigningKey(h.demo.keys.operator.signing);
    for (const c of ['swiftpost', 'parcelgo'] as const) {
      const k = h.demo.keys.carriers[c];
      if (!k) throw new Error(`no demo key for ${c}`);
      keys[c] = await importSigningKey(k.signing);
    }
    writeFileSync(join(dir, 'swiftpost.sign.jwk'), JSON.stringify(h.demo.keys.carriers.swiftpost?.signing), { mode: 0o600 });
    for (const p of ['operator', 'swiftpost', 'parcelgo'] as const) clients[p] = await openMqttSession({ url: broker.url, username: p, password: users[p] });
  });

  afterAll(async () => {
    for (const c of Object.values(clients)) if (c) await closeMqttSession(c);
    await h?.cleanup();
    await broker?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  async function revoke(as: Principal, args: Record<string, unknown>, tenant: Tenant = as === 'operator' ? operatorTenant : carrierTenant(as)): Promise<SignedCommandReply> {
    const key = keys[as];
    const client = clients[as];
    if (!key || !client) throw new Error(as);
    const command = await signCommand({ key, issuer: as, locker: LOCKER, cmd: as === 'operator' ? 'revokeBadge' : 'revokeCourierBadge', args, ttlS: 3600, clock, ids });
    return sendCommand({ client, clock, tenant, locker: LOCKER, command, timeoutMs: 15_000, lockerKeys: [lockerVerifyKey] });
  }

  const courierBadge = (sub: string, jti: string, iat = nowS()) =>
    mintBadge(h.demo.keys.carriers.swiftpost?.signing ?? {}, { iss: 'swiftpost', sub, role: 'courier', perms: ['deposit', 'collect'], iat, exp: iat + 3600, jti });
  const operatorBadge = (sub: string, jti: string) => mintBadge(h.demo.keys.operator.signing, { iss: h.config.operator.id, sub, role: 'operator', iat: nowS(), exp: nowS() + 3600, jti });
  const login = (badge: string, role: 'courier' | 'operator' = 'courier') => h.api<{ token: string }>('POST', `/api/${role}/login`, { badge });

  let stolen: string;
  let stolenSession: string;
  let oldBadgeOfLeaver: string;
  let newBadgeOfLeaver: string;

  it('another carrier cannot revoke a SwiftPost badge', async () => {
    stolen = await courierBadge('courier-1', 'sp-badge-stolen');
    const first = await login(stolen);
    expect(first.status).toBe(200);
    stolenSession = first.body.token;
    // parcelgo names swiftpost as the issuer: refused.
    expect(await revoke('parcelgo', { by: 'badge', issuer: 'swiftpost', jti: 'sp-badge-stolen' })).toMatchObject({ ok: false, error: { code: 'CMD_FORBIDDEN' } });
    // Without naming it, the same jti is parcelgo's own: swiftpost's badge is untouched.
    expect(await revoke('parcelgo', { by: 'badge', jti: 'sp-badge-stolen' })).toMatchObject({ ok: true, result: { issuer: 'parcelgo', by: 'badge' } });
    expect((await login(stolen)).status).toBe(200);
    expect((await h.api('GET', '/api/courier/me', undefined, stolenSession)).status).toBe(200);
  });

  it('the carrier revokes its own badge with lockerctl: login refused with BADGE_REVOKED, the live session ends', async () => {
    const out: string[] = [];
    const code = await lockerctl(
      ['revoke', '--url', broker.url, '--password', users.swiftpost, '--key', join(dir, 'swiftpost.sign.jwk'), '--issuer', 'swiftpost', '--locker', LOCKER, '--pub', h.running.publicKeysFile, '--badge', stolen, '--reason', 'reported stolen'],
      { out: (l) => out.push(l), err: (l) => out.push(l), env: {} },
    );
    expect(code).toBe(0);
    expect(JSON.parse(out.at(-1) ?? '{}')).toMatchObject({ ok: true, cmd: 'revokeCourierBadge', result: { issuer: 'swiftpost', by: 'badge', target: 'sp-badge-stolen', added: true } });
    const me = await h.api('GET', '/api/courier/me', undefined, stolenSession);
    expect(me.status).toBe(401);
    const again = await login(stolen);
    expect(again.status).toBe(401);
    expect(errorCode(again)).toBe('BADGE_REVOKED');
    expect(JSON.stringify(again.body)).not.toContain(stolen);
    // The same courier's other badge still works.
    expect((await login(await courierBadge('courier-1', 'sp-badge-spare'))).status).toBe(200);
  });

  it('the operator revokes every badge of a courier issued before a time; a re-issued badge works', async () => {
    oldBadgeOfLeaver = await courierBadge('courier-2', 'sp-leaver-old', nowS() - 60);
    const session = (await login(oldBadgeOfLeaver)).body.token;
    const notBefore = nowS();
    const r = await revoke('operator', { by: 'subject', issuer: 'swiftpost', subject: 'courier-2', notBefore, reason: 'left the company' });
    expect(r).toMatchObject({ ok: true, result: { issuer: 'swiftpost', by: 'subject', target: 'courier-2', notBefore } });
    expect((await h.api('GET', '/api/courier/me', undefined, session)).status).toBe(401);
    const refused = await login(oldBadgeOfLeaver);
    expect(errorCode(refused)).toBe('BADGE_REVOKED');
    expect(errorContext(refused)).toMatchObject({ reason: 'subject_revoked' });
    newBadgeOfLeaver = await courierBadge('courier-2', 'sp-leaver-new', notBefore);
    expect((await login(newBadgeOfLeaver)).status).toBe(200);
  });

  it('the operator revokes an operator badge; its service-mode session ends', async () => {
    const badge = await operatorBadge('ops-7', 'op-badge-7');
    const session = (await login(badge, 'operator')).body.token;
    expect((await h.api('GET', '/api/operator/compartments', undefined, session)).status).toBe(200);
    expect(await revoke('operator', { by: 'badge', issuer: h.config.operator.id, jti: 'op-badge-7' })).toMatchObject({ ok: true });
    expect((await h.api('GET', '/api/operator/compartments', undefined, session)).status).toBe(401);
    expect(errorCode(await login(badge, 'operator'))).toBe('BADGE_REVOKED');
    // An issuer the locker does not know gets no share of the list.
    expect(await revoke('operator', { by: 'badge', issuer: 'made-up-carrier', jti: 'x-1' })).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
  });

  it('the list holds with the broker gone and after a restart of lockerd', async () => {
    await broker.stop();
    h = await h.restart({ mqtt: mqtt() });
    expect(h.running.sync?.health().connected).not.toBe(true);
    expect(errorCode(await login(stolen))).toBe('BADGE_REVOKED');
    expect(errorCode(await login(oldBadgeOfLeaver))).toBe('BADGE_REVOKED');
    expect((await login(newBadgeOfLeaver)).status).toBe(200);
    await broker.startProcess();
  });
});
