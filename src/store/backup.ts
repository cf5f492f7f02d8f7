// `lockerd db check | backup | restore` and the periodic online backup (issue 9, finding 6).
// Backups use SQLite's online backup API (better-sqlite3 db.backup()): consistent while lockerd
// writes, page by page, without stopping it. Every backup is written to a temporary name,
// verified (integrity_check, identity row) and renamed, so the file at the backup path is always a
// whole, checked database. A restore refuses while lockerd runs, verifies the file, and starts a
// new stream epoch: the backup is older than what was published, and its seqs must not be reused.
import { closeSync, constants, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import type { RandomSource } from '../../kernel/random.js';
import type { Logger } from '../logger.js';
import { openDatabase, type Db } from './database.js';
import {
  databasePathOf,
  inspectDataFolder,
  markEpochPending,
  moveDatabaseAside,
  readDatabaseIdentity,
  removeRunMarker,
  runningLockerd,
  startNewEpoch,
  writeFolderCopy,
  type DatabaseIdentity,
} from './databaseIdentity.js';
import { migrations } from './migrations.js';

export interface CheckResult {
  ok: boolean;
  /** 'ok', or SQLite's list of problems (at most 100 lines). */
  problems: string[];
  userVersion: number;
  identity: DatabaseIdentity | undefined;
}

function openReadOnly(path: string): Db {
  if (!existsSync(path)) throw new LockerError(ErrorCodes.DB_MISSING, `DB_MISSING: ${path} does not exist`, { path });
  try {
    return new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new LockerError(ErrorCodes.DB_CHECK_FAILED, `DB_CHECK_FAILED: cannot open ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/** quick_check (or the slower integrity_check with full) of a database file, read-only. */
export function checkDatabaseFile(path: string, full = false): CheckResult {
  const db = openReadOnly(path);
  try {
    return checkOpenDatabase(db, full);
  } finally {
    db.close();
  }
}

function checkOpenDatabase(db: Db, full: boolean): CheckResult {
  try {
    const rows = db.pragma(`${full ? 'integrity_check' : 'quick_check'}(100)`) as Record<string, string>[];
    const problems = rows.map((r) => String(Object.values(r)[0]));
    const userVersion = db.pragma('user_version', { simple: true }) as number;
    const ok = problems.length === 1 && problems[0] === 'ok' && userVersion >= 1;
    return { ok, problems: userVersion >= 1 ? problems : [...problems.filter((p) => p !== 'ok'), 'no lockerd schema (user_version 0)'], userVersion, identity: readDatabaseIdentity(db) };
  } catch (e) {
    return { ok: false, problems: [(e as Error).message], userVersion: 0, identity: undefined };
  }
}

function fsyncPath(path: string): void {
  try {
    const fd = openSync(path, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // A folder that cannot be fsynced (some file systems): the rename is still atomic.
  }
}

export interface BackupResult {
  path: string;
  bytes: number;
  identity: DatabaseIdentity | undefined;
}

/**
 * An online backup of `source` (an open handle, or a database file opened read-only) to `dest`:
 * written to dest.tmp, integrity-checked, fsynced, renamed. Throws BACKUP_FAILED.
 */
export async function backupDatabase(source: Db | string, dest: string): Promise<BackupResult> {
  const tmp = `${dest}.tmp`;
  // A copy in WAL mode grows -wal and -shm files beside it as soon as it is opened (the check
  // below): they would stay in the backup folder after the rename. The copy is switched to a
  // rollback journal first, so the backup is one self-contained file and the folder holds only it.
  const sidecars = [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`];
  const db = typeof source === 'string' ? openReadOnly(source) : source;
  try {
    for (const f of sidecars) rmSync(f, { force: true });
    await db.backup(tmp);
    const copy = new Database(tmp, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    const check = checkDatabaseFile(tmp, true);
    if (!check.ok) throw new Error(`the copy does not check: ${check.problems.slice(0, 3).join('; ')}`);
    fsyncPath(tmp);
    renameSync(tmp, dest);
    fsyncPath(dirname(dest));
    return { path: dest, bytes: statSync(dest).size, identity: check.identity };
  } catch (e) {
    for (const f of sidecars) rmSync(f, { force: true });
    if (e instanceof LockerError) throw e;
    throw new LockerError(ErrorCodes.BACKUP_FAILED, `BACKUP_FAILED: cannot back up to ${dest}: ${(e as Error).message}`, { dest }, { cause: e });
  } finally {
    if (typeof source === 'string') db.close();
  }
}

export interface RestoreOptions {
  dataDir: string;
  lockerId: string;
  from: string;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
}

export interface RestoreResult {
  identity: DatabaseIdentity;
  previousEpoch: string | undefined;
  /** Where the database that was replaced was kept, if there was one. */
  keptAs: string | undefined;
}

/**
 * Puts a verified backup in place of the data folder's database, with a new epoch. Refuses while
 * lockerd runs on the folder (DB_IN_USE), and a file that does not check or is another locker's
 * (DB_CHECK_FAILED, DB_FOREIGN).
 */
export async function restoreDatabase(o: RestoreOptions): Promise<RestoreResult> {
  const pid = runningLockerd(o.dataDir);
  if (pid !== undefined) throw new LockerError(ErrorCodes.DB_IN_USE, `DB_IN_USE: lockerd (pid ${pid}) runs on ${o.dataDir}; stop it first (systemctl stop lockerd)`, { dataDir: o.dataDir, pid });
  const check = checkDatabaseFile(o.from, true);
  if (!check.ok) throw new LockerError(ErrorCodes.DB_CHECK_FAILED, `DB_CHECK_FAILED: ${o.from} is not a sound lockerd database: ${check.problems.slice(0, 3).join('; ')}`, { file: o.from });
  if (check.userVersion > migrations.length)
    throw new LockerError(ErrorCodes.DB_CHECK_FAILED, `DB_CHECK_FAILED: ${o.from} has schema ${check.userVersion}, newer than this release's ${migrations.length}`, { file: o.from });
  if (check.identity && check.identity.lockerId !== o.lockerId)
    throw new LockerError(ErrorCodes.DB_FOREIGN, `DB_FOREIGN: ${o.from} is a backup of locker "${check.identity.lockerId}", not "${o.lockerId}"`, { file: o.from });
  const path = databasePathOf(o.dataDir);
  const previousEpoch = inspectDataFolder(o.dataDir).copy?.epoch;
  const tmp = `${path}.restoring`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  const src = openReadOnly(o.from);
  try {
    await src.backup(tmp);
  } finally {
    src.close();
  }
  const now = o.clock.now();
  // Migrated to this release's schema and given the new epoch before it takes the database's place.
  const db = openDatabase(tmp);
  let identity: DatabaseIdentity;
  try {
    identity = startNewEpoch(db, undefined, { lockerId: o.lockerId, reason: 'restored', now, random: o.random });
  } finally {
    db.close();
  }
  markEpochPending(o.dataDir, identity.epoch);
  const keptAs = moveDatabaseAside(path, 'replaced', now);
  renameSync(tmp, path);
  fsyncPath(o.dataDir);
  writeFolderCopy(o.dataDir, identity);
  removeRunMarker(o.dataDir);
  o.logger.warn({ from: o.from, epoch: identity.epoch, previousEpoch, keptAs }, 'database restored from a backup: a new stream epoch begins; check the compartments against the parcels');
  return { identity, previousEpoch, keptAs };
}

export interface PeriodicBackupOptions {
  db: Db;
  path: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
  /** A backup failed (disk full, path gone): the caller raises its alarm; the next one is tried on schedule. */
  onFailed?: (err: LockerError) => void;
  onDone?: (r: BackupResult) => void;
}

/** An online backup every intervalMs to one path (best on another disk than the data folder). */
export class PeriodicBackup {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly o: PeriodicBackupOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** One backup now (also what the timer runs); never throws. */
  runOnce(): Promise<void> {
    this.running ??= backupDatabase(this.o.db, this.o.path)
      .then((r) => {
        this.o.logger.info({ path: r.path, bytes: r.bytes }, 'database backed up');
        this.o.onDone?.(r);
      })
      .catch((e: unknown) => {
        const err = e instanceof LockerError ? e : new LockerError(ErrorCodes.BACKUP_FAILED, `BACKUP_FAILED: ${(e as Error).message}`, {}, { cause: e });
        this.o.logger.error({ code: err.code, path: this.o.path }, err.message);
        this.o.onFailed?.(err);
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Stops the schedule and waits for a backup in progress (call before closing the database). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(() => {
      void this.runOnce().then(() => this.schedule());
    }, this.o.intervalMs);
  }
}
