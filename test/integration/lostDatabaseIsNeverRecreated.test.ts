// Issue 9, finding 6: a missing, empty or truncated database used to be silently recreated: every
// parcel forgotten, every compartment free, stream seqs restarting at 1. Now a data folder that
// had a database refuses to start on a lost one (coded, saying what to do); first boot and a
// re-initialisation are explicit; a WAL deleted after a kill starts a new stream epoch.
import { readFileSync, rmSync, statSync, truncateSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLockerd } from '../../src/composition/startLockerd.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { LockerHarness, childLockerds, cu16Overrides, fastDoors, openDbReadOnly } from '../support/lockerHarness.js';
import { KioskClient } from '../support/kioskClient.js';
import { Outbox } from '../../src/store/outbox.js';

const dbFile = (dir: string): string => join(dir, 'lockerd.db');
const folderEpoch = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'identity', 'database.json'), 'utf8')) as { epoch: string }).epoch;

describe('a lost database is never silently recreated', () => {
  const harnesses: LockerHarness[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.cleanup();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  /** A locker that stored one parcel in a compartment, then stopped cleanly. */
  async function lockerWithAParcel(): Promise<{ dataDir: string; compartment: string; epoch: string }> {
    const h = await LockerHarness.start();
    harnesses.push(h);
    const token = await h.kiosk.courierLogin();
    const stored = await h.kiosk.deposit(token, 'SP-LOST-1');
    const epoch = h.running.databaseIdentity.epoch;
    expect(epoch).toMatch(/^[0-9a-f]{32}$/);
    expect(folderEpoch(h.dataDir)).toBe(epoch);
    await h.stop();
    return { dataDir: h.dataDir, compartment: stored.compartment, epoch };
  }

  const startAgain = async (dataDir: string, extra: { reinitialise?: boolean } = {}) => {
    const demo = await makeDemoLocker(dataDir, { hardware: (await import('../support/lockerHarness.js')).fastDemoHardware(), doors: fastDoors, logLevel: 'silent' });
    return startLockerd({ config: demo.config, sim: true, port: 0, sync: false, metricsPort: null, ...extra });
  };

  it('refuses to start when the database file was deleted: DB_MISSING, naming the way out', async () => {
    const { dataDir } = await lockerWithAParcel();
    for (const f of ['', '-wal', '-shm']) rmSync(`${dbFile(dataDir)}${f}`, { force: true });
    const err = await startAgain(dataDir).then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('DB_MISSING');
    expect(err?.message).toMatch(/lockerd db restore/);
    expect(err?.message).toMatch(/--reinitialise/);
    // Nothing was created in its place.
    expect(existsSync(dbFile(dataDir))).toBe(false);
  });

  it('refuses an empty database file (DB_EMPTY) and a truncated one (DB_TRUNCATED)', async () => {
    const { dataDir } = await lockerWithAParcel();
    const size = statSync(dbFile(dataDir)).size;
    expect(size).toBeGreaterThan(8 * 1024);
    truncateSync(dbFile(dataDir), Math.floor(size / 2 / 1024) * 1024 - 1000);
    await expect(startAgain(dataDir)).rejects.toMatchObject({ code: 'DB_TRUNCATED' });
    truncateSync(dbFile(dataDir), Math.floor(size / 2 / 1024) * 1024);
    await expect(startAgain(dataDir)).rejects.toMatchObject({ code: 'DB_TRUNCATED' });
    truncateSync(dbFile(dataDir), 0);
    await expect(startAgain(dataDir)).rejects.toMatchObject({ code: 'DB_EMPTY' });
    expect(statSync(dbFile(dataDir)).size).toBe(0);
  });

  it('re-initialises only on request: a new epoch, the old file kept aside, the folder copy updated', async () => {
    const { dataDir, epoch } = await lockerWithAParcel();
    truncateSync(dbFile(dataDir), 0);
    const running = await startAgain(dataDir, { reinitialise: true });
    try {
      expect(running.databaseIdentity.epoch).not.toBe(epoch);
      expect(running.databaseIdentity.epochReason).toBe('reinitialised');
      expect(folderEpoch(dataDir)).toBe(running.databaseIdentity.epoch);
      expect(readdirSync(dataDir).some((f) => f.startsWith('lockerd.db.replaced-'))).toBe(true);
    } finally {
      await running.stop();
    }
  });

  it('a pristine data folder is initialised only when first boot is allowed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lockerd-firstboot-'));
    dirs.push(dataDir);
    const demo = await makeDemoLocker(dataDir, { hardware: (await import('../support/lockerHarness.js')).fastDemoHardware(), logLevel: 'silent' });
    await expect(startLockerd({ config: demo.config, sim: true, port: 0, sync: false, metricsPort: null, firstBoot: false })).rejects.toMatchObject({ code: 'DB_NOT_INITIALISED' });
    expect(existsSync(dbFile(dataDir))).toBe(false);
    expect(existsSync(join(dataDir, 'identity', 'signing-key.jwk.json'))).toBe(false);
    const running = await startLockerd({ config: demo.config, sim: true, port: 0, sync: false, metricsPort: null, firstBoot: true });
    expect(running.databaseIdentity.epochReason).toBe('first_boot');
    await running.stop();
    // Once initialised, the flag changes nothing: the same database and epoch.
    const again = await startLockerd({ config: demo.config, sim: true, port: 0, sync: false, metricsPort: null, firstBoot: false });
    expect(again.databaseIdentity.epoch).toBe(running.databaseIdentity.epoch);
    await again.stop();
  });

  it('refuses a database of another locker or one swapped in by hand (DB_FOREIGN)', async () => {
    const a = await lockerWithAParcel();
    const b = await lockerWithAParcel();
    // b's database copied over a's: same locker id, another epoch.
    rmSync(`${dbFile(a.dataDir)}-shm`, { force: true });
    const { copyFileSync } = await import('node:fs');
    copyFileSync(dbFile(b.dataDir), dbFile(a.dataDir));
    await expect(startAgain(a.dataDir)).rejects.toMatchObject({ code: 'DB_FOREIGN' });
  });
});

