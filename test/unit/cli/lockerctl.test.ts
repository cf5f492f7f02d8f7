import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embeddedBroker.js';
import { SystemClock } from '../../../kernel/clock.js';
import { lockerctl } from '../../../src/cli/lockerctl.js';
import { enrolledLocker } from '../../../src/cli/lockerctl/enrolment.js';
import { loadPublicKeys } from '../../../src/cli/lockerctl/keyFiles.js';
import { verifyBadge } from '../../../src/credentials/badge.js';
import { encryptCodeForCarrier } from '../../../src/crypto/codeJwe.js';
import { generateEncryptionKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { FakeLockerOperations } from '../../support/fakeLockerOperations.js';
import { SyncLocker, waitFor } from '../../support/syncLocker.js';

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } };
}

describe('lockerctl', () => {
  let dir: string;
  let broker: EmbeddedBroker;
  const passwords = { L1: 'pw-l1', acme: 'pw-acme', operator: 'pw-op' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerctl-'));
    broker = await startEmbeddedBroker({ logger: silentLogger(), passwords });
  });

  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen writes private keys with mode 0600, prints the public keys, never overwrites', async () => {
    const r = io();
    expect(await lockerctl(['keygen', '--out', dir, '--name', 'acme'], r.io)).toBe(0);
    const printed = JSON.parse(r.out[0] ?? '{}') as { publicKeys: { signingKey: { crv: string; d?: string }; encryptionKey: { crv: string } } };
    expect(printed.publicKeys.signingKey.crv).toBe('Ed25519');
    expect(printed.publicKeys.encryptionKey.crv).toBe('X25519');
    expect(JSON.stringify(printed.publicKeys)).not.toContain('"d"');
    for (const f of ['acme.sign.jwk', 'acme.enc.jwk']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(await lockerctl(['keygen', '--out', dir, '--name', 'acme'], io().io)).toBe(1);
    expect(await lockerctl(['keygen', '--out', dir, '--name', 'operator'], io().io)).toBe(0);
  });

  it('badge mints a courier badge the locker verifies with the carrier key', async () => {
    const r = io();
    expect(await lockerctl(['badge', '--key', join(dir, 'acme.sign.jwk'), '--issuer', 'acme', '--subject', 'courier-7', '--perms', 'deposit'], r.io)).toBe(0);
    const pub = await loadPublicKeys(join(dir, 'acme.pub.json'));
    const badge = await verifyBadge(r.out[0], new Map([['acme', { kind: 'carrier' as const, keys: [pub.signingKey] }]]), new SystemClock());
    expect(badge).toMatchObject({ role: 'courier', issuer: 'acme', subject: 'courier-7', permissions: ['deposit'] });
  });

  it('reports usage errors with exit status 1', async () => {
    const r = io();
    expect(await lockerctl(['send', '--key', 'x'], r.io)).toBe(1);
    expect(r.err.join('\n')).toContain('--issuer is required');
    expect(await lockerctl(['frobnicate'], io().io)).toBe(1);
    expect(await lockerctl(['--bogus'], io().io)).toBe(1);
    expect(await lockerctl([], io().io)).toBe(1);
    expect(await lockerctl(['--help'], io().io)).toBe(0);
  });

  it('provision enrols the locker and pushes carriers, layout and config as signed operator commands', async () => {
    const operatorPub = await loadPublicKeys(join(dir, 'operator.pub.json'));
    const acmePub = await loadPublicKeys(join(dir, 'acme.pub.json'));
    const ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorPub.signingKey] });
    const locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1, operations: ops });
    locker.sync.start();
    try {
      await waitFor(() => locker.sync.health().connected, 5_000, 'locker connected');
      const plan = {
        locker: 'L1',
        lockerKeys: { signingKey: locker.key.publicJwk },
        carriers: [{ id: 'acme', name: 'Acme Parcels', signingKeys: [acmePub.signingKey], encryptionKey: acmePub.encryptionKey, dwellHours: 48 }],
        layout: { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'bus0', board: 1, lock: 1 }] },
        config: { version: 1, desired: { codes: { length: 8 } } },
      };
      writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
      const home = join(dir, 'home');
      const r = io();
      const code = await lockerctl(
        ['provision', '--url', broker.url, '--password', passwords.operator, '--plan', join(dir, 'plan.json'), '--key', join(dir, 'operator.sign.jwk'), '--home', home],
        r.io,
      );
      expect(r.err).toEqual([]);
      expect(code).toBe(0);
      expect(r.out.map((l) => (JSON.parse(l) as { step: string; ok: boolean }).step)).toEqual(['enrol', 'carrier acme', 'layout v1', 'config v1']);
      expect(ops.carriers.get('acme')?.dwellHours).toBe(48);
      expect(ops.layoutVersion).toBe(1);
      expect(ops.config?.version).toBe(1);
      expect((await enrolledLocker(home, 'L1'))?.signingKey).toEqual(locker.key.publicJwk);
      // Provisioning again is harmless: stale versions count as done.
      expect(await lockerctl(['provision', '--url', broker.url, '--password', passwords.operator, '--plan', join(dir, 'plan.json'), '--key', join(dir, 'operator.sign.jwk'), '--home', home], io().io)).toBe(0);

      // watch: verifies with the enrolled key, decrypts the code with acme's X25519 key, keeps a cursor.
      if (!acmePub.encryptionKey) throw new Error('keygen wrote no encryption key');
      const codeJwe = await encryptCodeForCarrier(acmePub.encryptionKey, { code: '12345678', parcelId: 'p1', waybill: 'WB-1' });
      locker.append('acme', 'parcel.announced', { waybill: 'WB-1' });
      locker.append('acme', 'parcel.stored', { waybill: 'WB-1', compartmentId: 'A1', codeJwe });
      const w = io();
      const state = join(dir, 'watch-state.json');
      expect(
        await lockerctl(
          ['watch', '--url', broker.url, '--password', passwords.acme, '--carrier', 'acme', '--locker', 'L1', '--from', '1', '--home', home, '--decrypt-key', join(dir, 'acme.enc.jwk'), '--state', state, '--seconds', '1'],
          w.io,
        ),
      ).toBe(0);
      const lines = w.out.map((l) => JSON.parse(l) as { seq: number; type: string; code?: string });
      expect(lines.map((l) => [l.seq, l.type, l.code])).toEqual([
        [1, 'parcel.announced', undefined],
        [2, 'parcel.stored', '12345678'],
      ]);
      expect(JSON.parse(readFileSync(state, 'utf8'))).toEqual({ cursors: { L1: 3 }, epochs: {} });
      await waitFor(() => locker.ackedUpTo('c/acme') === 2, 5_000, 'watch acknowledged');
      // The plaintext code went nowhere but to the watcher: not in the outbox, not in any reply.
      expect(JSON.stringify(locker.writer.outbox.rows().map((r) => r.data))).not.toContain('12345678');
    } finally {
      await locker.close();
    }
  });

  it('provision refuses a locker id that is also a carrier id (broker principals collide)', async () => {
    const plan = { locker: 'acme', lockerKeys: { signingKey: (await generateEncryptionKeyPair()).publicJwk }, carriers: [] };
    writeFileSync(join(dir, 'bad-plan.json'), JSON.stringify(plan));
    expect(await lockerctl(['provision', '--url', broker.url, '--plan', join(dir, 'bad-plan.json'), '--key', join(dir, 'operator.sign.jwk')], io().io)).toBe(1);
  });
});
