import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { signJwt } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { createIdFactory, type IdFactory } from '../../../src/ids.js';
import { silentLogger } from '../../../src/logger.js';
import { seededRandom } from '../../../kernel/random.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { signCommand } from '../../../src/cli/lockerctl/commandToken.js';
import type { ReplayOutcome, SyncControl } from '../../../src/sync/commandHandlers.js';
import type { CommandReply } from '../../../src/sync/commandReply.js';
import { COMMAND_TYP, CommandProcessor } from '../../../src/sync/commands.js';
import type { ReportedConfig } from '../../../src/domain/lockerOperations.js';
import { carrierTenant, operatorTenant, topicFor, type Tenant } from '../../../src/sync/topics.js';
import { FakeLockerOperations } from '../../support/fakeLockerOperations.js';

const LOCKER = 'locker-1';

class FakeControl implements SyncControl {
  rebirths = 0;
  replays: [string | null, number][] = [];
  reports: ReportedConfig[] = [];
  rebirth(): Promise<void> {
    this.rebirths++;
    return Promise.resolve();
  }
  replay(carrier: string | null, fromSeq: number): ReplayOutcome {
    this.replays.push([carrier, fromSeq]);
    return { fromSeq, lastSeq: 10, truncated: false };
  }
  reportConfig(report: ReportedConfig): Promise<void> {
    this.reports.push(report);
    return Promise.resolve();
  }
}

