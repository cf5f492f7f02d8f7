// Issue 9, finding 7 (corrupt pages): with garbage in the middle pages lockerd logged "ready"
// and then died of an uncaught SQLITE_CORRUPT; with garbage in the last page it ran on while
// integrity_check failed. Rule: SQLite's quick check at boot; a damaged file is not run on:
// lockerd refuses to start with STORE_CORRUPT and says what to do. A real database made by a
// real lockerd (deposits, events) is copied, one page is overwritten, and a child lockerd is
// started on the copy.
import { spawn } from 'node:child_process';
import { copyFile, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';
import { apiCall, childLockerds, cu16Overrides, fastDoors, freePort, type DepositJson } from '../support/lockerHarness.js';
import { KioskClient } from '../support/kioskClient.js';
import { makeDemoLocker, type DemoLocker } from '../support/demoLocker.js';

/** Runs `lockerd start` on the config until it exits or answers /api/health (then it is killed). */
async function startOutcome(demo: DemoLocker): Promise<{ exitCode: number | null; answered: boolean; output: string }> {
  const file = join(demo.config.dataDir, 'lockerd.json');
  await writeFile(file, JSON.stringify(demo.config, null, 2));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'start', '--config', file, '--sim', '--port', String(port)], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (output += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return { exitCode: child.exitCode, answered: false, output };
    const r = await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => undefined);
    if (r) {
      child.kill('SIGKILL');
      await exited;
      return { exitCode: null, answered: true, output };
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  child.kill('SIGKILL');
  return { exitCode: await exited, answered: false, output };
}

describe('a damaged database file', { timeout: 90_000 }, () => {
  const pool = childLockerds();
  afterEach(() => pool.cleanup());

  /** A database with parcels and events, written by a real lockerd and closed cleanly. */
  async function realDatabase(): Promise<{ demo: DemoLocker; pristine: string; pageSize: number; pages: number }> {
    const dataDir = await pool.dataDir();
    const demo = await makeDemoLocker(dataDir, { ...cu16Overrides({ itemSensors: true }), doors: fastDoors, logLevel: 'warn' });
    const child = await pool.start(demo.config);
    const token = await new KioskClient(child.url, demo).courierLogin();
    for (const waybill of ['SP-C-1', 'SP-C-2', 'SP-C-3']) {
      const r = await apiCall<{ deposit: DepositJson }>(child.url, 'POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
      expect(r.status).toBe(200);
      const id = r.body.deposit.compartment.id;
      await apiCall(child.url, 'POST', `/sim/compartments/${id}/put`);
      await apiCall(child.url, 'POST', `/sim/compartments/${id}/close`);
    }
    await child.stop();
    const db = new Database(join(dataDir, 'lockerd.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const pages = Number(db.pragma('page_count', { simple: true }));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const pristine = join(dataDir, 'pristine.db');
    await copyFile(join(dataDir, 'lockerd.db'), pristine);
    return { demo, pristine, pageSize, pages };
  }

  /** Puts a copy of the pristine file in place with page `page` (1-based) overwritten by garbage. */
  async function corruptCopy(demo: DemoLocker, pristine: string, pageSize: number, page: number): Promise<void> {
    const target = join(demo.config.dataDir, 'lockerd.db');
    for (const s of ['-wal', '-shm']) await rm(`${target}${s}`, { force: true });
    await copyFile(pristine, target);
    const garbage = Buffer.alloc(pageSize, 0);
    for (let i = 0; i < pageSize; i++) garbage[i] = (i * 151 + 7) & 0xff;
    const fh = await open(target, 'r+');
    try {
      await fh.write(garbage, 0, pageSize, (page - 1) * pageSize);
    } finally {
      await fh.close();
    }
    // The damage is real: SQLite's own full check finds it.
    const check = new Database(target, { readonly: true });
    try {
      let verdict: string;
      try {
        verdict = String(check.pragma('integrity_check', { simple: true }));
      } catch (e) {
        verdict = (e as Error).message;
      }
      expect(verdict).not.toBe('ok');
    } finally {
      check.close();
    }
  }

  it('garbage in a middle page or in the last page: lockerd refuses to start with STORE_CORRUPT and says what to do', async () => {
    const { demo, pristine, pageSize, pages } = await realDatabase();
    expect(pages).toBeGreaterThan(10);
    for (const page of [Math.floor(pages / 2), pages]) {
      await corruptCopy(demo, pristine, pageSize, page);
      const outcome = await startOutcome(demo);
      expect({ page, answered: outcome.answered, exitCode: outcome.exitCode }).toEqual({ page, answered: false, exitCode: 1 });
      expect(outcome.output).toContain('STORE_CORRUPT');
      expect(outcome.output).toContain('restore the last good backup');
      expect(outcome.output).not.toContain('lockerd ready');
    }
    // The pristine copy starts as before: the check refuses damage, not the database.
    const target = join(demo.config.dataDir, 'lockerd.db');
    for (const s of ['-wal', '-shm']) await rm(`${target}${s}`, { force: true });
    await copyFile(pristine, target);
    const healthy = await startOutcome(demo);
    expect(healthy.answered).toBe(true);
  });
});
