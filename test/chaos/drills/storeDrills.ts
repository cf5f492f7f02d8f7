// Drills on the database and the disk under it: a full disk (a small tmpfs, as root; finding
// 5) and a database deleted, truncated or corrupted, or its WAL deleted after a power cut
// (findings 6 and 7).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { open, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { type LockerConfig } from '../../../src/config/schema.js';
import { freePort } from '../../support/freePort.js';
import { sleep } from '../../support/polling.js';
import { spawnLockerdProcess, waitForAnswer, type LockerdProcess } from '../lockerdProcess.js';
import { api, codeOf, courier, operator, scratch, simLocker, startLockerd, within, type DepositView, type DrillResult, type Scratch } from './support.js';

/** A whole deposit on the simulator; returns the compartment, undefined when refused. */
async function deposit(url: string, token: string, waybill: string): Promise<{ compartment?: string; status: number; code?: string }> {
  const d = await api<{ deposit: DepositView }>(url, 'POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
  if (d.status !== 200) return { status: d.status, ...(codeOf(d) ? { code: codeOf(d) } : {}) };
  const c = d.body.deposit.compartment.id;
  await api(url, 'POST', `/sim/compartments/${c}/put`);
  await api(url, 'POST', `/sim/compartments/${c}/close`);
  const v = await within(5_000, async () => {
    const r = await api<{ deposit: DepositView }>(url, 'GET', `/api/courier/deposits/${d.body.deposit.id}`, undefined, token);
    return r.body.deposit.state === 'stored' ? r.body.deposit : undefined;
  });
  return v ? { compartment: c, status: 200 } : { status: 500, code: 'NOT_STORED' };
}

async function latchedEverywhere(url: string): Promise<boolean> {
  const st = await api<{ locks: { latched: boolean; compartment: string | null }[] }>(url, 'GET', '/sim/state');
  return st.body.locks.every((l) => l.latched || l.compartment === null);
}

/**
 * The data folder on an 8 MiB tmpfs; a parcel is stored, then a file fills the disk and a
 * courier tries a deposit. Honest: the process stays up, no door opens for a transaction that
 * cannot be recorded, the error and health say the store is full (not "no compartment free"),
 * and deposits work again by themselves once space returns.
 */
export async function diskFull(): Promise<DrillResult> {
  const name = 'disk full (8 MiB tmpfs)';
  const expected = 'stays up, no door opens unrecorded, error and health name STORE_FULL, service resumes when space returns';
  const s = await scratch('disk');
  let mounted = false;
  try {
    mkdirSync(s.dataDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', s.dataDir], { stdio: 'pipe' });
      mounted = true;
    } catch (e) {
      return { name, expected, finding: '5', passed: false, observed: `cannot mount a tmpfs (needs root): ${String(e).slice(0, 200)}` };
    }
    const demo = await simLocker(s.dataDir);
    const p = await startLockerd(s, demo.config);
    const token = await courier(p.url, demo);
    const first = await deposit(p.url, token, 'DRILL-DISK-1');
    if (!first.compartment) return { name, expected, finding: '5', passed: false, observed: `first deposit refused: ${first.status} ${first.code ?? ''}` };
    // Fill the disk to the last byte.
    const filler = join(s.dataDir, 'filler');
    const fh = await open(filler, 'w');
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) await fh.write(block);
    } catch {
      // ENOSPC
    }
    try {
      for (;;) await fh.write(Buffer.alloc(512, 1));
    } catch {
      // ENOSPC
    }
    await fh.close();
    const attempts: string[] = [];
    for (let i = 2; i <= 4; i++) {
      const r = await api<{ deposit: DepositView }>(p.url, 'POST', '/api/courier/deposits', { waybill: `DRILL-DISK-${i}`, size: 'S' }, token).catch(() => undefined);
      attempts.push(r ? `${r.status} ${codeOf(r) ?? r.body.deposit?.compartment.id ?? ''}` : 'no answer');
      if (r?.status === 200) {
        await api(p.url, 'POST', `/sim/compartments/${r.body.deposit.compartment.id}/close`).catch(() => undefined);
      }
    }
    await sleep(500);
    const alive = !p.exited();
    const health = alive ? await api<{ faults: { code: string }[] }>(p.url, 'GET', '/api/health').catch(() => undefined) : undefined;
    const doorsShut = alive ? await latchedEverywhere(p.url).catch(() => false) : false;
    await rm(filler, { force: true });
    const resumed = alive ? await within(15_000, async () => ((await deposit(p.url, token, `DRILL-DISK-R${Date.now()}`)).compartment ? true : undefined), 500) : undefined;
    const namesFull = health?.status === 503 && health.body.faults.some((f) => f.code === 'STORE_FULL');
    const honestErrors = attempts.every((a) => !a.startsWith('200') && !a.includes('NO_COMPARTMENT_FREE') && a !== 'no answer');
    const passed = alive && namesFull && honestErrors && doorsShut && resumed === true;
    return {
      name,
      expected,
      finding: '5',
      passed,
      observed: `deposits on a full disk: ${attempts.join(' | ')}; process ${alive ? 'up' : `exited (${p.output().includes('SIGABRT') || p.child.signalCode === 'SIGABRT' ? 'SIGABRT' : String(p.child.exitCode ?? p.child.signalCode)})`}; health ${health ? `${health.status} [${health.body.faults.map((f) => f.code).join(',')}]` : 'none'}; doors all latched: ${String(doorsShut)}; resumed after space returned: ${String(resumed === true)}`,
    };
  } finally {
    await s.killAll();
    if (mounted) {
      try {
        execFileSync('umount', ['-l', s.dataDir], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
    await s.cleanup();
  }
}

type Damage = 'deleted' | 'truncated' | 'corrupted' | 'wal_deleted';

/** Starts lockerd and reports whether it refused (exit with output) or answered, within 30 s. */
async function startOrRefuse(s: Scratch, config: LockerConfig): Promise<{ refused: true; code: number | null; output: string } | { refused: false; p: LockerdProcess }> {
  const p = s.track(await spawnLockerdProcess(config, await freePort()));
  try {
    await waitForAnswer(p, 30_000);
    return { refused: false, p };
  } catch {
    const e = await p.exit;
    return { refused: true, code: e.code, output: p.output() };
  }
}

async function damageDrill(damage: Damage): Promise<DrillResult> {
  const name = `database ${damage.replace('_', ' ')}`;
  const expected =
    damage === 'corrupted'
      ? 'a quick check at boot finds it: lockerd refuses to start with a coded error, or runs degraded with the fault named; the stored parcel is never forgotten nor its compartment offered free'
      : 'lockerd refuses to start with a coded error saying what to do (the identity exists, the database is gone or behind); never silently recreated';
  const finding = damage === 'corrupted' ? '7' : '6';
  const s = await scratch(`db-${damage}`);
  try {
    const demo = await simLocker(s.dataDir);
    const p = await startLockerd(s, demo.config);
    const token = await courier(p.url, demo);
    // Some history, so the file has middle pages.
    for (let i = 1; i <= 6; i++) await deposit(p.url, token, `DRILL-DB-${i}`);
    const kept = await deposit(p.url, token, 'DRILL-DB-KEPT');
    if (!kept.compartment) return { name, expected, finding, passed: false, observed: 'the deposit before the damage was refused' };
    if (damage === 'wal_deleted') await p.kill();
    else await p.stop();
    const db = join(s.dataDir, 'lockerd.db');
    const walBefore = existsSync(`${db}-wal`) ? (await stat(`${db}-wal`)).size : 0;
    if (damage === 'deleted') for (const f of [db, `${db}-wal`, `${db}-shm`]) await rm(f, { force: true });
    if (damage === 'truncated') {
      await truncate(db, 0);
      for (const f of [`${db}-wal`, `${db}-shm`]) await rm(f, { force: true });
    }
    if (damage === 'wal_deleted') for (const f of [`${db}-wal`, `${db}-shm`]) await rm(f, { force: true });
    if (damage === 'corrupted') {
      const size = (await stat(db)).size;
      const pageSize = 4096;
      const pages = Math.floor(size / pageSize);
      const fh = await open(db, 'r+');
      for (let page = 2; page < pages - 1; page++) await fh.write(Buffer.alloc(pageSize, 0xa5), 0, pageSize, page * pageSize);
      await fh.close();
    }
    const started = await startOrRefuse(s, demo.config);
    if (started.refused) {
      const coded = /\b[A-Z][A-Z0-9]+_[A-Z0-9_]+\b/.exec(started.output)?.[0];
      const passed = started.code !== 0 && coded !== undefined;
      const why = started.output.split('\n').find((l) => /error|refus|SQLITE/i.test(l))?.slice(0, 200) ?? '';
      return { name, expected, finding, passed, observed: `refused to start (exit ${String(started.code)}${coded ? `, ${coded}` : ', no coded error'}${why ? `: ${why}` : ''})${damage === 'wal_deleted' ? `; WAL was ${walBefore} bytes` : ''}` };
    }
    const health = await api<{ faults: { code: string }[] }>(started.p.url, 'GET', '/api/health').catch(() => undefined);
    const op = await operator(started.p.url, demo).catch(() => undefined);
    const list = op ? await api<{ compartments: { id: string; state: string }[] }>(started.p.url, 'GET', '/api/operator/compartments', undefined, op).catch(() => undefined) : undefined;
    const state = list?.body.compartments?.find((c) => c.id === kept.compartment)?.state ?? 'unknown';
    await sleep(300);
    const stillUp = !started.p.exited();
    const degraded = health !== undefined && health.status === 503 && health.body.faults.length > 0;
    const passed = damage === 'corrupted' && degraded && state !== 'free' && stillUp;
    return {
      name,
      expected,
      finding,
      passed,
      observed: `started and served: health ${health ? `${health.status} [${health.body.faults.map((f) => f.code).join(',')}]` : 'none'}; ${kept.compartment} (held DRILL-DB-KEPT) shown ${state}; ${stillUp ? 'still up' : `then exited: ${started.p.output().split('\n').filter((l) => /SQLITE|Error/.test(l)).slice(0, 1).join('').slice(0, 200)}`}${damage === 'wal_deleted' ? `; WAL was ${walBefore} bytes` : ''}`,
    };
  } finally {
    await s.cleanup();
  }
}

export async function databaseDrills(): Promise<DrillResult[]> {
  const out: DrillResult[] = [];
  for (const d of ['deleted', 'truncated', 'corrupted', 'wal_deleted'] as const) out.push(await damageDrill(d));
  return out;
}