describe('signed command verification', () => {
  let operatorKey: SigningKeyPair;
  let acmeKey: SigningKeyPair;
  let boltKey: SigningKeyPair;
  let attackerKey: SigningKeyPair;
  let clock: ManualClock;
  let ids: IdFactory;
  let db: Db;
  let ops: FakeLockerOperations;
  let control: FakeControl;
  let processor: CommandProcessor;

  beforeAll(async () => {
    [operatorKey, acmeKey, boltKey, attackerKey] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()]);
  });

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
    ids = createIdFactory(clock, seededRandom('cmd'));
    db = openDatabase(':memory:');
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorKey.publicJwk] }, () => clock.now());
    const carrier = (id: string, k: SigningKeyPair) => ({ id, name: id, signingKeys: [k.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
    ops.carriers.set('acme', carrier('acme', acmeKey));
    ops.carriers.set('bolt', carrier('bolt', boltKey));
    await ops.setLayout(
      { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b', board: 1, lock: 1, accessible: false, column: 1, row: 1 }] },
      { kind: 'operator', id: 'operator', commandId: 'setup' },
    );
    ops.calls.length = 0;
    control = new FakeControl();
    processor = newProcessor();
  });

  function newProcessor(): CommandProcessor {
    return new CommandProcessor({ lockerId: LOCKER, db, clock, logger: silentLogger(), issuers: ops, operations: ops, control });
  }

  type Signer = { key: SigningKeyPair; issuer: string };
  const asOperator = (): Signer => ({ key: operatorKey, issuer: 'operator' });
  const asCarrier = (id: 'acme' | 'bolt'): Signer => ({ key: id === 'acme' ? acmeKey : boltKey, issuer: id });

  async function token(s: Signer, cmd: string, args: Record<string, unknown> = {}, over: Parameters<typeof signCommand>[0]['claims'] = {}, ttlS = 60) {
    return signCommand({ key: s.key.privateKey, kid: s.key.publicJwk.kid ?? '', issuer: s.issuer, locker: LOCKER, cmd, args, ttlS, clock, ids, claims: over });
  }

  async function send(tenant: Tenant, tok: string): Promise<CommandReply | null> {
    return processor.handle(topicFor(tenant, LOCKER, 'cmd'), Buffer.from(tok));
  }

  function auditActions(): { action: string; actor: string; data: string }[] {
    return db.prepare<[], { action: string; actor: string; data: string }>('SELECT action, actor, data FROM audit ORDER BY id').all();
  }

  it('accepts a valid operator command and replies with its id and result', async () => {
    const t = await token(asOperator(), 'inventory');
    const reply = await send(operatorTenant, t.token);
    expect(reply).toMatchObject({ v: 1, id: t.jti, ref: t.ref, locker: LOCKER, cmd: 'inventory', ok: true, result: { layoutVersion: 1 } });
    expect(ops.callsOf('inventory')).toHaveLength(1);
    expect(auditActions()).toEqual([expect.objectContaining({ action: 'command.accepted', actor: 'operator:operator' })]);
  });

  it('refuses a forged signature (right issuer, wrong key) with CMD_BAD_SIGNATURE, or CMD_UNKNOWN_KEY when it names its own kid', async () => {
    const named = await token({ key: attackerKey, issuer: 'operator' }, 'remoteOpen', { compartmentId: 'A1', reason: 'let me in' });
    expect(await send(operatorTenant, named.token)).toMatchObject({ id: named.jti, ok: false, error: { code: 'CMD_UNKNOWN_KEY' } });
    const t = await signCommand({ key: attackerKey.privateKey, issuer: 'operator', locker: LOCKER, cmd: 'remoteOpen', args: { compartmentId: 'A1', reason: 'let me in' }, clock, ids });
    const reply = await send(operatorTenant, t.token);
    expect(reply).toMatchObject({ id: t.jti, ok: false, error: { code: 'CMD_BAD_SIGNATURE' } });
    expect(ops.callsOf('remoteOpen')).toHaveLength(0);
    expect(auditActions()[0]).toMatchObject({ action: 'command.refused', actor: 'claimed:operator@operator' });
  });

  it('refuses a tampered payload and an alg other than EdDSA with CMD_BAD_SIGNATURE', async () => {
    const t = await token(asOperator(), 'inventory');
    const [h, p, s] = t.token.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, cmd: 'diagnostics' })).toString('base64url')}.${s}`;
    expect((await send(operatorTenant, tampered))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: COMMAND_TYP })).toString('base64url')}.${p}.${s}`;
    expect((await send(operatorTenant, none))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    expect(ops.calls).toHaveLength(0);
  });

  it('refuses an issuer the locker was not provisioned with: CMD_UNKNOWN_ISSUER', async () => {
    const t = await token({ key: attackerKey, issuer: 'evil-co' }, 'listParcels');
    expect((await send(carrierTenant('evil-co'), t.token))?.error?.code).toBe('CMD_UNKNOWN_ISSUER');
  });

  it('refuses a command whose issuer is not the tenant of its topic: CMD_WRONG_TENANT', async () => {
    const acmeOnBolt = await token(asCarrier('acme'), 'listParcels');
    expect((await send(carrierTenant('bolt'), acmeOnBolt.token))?.error?.code).toBe('CMD_WRONG_TENANT');
    const acmeOnOperator = await token(asCarrier('acme'), 'inventory');
    expect((await send(operatorTenant, acmeOnOperator.token))?.error?.code).toBe('CMD_WRONG_TENANT');
    const operatorOnAcme = await token(asOperator(), 'listParcels');
    expect((await send(carrierTenant('acme'), operatorOnAcme.token))?.error?.code).toBe('CMD_WRONG_TENANT');
    expect(ops.calls).toHaveLength(0);
    // A refusal before the jti is claimed does not consume it: the right topic still works.
    expect((await send(carrierTenant('acme'), acmeOnBolt.token))?.ok).toBe(true);
  });

  it('refuses a command for another locker: CMD_WRONG_AUDIENCE', async () => {
    const t = await token(asOperator(), 'inventory', {}, { aud: 'locker-2' });
    expect((await send(operatorTenant, t.token))?.error?.code).toBe('CMD_WRONG_AUDIENCE');
  });

  it('refuses an expired command (no skew on exp) and one issued beyond the skew ahead: CMD_EXPIRED', async () => {
    const t = await token(asOperator(), 'inventory', {}, {}, 60);
    await clock.advance(59_000);
    expect((await send(operatorTenant, t.token))?.ok).toBe(true);
    const late = await token(asOperator(), 'inventory', {}, {}, 60);
    await clock.advance(60_000 + 1_000);
    expect((await send(operatorTenant, late.token))?.error?.code).toBe('CMD_EXPIRED');
    const future = await token(asOperator(), 'inventory', {}, { iat: Math.floor(clock.now() / 1000) + 3600, exp: Math.floor(clock.now() / 1000) + 3700 });
    expect((await send(operatorTenant, future.token))?.error?.code).toBe('CMD_EXPIRED');
  });

  it('refuses a replayed jti in a different token: CMD_REPLAYED, and runs the first only', async () => {
    const first = await token(asOperator(), 'remoteOpen', { compartmentId: 'A1', reason: 'courier stuck' });
    expect((await send(operatorTenant, first.token))?.ok).toBe(true);
    const replay = await token(asOperator(), 'remoteOpen', { compartmentId: 'A1', reason: 'again please' }, { jti: first.jti });
    const reply = await send(operatorTenant, replay.token);
    expect(reply).toMatchObject({ id: first.jti, ok: false, error: { code: 'CMD_REPLAYED' } });
    expect(ops.callsOf('remoteOpen')).toHaveLength(1);
  });

  it('answers a retried command (the same token) with the same reply, without running it again', async () => {
    const t = await token(asCarrier('acme'), 'createReservation', { waybill: 'WB-1', size: 'M', kind: 'delivery' });
    const first = await send(carrierTenant('acme'), t.token);
    await clock.advance(5_000);
    const again = await send(carrierTenant('acme'), t.token);
    expect(first?.ok).toBe(true);
    expect(again).toEqual(first);
    expect(ops.callsOf('createReservation')).toHaveLength(1);
    // Also after a restart of the locker process.
    processor = newProcessor();
    expect(await send(carrierTenant('acme'), t.token)).toEqual(first);
    expect(ops.callsOf('createReservation')).toHaveLength(1);
  });

  it('a refusal of the operation itself is stored too: the retry gets the same refusal', async () => {
    const t = await token(asOperator(), 'setLayout', { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b', board: 1, lock: 1 }] });
    const first = await send(operatorTenant, t.token);
    expect(first?.error?.code).toBe('VERSION_STALE');
    expect(await send(operatorTenant, t.token)).toEqual(first);
    expect(ops.callsOf('setLayout')).toHaveLength(1);
  });

  it('a forged command cannot burn the jti of a genuine one', async () => {
    const genuine = await token(asOperator(), 'inventory');
    const forged = await signCommand({ key: attackerKey.privateKey, issuer: 'operator', locker: LOCKER, cmd: 'inventory', clock, ids, claims: { jti: genuine.jti } });
    expect((await send(operatorTenant, forged.token))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    expect((await send(operatorTenant, genuine.token))?.ok).toBe(true);
  });

  it('refuses operator commands from a carrier (CMD_FORBIDDEN) and unknown commands (CMD_UNKNOWN)', async () => {
    const t = await token(asCarrier('acme'), 'remoteOpen', { compartmentId: 'A1', reason: 'mine now' });
    expect((await send(carrierTenant('acme'), t.token))?.error?.code).toBe('CMD_FORBIDDEN');
    const u = await token(asOperator(), 'selfDestruct');
    expect((await send(operatorTenant, u.token))?.error?.code).toBe('CMD_UNKNOWN');
    expect(ops.callsOf('remoteOpen')).toHaveLength(0);
  });

  it('refuses garbage and bad claims or arguments with CMD_MALFORMED, oversized payloads unread', async () => {
    const garbage = await send(operatorTenant, 'hello');
    expect(garbage).toMatchObject({ id: null, ok: false, error: { code: 'CMD_MALFORMED' } });
    expect(garbage?.ref).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const noJti = await signJwt(operatorKey.privateKey, { iss: 'operator', aud: LOCKER, iat: 1, exp: 2, cmd: 'inventory' }, { typ: COMMAND_TYP });
    expect((await send(operatorTenant, noJti))?.error?.code).toBe('CMD_MALFORMED');
    const badArgs = await token(asCarrier('acme'), 'createReservation', { waybill: 'WB 1', size: 'XXL', kind: 'delivery' });
    const r = await send(carrierTenant('acme'), badArgs.token);
    expect(r?.error?.code).toBe('CMD_MALFORMED');
    expect(r?.error?.message).toContain('size');
    const huge = await send(operatorTenant, 'x'.repeat(70 * 1024));
    expect(huge).toMatchObject({ id: null, ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('a remote open needs a short expiry; the operator id comes from the verified issuer', async () => {
    const long = await token(asOperator(), 'remoteOpen', { compartmentId: 'A1', reason: 'maintenance' }, {}, 600);
    expect((await send(operatorTenant, long.token))?.error?.code).toBe('CMD_LIFETIME_EXCEEDED');
    const smuggled = await token(asOperator(), 'remoteOpen', { compartmentId: 'A1', reason: 'maintenance', operatorId: 'someone-else' }, {}, 60);
    expect((await send(operatorTenant, smuggled.token))?.error?.code).toBe('CMD_MALFORMED');
    const ok = await token(asOperator(), 'remoteOpen', { compartmentId: 'A1', reason: 'maintenance' }, {}, 60);
    expect(await send(operatorTenant, ok.token)).toMatchObject({ ok: true, result: { compartmentId: 'A1', opened: true } });
    expect(ops.callsOf('remoteOpen')).toHaveLength(1);
    expect(ops.callsOf('remoteOpen')[0]?.args[0]).toEqual({ compartmentId: 'A1', reason: 'maintenance', operatorId: 'operator' });
  });

  it('revocations: a carrier revokes only its own badges, may live 24 h, and cannot use the operator command', async () => {
    const own = await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'revokeCourierBadge', { by: 'badge', jti: 'b-1' }, {}, 24 * 3600)).token);
    expect(own).toMatchObject({ ok: true, result: { issuer: 'acme', by: 'badge', target: 'b-1' } });
    expect(ops.callsOf('revokeBadge')[0]?.args[0]).toEqual({ by: 'badge', jti: 'b-1', issuer: 'acme' });
    const other = await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'revokeCourierBadge', { by: 'badge', issuer: 'bolt', jti: 'b-1' })).token);
    expect(other?.error?.code).toBe('CMD_FORBIDDEN');
    const asOp = await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'revokeBadge', { by: 'badge', issuer: 'bolt', jti: 'b-1' })).token);
    expect(asOp?.error?.code).toBe('CMD_FORBIDDEN');
    const tooLong = await send(operatorTenant, (await token(asOperator(), 'revokeBadge', { by: 'subject', issuer: 'acme', subject: 'c-1' }, {}, 25 * 3600)).token);
    expect(tooLong?.error?.code).toBe('CMD_LIFETIME_EXCEEDED');
    expect(ops.callsOf('revokeBadge')).toHaveLength(1);
  });

  it('update: an operator command that may live 24 h (a rollout reaches offline lockers), with checked arguments', async () => {
    const args = { url: 'https://releases.example/lockerd-1.2.0.manifest.jws', manifestDigest: `sha256:${'ab'.repeat(32)}` };
    const dayLong = await send(operatorTenant, (await token(asOperator(), 'update', args, {}, 24 * 3600)).token);
    expect(dayLong?.error?.code).toBe('UPDATE_NOT_CONFIGURED');
    expect(ops.callsOf('update')).toHaveLength(1);
    const tooLong = await send(operatorTenant, (await token(asOperator(), 'update', args, {}, 25 * 3600)).token);
    expect(tooLong?.error?.code).toBe('CMD_LIFETIME_EXCEEDED');
    const badDigest = await send(operatorTenant, (await token(asOperator(), 'update', { ...args, manifestDigest: 'abc' })).token);
    expect(badDigest?.error?.code).toBe('CMD_MALFORMED');
    const badWindow = await send(operatorTenant, (await token(asOperator(), 'update', { ...args, window: { start: 20, end: 10 } })).token);
    expect(badWindow?.error?.code).toBe('CMD_MALFORMED');
    const byCarrier = await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'update', args)).token);
    expect(byCarrier?.error?.code).toBe('CMD_FORBIDDEN');
    expect(ops.callsOf('update')).toHaveLength(1);
  });

  it('scopes carrier commands to the issuing carrier', async () => {
    await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'createReservation', { waybill: 'A-1', size: 'S', kind: 'delivery' })).token);
    await send(carrierTenant('bolt'), (await token(asCarrier('bolt'), 'createReservation', { waybill: 'B-1', size: 'S', kind: 'dropoff' })).token);
    const list = await send(carrierTenant('acme'), (await token(asCarrier('acme'), 'listParcels')).token);
    expect(list?.result).toEqual({ parcels: [expect.objectContaining({ carrier: 'acme', waybill: 'A-1' })] });
    // bolt cannot cancel acme's reservation even when naming its waybill.
    const cancel = await send(carrierTenant('bolt'), (await token(asCarrier('bolt'), 'cancelReservation', { waybill: 'A-1' })).token);
    expect(cancel?.error?.code).toBe('RESERVATION_UNKNOWN');
    expect(ops.callsOf('cancelReservation')[0]?.args[0]).toBe('bolt');
    const replay = await send(carrierTenant('bolt'), (await token(asCarrier('bolt'), 'replay', { fromSeq: 3 })).token);
    expect(replay?.result).toEqual({ fromSeq: 3, lastSeq: 10, truncated: false });
    expect(control.replays).toEqual([['bolt', 3]]);
  });

  it('setConfig is reported back; rebirth republishes presence', async () => {
    const r = await send(operatorTenant, (await token(asOperator(), 'setConfig', { version: 2, desired: { codes: { length: 6 }, sync: { retainAcked: 500 } } })).token);
    expect(r?.ok).toBe(true);
    expect(control.reports).toEqual([{ version: 2, desired: { codes: { length: 6 }, sync: { retainAcked: 500 } }, appliedAt: clock.now() }]);
    const bad = await send(operatorTenant, (await token(asOperator(), 'setConfig', { version: 3, desired: { codes: { length: 20 } } })).token);
    expect(bad?.error?.code).toBe('CMD_MALFORMED');
    expect((await send(operatorTenant, (await token(asOperator(), 'rebirth')).token))?.ok).toBe(true);
    expect(control.rebirths).toBe(1);
  });

  it('forgets a jti after its expiry; the token is refused as expired from then on', async () => {
    const t = await token(asOperator(), 'inventory', {}, {}, 60);
    await send(operatorTenant, t.token);
    expect(db.prepare('SELECT COUNT(*) AS n FROM command_log').get()).toEqual({ n: 1 });
    await clock.advance(120_000);
    expect((await send(operatorTenant, t.token))?.error?.code).toBe('CMD_EXPIRED');
    expect(db.prepare('SELECT COUNT(*) AS n FROM command_log').get()).toEqual({ n: 0 });
    expect(ops.callsOf('inventory')).toHaveLength(1);
  });

  it('settles a command interrupted by a restart as failed instead of running it again', async () => {
    const t = await token(asOperator(), 'inventory');
    // Simulate a claim without completion (the process died while the command ran).
    db.prepare('INSERT INTO command_log (jti, issuer, cmd, received_at, expires_at, reply) VALUES (?, ?, ?, ?, ?, ?)').run(
      t.jti,
      'operator',
      'inventory',
      clock.now(),
      clock.now() + 90_000,
      JSON.stringify({ digest: t.ref, reply: null }),
    );
    processor = newProcessor();
    const reply = await send(operatorTenant, t.token);
    expect(reply).toMatchObject({ id: t.jti, ok: false, error: { code: 'CMD_FAILED' } });
    expect(ops.callsOf('inventory')).toHaveLength(0);
  });

  it('ignores messages on topics that are not this locker\'s cmd topics', async () => {
    const t = await token(asOperator(), 'inventory');
    expect(await processor.handle(topicFor(operatorTenant, 'locker-2', 'cmd'), Buffer.from(t.token))).toBe(null);
    expect(await processor.handle(topicFor(operatorTenant, LOCKER, 'ack'), Buffer.from(t.token))).toBe(null);
  });
});