describe('WAL deleted after a kill -9', { timeout: 60_000 }, () => {
  const pool = childLockerds();
  afterEach(() => pool.cleanup());

  it('a plain kill keeps the epoch; a kill whose WAL is then deleted starts a new epoch and restarts the streams at 1', async () => {
    const dataDir = await pool.dataDir();
    const demo = await makeDemoLocker(dataDir, { ...cu16Overrides({ itemSensors: true }), doors: fastDoors, logLevel: 'warn' });
    // Run 1, stopped cleanly: its state is checkpointed into the database file.
    const first = await pool.start(demo.config);
    await first.stop();
    const epochOf = (): { epoch: string; streams: { stream: string; next_seq: number }[]; seqs: number[] } => {
      const r = openDbReadOnly(dataDir);
      try {
        const epoch = (r.read.db.prepare('SELECT epoch FROM database_identity').get() as { epoch: string }).epoch;
        const streams = new Outbox(r.read.db).streams().map((x) => ({ stream: x.stream, next_seq: x.nextSeq }));
        const seqs = r.read.outbox('c/swiftpost').map((x) => x.seq);
        return { epoch, streams, seqs };
      } finally {
        r.close();
      }
    };
    const e1 = epochOf().epoch;

    // Run 2: a deposit, then kill -9 with the WAL intact: SQLite recovers it, same epoch.
    const second = await pool.start(demo.config);
    const kiosk = new KioskClient(second.url, demo);
    await kiosk.deposit(await kiosk.courierLogin(), 'SP-WAL-1').catch(() => undefined);
    await second.kill();
    expect(existsSync(`${dbFile(dataDir)}-wal`)).toBe(true);
    const third = await pool.start(demo.config);
    const kiosk3 = new KioskClient(third.url, demo);
    await kiosk3.deposit(await kiosk3.courierLogin(), 'SP-WAL-2').catch(() => undefined);
    await third.kill();
    const afterPlainKill = epochOf();
    expect(afterPlainKill.epoch).toBe(e1);
    expect(afterPlainKill.streams.find((s) => s.stream === 'c/swiftpost')?.next_seq ?? 0, JSON.stringify(afterPlainKill.streams)).toBeGreaterThan(2);

    // Now the WAL goes missing after the kill: the last transactions are lost with it.
    rmSync(`${dbFile(dataDir)}-wal`);
    const fourth = await pool.start(demo.config);
    expect(fourth.output()).toMatch(/DB_WAL_LOST/);
    const kiosk4 = new KioskClient(fourth.url, demo);
    await kiosk4.deposit(await kiosk4.courierLogin(), 'SP-WAL-3');
    await fourth.stop();
    const after = epochOf();
    expect(after.epoch).not.toBe(e1);
    expect(folderEpoch(dataDir)).toBe(after.epoch);
    // In the new epoch the carrier's stream starts at 1 and is contiguous: seqs of the lost
    // transactions are handed out again, but under another (locker, carrier, epoch).
    expect(after.seqs.length).toBeGreaterThan(0);
    expect(after.seqs[0]).toBe(1);
    expect(after.seqs).toEqual(after.seqs.map((_, i) => i + 1));
  });
});
