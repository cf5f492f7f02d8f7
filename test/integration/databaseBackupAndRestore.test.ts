// `lockerd db check | backup | restore` on a real child lockerd (issue 9, finding 6): an online
// backup while it runs, a restore that refuses while it runs, verifies the file, and starts a
// new stream epoch so the seqs published after the backup are never reused under the same epoch.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';
import { Outbox } from '../../src/store/outbox.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { KioskClient } from '../support/kioskClient.js';
import { childLockerds, cu16Overrides, fastDoors, openDbReadOnly } from '../support/lockerHarness.js';

function lockerdCli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), ...args], { cwd: packageRoot(), timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('lockerd db check, backup and restore', { timeout: 120_000 }, () => {
  const pool = childLockerds();
  afterEach(() => pool.cleanup());

  it('round trip: online backup, restore refused while running, restore with a new epoch, the backup state back', async () => {
    const dataDir = await pool.dataDir();
    const backupDir = await pool.dataDir();
    const demo = await makeDemoLocker(dataDir, { ...cu16Overrides({ itemSensors: true }), doors: fastDoors, logLevel: 'warn' });
    const configFile = join(dataDir, 'lockerd.json');
    const backupFile = join(backupDir, 'lockerd-backup.db');
    const cfg = ['--config', configFile, '--sim'];

    const first = await pool.start(demo.config);
    const kiosk = new KioskClient(first.url, demo);
    const token = await kiosk.courierLogin();
    const p1 = await kiosk.deposit(token, 'SP-BAK-1');
    const epochBefore = (JSON.parse(readFileSync(join(dataDir, 'identity', 'database.json'), 'utf8')) as { epoch: string }).epoch;

    // Online: lockerd keeps running.
    const backup = await lockerdCli(['db', 'backup', backupFile, ...cfg]);
    expect(backup.out).toMatch(/backed up .* checked; epoch [0-9a-f]{32}/);
    expect(backup.code).toBe(0);
    expect(statSync(backupFile).size).toBeGreaterThan(0);
    expect(existsSync(`${backupFile}.tmp`)).toBe(false);

    const refused = await lockerdCli(['db', 'restore', backupFile, ...cfg]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/DB_IN_USE/);

    // A parcel after the backup: the backup does not know it.
    const p2 = await kiosk.deposit(token, 'SP-BAK-2');
    expect(p2.compartment).not.toBe(p1.compartment);
    await first.stop();

    const check = await lockerdCli(['db', 'check', ...cfg]);
    expect(check.out).toMatch(/quick_check ok/);
    expect(check.code).toBe(0);

    // A damaged file is not accepted as a backup.
    const junk = join(backupDir, 'junk.db');
    writeFileSync(junk, Buffer.alloc(4096, 7));
    const junkRestore = await lockerdCli(['db', 'restore', junk, ...cfg]);
    expect(junkRestore.code).toBe(1);
    expect(junkRestore.out).toMatch(/DB_CHECK_FAILED/);

    const restore = await lockerdCli(['db', 'restore', backupFile, ...cfg]);
    expect(restore.out).toMatch(/new stream epoch [0-9a-f]{32}/);
    expect(restore.code).toBe(0);
    const epochAfter = (JSON.parse(readFileSync(join(dataDir, 'identity', 'database.json'), 'utf8')) as { epoch: string }).epoch;
    expect(epochAfter).not.toBe(epochBefore);

    const second = await pool.start(demo.config);
    expect(second.output()).not.toMatch(/DB_[A-Z]+/);
    await second.stop();
    const r = openDbReadOnly(dataDir);
    try {
      const waybills = r.read.parcels().map((p) => p.waybill);
      expect(waybills).toContain('SP-BAK-1');
      expect(waybills).not.toContain('SP-BAK-2');
      expect((r.read.db.prepare('SELECT epoch, epoch_reason AS reason FROM database_identity').get() as { epoch: string; reason: string })).toEqual({ epoch: epochAfter, reason: 'restored' });
      // The carrier's stream restarted at 1 in the new epoch and is contiguous.
      const seqs = r.read.outbox('c/swiftpost').map((x) => x.seq);
      expect(seqs[0]).toBe(1);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      expect(new Outbox(r.read.db).stream('c/swiftpost')?.ackedUpTo).toBe(0);
    } finally {
      r.close();
    }

    // db check says when the file is damaged, with exit code 1.
    truncateSync(join(dataDir, 'lockerd.db'), 0);
    const bad = await lockerdCli(['db', 'check', ...cfg]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/empty/);
  });
});
