// Issue 9, finding 5 (full disk), through the kiosk API of a whole in-process lockerd: the
// database really refuses writes (SQLITE_FULL): first by SQLite's max_page_count, which caps
// the file deterministically, then (as root, as in CI) on a real 2 MiB tmpfs filled to the last
// byte. Rule: the process stays up, a door whose transaction cannot be recorded does not open
// (507 STORE_FULL, not "no compartment free"), health names STORE_FULL, and service resumes by
// itself when space returns, with the outage recorded for the operator (alarm.store_refused).
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';

interface Health {
  ok: boolean;
  faults: { code: string }[];
}

const unlatched = (h: LockerHarness): string[] => h.world.allLocks().filter((l) => !l.latched).map((l) => `${l.position.board}/${l.position.lock}`);

/**
 * Caps the file at its size and fills the audit table (every recorded transaction adds a row)
 * and the settings table (the store probe's row) until SQLite refuses the next tiny row.
 */
function fillAuditToTheCap(h: LockerHarness): void {
  const db = h.running.db;
  db.pragma(`max_page_count = ${Number(db.pragma('page_count', { simple: true }))}`);
  const audit = db.prepare("INSERT INTO audit (ts, actor, action, subject, data) VALUES (0, 'x', 'x', NULL, '{}')");
  const setting = db.prepare<[string]>("INSERT INTO settings (key, value) VALUES (?, '')");
  for (const insert of [() => audit.run(), (i: number) => setting.run(`fill.${i}`)]) {
    for (let i = 0; ; i++) {
      if (i > 100_000) throw new Error('the database never filled');
      try {
        insert(i);
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_FULL') break;
        throw e;
      }
    }
  }
}

async function expectRefusedWithNoDoor(h: LockerHarness, token: string, waybill: string): Promise<void> {
  const r = await h.startDeposit(token, waybill, 'S');
  expect(r.status).toBe(507);
  expect((r.body as unknown as { error: { code: string } }).error.code).toBe('STORE_FULL');
  expect(unlatched(h)).toEqual([]);
  const health = await h.api<Health>('GET', '/api/health');
  expect(health.status).toBe(503);
  expect(health.body.faults.map((f) => f.code)).toContain('STORE_FULL');
}

describe('a full disk keeps lockerd serving', () => {
  let h: LockerHarness | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('SQLite capped at its size: no door opens, health says STORE_FULL, service resumes when space returns', async () => {
    h = await LockerHarness.start({ storeProbeMs: 100 });
    const locker = h;
    const token = await locker.courierLogin();
    const stored = await locker.deposit(token, 'SP-DF-0');
    fillAuditToTheCap(locker);

    await expectRefusedWithNoDoor(locker, token, 'SP-DF-1');
    // A pickup whose unlock cannot be recorded does not open its door either; the code stays valid.
    const pickup = await locker.pickup(stored.code);
    expect(pickup.status).toBe(507);
    expect(unlatched(locker)).toEqual([]);

    locker.running.db.pragma(`max_page_count = ${Number(locker.running.db.pragma('page_count', { simple: true })) + 10_000}`);
    // Nobody has to do anything: the probe finds the space.
    await waitFor('health to be ok again', async () => (await locker.api<Health>('GET', '/api/health')).body.ok, 5_000);
    // The outage is recorded for the operator (once: a flapping store is not recorded per flap).
    expect(locker.read.events('alarm.store_refused').map((e) => e.data)).toMatchObject([{ code: 'STORE_FULL' }]);
    const again = await locker.deposit(token, 'SP-DF-2');
    expect(again.compartment).not.toBe(stored.compartment);
    expect((await locker.pickup(stored.code)).status).toBe(200);
  });

  const root = process.getuid?.() === 0;
  it.skipIf(!root)('a real file system filled to the last byte (tmpfs, root only: CI runs as root)', async () => {
    const mountPoint = await mkdtemp(join(tmpdir(), 'lockerd-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint]);
    cleanups.push(async () => {
      execFileSync('umount', ['-l', mountPoint]);
      await rmdir(mountPoint);
    });
    // No probe during the test (the capped case above covers it): health must stay as the refusal left it.
    h = await LockerHarness.start({ dataDir: join(mountPoint, 'data'), storeProbeMs: 600_000 });
    const locker = h;
    const token = await locker.courierLogin();
    // Fill the file system: a junk file grows until the kernel says ENOSPC.
    const junk = join(mountPoint, 'junk');
    const fh = await open(junk, 'w');
    try {
      const block = Buffer.alloc(4096, 1);
      for (;;) {
        try {
          await fh.write(block);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
      for (const size of [512, 64, 1])
        for (;;) {
          try {
            const { bytesWritten } = await fh.write(Buffer.alloc(size, 1));
            if (bytesWritten === 0) break;
          } catch {
            break;
          }
        }
    } finally {
      await fh.close();
    }
    // SQLite reuses the space its WAL already has: deposits may still fit in it. Each one either
    // completes whole or is refused with no door open; the disk runs out within a few.
    let refused = false;
    for (let i = 0; i < 12 && !refused; i++) {
      const r = await locker.startDeposit(token, `SP-TMPFS-${i}`, 'S');
      if (r.status === 200) {
        await locker.finishDeposit(token, r.body.deposit);
        continue;
      }
      expect(r.status).toBe(507);
      expect(unlatched(locker)).toEqual([]);
      refused = true;
    }
    expect(refused).toBe(true);
    expect((await locker.api<Health>('GET', '/api/health')).body.faults.map((f) => f.code)).toContain('STORE_FULL');
    expect(locker.read.integrity()).toBe('ok');

    await rm(junk);
    // Space is back: the next transaction succeeds and ends the fault.
    const after = await locker.startDeposit(token, 'SP-TMPFS-AFTER', 'S');
    expect(after.status).toBe(200);
    await locker.finishDeposit(token, after.body.deposit);
    expect((await locker.api<Health>('GET', '/api/health')).body).toMatchObject({ ok: true, faults: [] });
  });
});
