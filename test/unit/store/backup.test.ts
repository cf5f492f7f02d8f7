// The periodic online backup (src/store/backup.ts) on an injected clock: a whole, checked copy at
// the configured path on schedule; a failure is reported (BACKUP_FAILED), never thrown.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { seededRandom } from '../../../kernel/random.js';
import { LockerConfig } from '../../../src/config/schema.js';
import { demoConfigInput } from '../../support/demoLocker.js';
import { checkDatabaseFile, PeriodicBackup } from '../../../src/store/backup.js';
import { markEpochPending, openLockerDatabase, startNewEpoch } from '../../../src/store/databaseIdentity.js';
import { readFileSync } from 'node:fs';
import type { LockerError } from '../../../kernel/errors.js';
import { silentLogger } from '../../../src/logger.js';

describe('periodic backup', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'lockerd-backup-'));
    dirs.push(d);
    return d;
  };

  it('writes a checked copy every interval, and reports a failure without throwing', async () => {
    const clock = new ManualClock();
    const dataDir = tmp();
    const opened = openLockerDatabase({ dataDir, lockerId: 'L1', clock, random: seededRandom(3), logger: silentLogger() });
    const dest = join(tmp(), 'lockerd-backup.db');
    const failures: LockerError[] = [];
    const backups = new PeriodicBackup({ db: opened.db, path: dest, intervalMs: 60_000, clock, logger: silentLogger(), onFailed: (e) => failures.push(e) });
    backups.start();
    await clock.advance(59_000);
    expect(existsSync(dest)).toBe(false);
    await clock.advance(1_000);
    await backups.stop();
    const check = checkDatabaseFile(dest, true);
    expect(check.ok).toBe(true);
    expect(check.identity?.epoch).toBe(opened.identity.epoch);

    const broken = new PeriodicBackup({ db: opened.db, path: join(dataDir, 'no-such-folder', 'b.db'), intervalMs: 1_000, clock, logger: silentLogger(), onFailed: (e) => failures.push(e) });
    broken.start();
    await clock.advance(1_000);
    await broken.stop();
    expect(failures.map((f) => f.code)).toEqual(['BACKUP_FAILED']);
    opened.db.close();
  });

  it('growth: the backup folder holds one copy however many backups ran (each replaces the last)', async () => {
    const clock = new ManualClock();
    const dataDir = tmp();
    const opened = openLockerDatabase({ dataDir, lockerId: 'L1', clock, random: seededRandom(4), logger: silentLogger() });
    const folder = tmp();
    const dest = join(folder, 'lockerd-backup.db');
    const backups = new PeriodicBackup({ db: opened.db, path: dest, intervalMs: 60_000, clock, logger: silentLogger() });
    for (let i = 0; i < 5; i++) {
      opened.db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run('n', String(i));
      await backups.runOnce();
    }
    expect(readdirSync(folder)).toEqual(['lockerd-backup.db']);
    opened.db.close();
  });

  it('the config refuses a backup path inside the data folder', () => {
    const input = { ...demoConfigInput(), dataDir: '/var/lib/lockerd', backup: { path: '/var/lib/lockerd/backup.db' } };
    const r = LockerConfig.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain('backup.path');
    const ok = LockerConfig.safeParse({ ...input, backup: { path: '/media/backup/lockerd.db' } });
    expect(ok.error?.issues.map((i) => i.path.join('.')) ?? []).not.toContain('backup.path');
    if (ok.success) expect(ok.data.backup).toEqual({ path: '/media/backup/lockerd.db', intervalMinutes: 60 });
  });

  it('a crash between committing a new epoch and updating the folder copy is recognised, not refused', () => {
    const clock = new ManualClock();
    const dataDir = tmp();
    const first = openLockerDatabase({ dataDir, lockerId: 'L1', clock, random: seededRandom(4), logger: silentLogger() });
    // What startNewEpoch does, cut short: the pending mark, the commit, and no final copy.
    markEpochPending(dataDir, 'f'.repeat(32));
    startNewEpoch(first.db, undefined, { lockerId: 'L1', reason: 'wal_lost', now: 1, random: seededRandom(5), epoch: 'f'.repeat(32) });
    first.db.close();
    first.markStopped();
    const again = openLockerDatabase({ dataDir, lockerId: 'L1', clock, random: seededRandom(6), logger: silentLogger() });
    expect(again.identity.epoch).toBe('f'.repeat(32));
    expect(JSON.parse(readFileSync(join(dataDir, 'identity', 'database.json'), 'utf8'))).toMatchObject({ epoch: 'f'.repeat(32) });
    expect(JSON.parse(readFileSync(join(dataDir, 'identity', 'database.json'), 'utf8'))).not.toHaveProperty('pending');
    again.db.close();
  });
});
