// The database's identity and the stream epoch (issue 9, finding 6). A data folder that once
// held a database never silently gets a new, empty one: that would forget every stored parcel,
// show every compartment free and restart every stream at seq 1.
//
// - First boot writes one row into database_identity (locker id, creation time, epoch) and a copy
//   in <dataDir>/identity/database.json. From then on a missing, empty, truncated or foreign
//   database stops the start with a coded error that says what to do.
// - First boot is explicit: a pristine folder is initialised only when the caller allows it
//   (`lockerd start --first-boot`; the simulator and the library default allow it).
// - The epoch is part of every stream's identity: a new database, a restored backup or a WAL
//   lost after a crash starts a new epoch, and in a new epoch every stream restarts at seq 1 (its
//   unacknowledged rows renumbered), so (locker, carrier, epoch, seq) is never reused.
// - A run marker (<dataDir>/lockerd.running) tells an unclean stop from a clean one: after a kill
//   the -wal file must still be there; when it is gone, its transactions are lost and the seqs
//   they took could be handed out again, so the epoch changes.
import { closeSync, constants, existsSync, mkdirSync, fsyncSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes, type ErrorCode } from '../../kernel/errors.js';
import type { RandomSource } from '../../kernel/random.js';
import type { Logger } from '../logger.js';
import { openDatabase, SIDECAR_SUFFIXES, type Db, type OpenDatabaseOptions } from './database.js';
import { Outbox } from './outbox.js';

export const DATABASE_FILE = 'lockerd.db';
export const RUN_MARKER_FILE = 'lockerd.running';

export type EpochReason = 'first_boot' | 'reinitialised' | 'restored' | 'wal_lost' | 'adopted';

export interface DatabaseIdentity {
  lockerId: string;
  createdAt: number;
  epoch: string;
  epochReason: EpochReason;
  epochAt: number;
}

/** The copy of the identity in the data folder (identity/database.json). */
// `pending`: an epoch being started (written before its commit), so a crash between the database
// commit and this file's update leaves a pair that is still recognised as belonging together.
const FolderCopy = z.object({ v: z.literal(1), locker: z.string().min(1).max(64), epoch: z.string().min(1).max(64), createdAt: z.number().int(), pending: z.string().min(1).max(64).optional() });
type FolderCopy = z.infer<typeof FolderCopy>;

const RunMarker = z.object({ pid: z.number().int(), epoch: z.string().max(64), at: z.number().int() });
type RunMarker = z.infer<typeof RunMarker>;

export type DatabaseFileState = 'missing' | 'empty' | 'not_sqlite' | 'truncated' | 'present';

export interface DataFolderState {
  databasePath: string;
  /** The folder held a database before: the locker's identity keys or the database identity copy exist. */
  hadDatabase: boolean;
  copy: FolderCopy | undefined;
  file: DatabaseFileState;
  /** Bytes the file has and bytes its header says it should have at least (present/truncated files). */
  sizes?: { actual: number; expected: number };
  walPresent: boolean;
  /** The run marker of a lockerd that did not stop cleanly (or still runs). */
  marker: RunMarker | undefined;
}

export function databasePathOf(dataDir: string): string {
  return join(dataDir, DATABASE_FILE);
}

function copyPath(dataDir: string): string {
  return join(dataDir, 'identity', 'database.json');
}

function markerPath(dataDir: string): string {
  return join(dataDir, RUN_MARKER_FILE);
}

const IDENTITY_KEY_FILES = ['signing-key.jwk.json', 'encryption-key.jwk.json', 'code-secret.bin'];
const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** Looks at the data folder without opening the database. */
export function inspectDataFolder(dataDir: string): DataFolderState {
  const databasePath = databasePathOf(dataDir);
  const copy = readJson(copyPath(dataDir), FolderCopy);
  const hadDatabase = copy !== undefined || existsSync(copyPath(dataDir)) || IDENTITY_KEY_FILES.some((f) => existsSync(join(dataDir, 'identity', f)));
  const marker = readJson(markerPath(dataDir), RunMarker);
  const state: DataFolderState = { databasePath, hadDatabase, copy, file: 'missing', walPresent: existsSync(`${databasePath}-wal`), marker };
  if (!existsSync(databasePath)) return state;
  const size = statSync(databasePath).size;
  if (size === 0) return { ...state, file: 'empty' };
  const header = Buffer.alloc(100);
  const fd = openSync(databasePath, constants.O_RDONLY);
  let got: number;
  try {
    got = readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 100 || header.subarray(0, 16).toString('latin1') !== SQLITE_MAGIC) return { ...state, file: got < 100 ? 'truncated' : 'not_sqlite' };
  // Header: page size at 16 (1 means 65536), change counter at 24, page count at 28, and the
  // "version valid for" number at 92: the page count is trustworthy when it equals the counter.
  const rawPageSize = header.readUInt16BE(16);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  const pages = header.readUInt32BE(28);
  const countValid = header.readUInt32BE(24) === header.readUInt32BE(92);
  const expected = countValid ? pages * pageSize : pageSize;
  if (size < expected || size % pageSize !== 0) return { ...state, file: 'truncated', sizes: { actual: size, expected } };
  return { ...state, file: 'present', sizes: { actual: size, expected } };
}

function readJson<T>(path: string, schema: z.ZodType<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Writes a small file whole or not at all: temporary name, fsync, rename. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** A new epoch: 128 random bits, hex (the envelope's `epoch`). */
export function newEpoch(random: RandomSource): string {
  return Buffer.from(random.bytes(16)).toString('hex');
}

/** The identity row, undefined when the table or the row does not exist. */
export function readDatabaseIdentity(db: Db): DatabaseIdentity | undefined {
  const table = db.prepare("SELECT 1 AS n FROM sqlite_master WHERE type = 'table' AND name = 'database_identity'").get();
  if (!table) return undefined;
  const r = db
    .prepare<[], { locker_id: string; created_at: number; epoch: string; epoch_reason: string; epoch_at: number }>('SELECT locker_id, created_at, epoch, epoch_reason, epoch_at FROM database_identity WHERE id = 1')
    .get();
  return r ? { lockerId: r.locker_id, createdAt: r.created_at, epoch: r.epoch, epochReason: r.epoch_reason as EpochReason, epochAt: r.epoch_at } : undefined;
}

/**
 * Starts a new epoch in an open database, in one transaction: the identity row gets the new
 * epoch and every stream restarts at seq 1 (acknowledged rows dropped, the others renumbered and
 * sent again). Writes the folder copy afterwards.
 */
export function startNewEpoch(db: Db, dataDir: string | undefined, o: { lockerId: string; reason: EpochReason; now: number; random: RandomSource; epoch?: string }): DatabaseIdentity {
  const epoch = o.epoch ?? newEpoch(o.random);
  if (dataDir !== undefined) markEpochPending(dataDir, epoch);
  const outbox = new Outbox(db);
  const identity = db.transaction((): DatabaseIdentity => {
    const before = readDatabaseIdentity(db);
    const createdAt = before?.createdAt ?? o.now;
    db.prepare(
      `INSERT INTO database_identity (id, locker_id, created_at, epoch, epoch_reason, epoch_at) VALUES (1, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch, epoch_reason = excluded.epoch_reason, epoch_at = excluded.epoch_at`,
    ).run(before?.lockerId ?? o.lockerId, createdAt, epoch, o.reason, o.now);
    outbox.restartStreams();
    return { lockerId: before?.lockerId ?? o.lockerId, createdAt, epoch, epochReason: o.reason, epochAt: o.now };
  }).immediate();
  if (dataDir !== undefined) writeFolderCopy(dataDir, identity);
  return identity;
}

/** Records in the folder copy that `epoch` is about to be committed (see FolderCopy). */
export function markEpochPending(dataDir: string, epoch: string): void {
  const copy = readJson(copyPath(dataDir), FolderCopy);
  if (!copy) return;
  writeAtomically(copyPath(dataDir), `${JSON.stringify({ ...copy, pending: epoch } satisfies FolderCopy, null, 2)}\n`);
}

/** Writes <dataDir>/identity/database.json for this identity. */
export function writeFolderCopy(dataDir: string, identity: DatabaseIdentity): void {
  mkdirSync(join(dataDir, 'identity'), { recursive: true, mode: 0o700 });
  const copy: FolderCopy = { v: 1, locker: identity.lockerId, epoch: identity.epoch, createdAt: identity.createdAt };
  writeAtomically(copyPath(dataDir), `${JSON.stringify(copy, null, 2)}\n`);
}

/** Removes the run marker (a clean stop, or a restore that replaced the database). */
export function removeRunMarker(dataDir: string): void {
  try {
    unlinkSync(markerPath(dataDir));
  } catch {
    // Already gone.
  }
}

/** Whether a lockerd process runs on this data folder (its run marker names a live process). */
export function runningLockerd(dataDir: string): number | undefined {
  const marker = readJson(markerPath(dataDir), RunMarker);
  if (!marker || marker.pid === process.pid) return undefined;
  try {
    process.kill(marker.pid, 0);
    return marker.pid;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? marker.pid : undefined;
  }
}

/** Moves the database and its -wal/-shm/-journal aside (`<file>.<label>-<time>`), for a deliberate re-initialisation or a restore. */
export function moveDatabaseAside(databasePath: string, label: string, now: number): string | undefined {
  const suffix = `.${label}-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  let moved: string | undefined;
  for (const file of [databasePath, ...SIDECAR_SUFFIXES.map((s) => `${databasePath}${s}`)]) {
    if (!existsSync(file)) continue;
    renameSync(file, `${file}${suffix}`);
    if (file === databasePath) moved = `${file}${suffix}`;
  }
  return moved;
}

export interface OpenLockerDatabaseOptions {
  dataDir: string;
  lockerId: string;
  /**
   * true: a pristine data folder may be initialised; false: it is refused (DB_NOT_INITIALISED);
   * undefined: allowed (library default, the simulator). Never creates a database over a lost one.
   */
  firstBoot?: boolean;
  /** Deliberately replace a missing, empty or truncated database with a new one (new epoch); the old file is kept aside. */
  reinitialise?: boolean;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  database?: OpenDatabaseOptions;
}

export interface OpenedLockerDatabase {
  db: Db;
  databasePath: string;
  identity: DatabaseIdentity;
  /** Set when this start began a new epoch (first boot, re-initialisation, lost WAL). */
  epochStarted?: { reason: EpochReason; previousEpoch?: string };
  /** Removes the run marker: call after the database is closed at a clean stop. */
  markStopped(): void;
}

function refuse(code: ErrorCode, message: string, context: Record<string, unknown>): never {
  throw new LockerError(code, `${code}: ${message}`, context);
}

const WHAT_TO_DO =
  'Restore the latest backup with `lockerd db restore <backup-file> --config <file>`, or, knowing that every stored parcel is then forgotten ' +
  'and the compartments must be checked by hand, start a new database with `lockerd start --config <file> --reinitialise`.';

/**
 * Opens the locker's database under the identity rules above; throws DB_MISSING, DB_EMPTY,
 * DB_TRUNCATED, DB_FOREIGN or DB_NOT_INITIALISED instead of creating a database that would
 * silently forget what the old one held.
 */
export function openLockerDatabase(o: OpenLockerDatabaseOptions): OpenedLockerDatabase {
  const log = o.logger.child({ channel: 'database' });
  const st = inspectDataFolder(o.dataDir);
  const path = st.databasePath;
  const ctx = { dataDir: o.dataDir, database: path };
  const now = o.clock.now();
  let create: EpochReason | undefined;
  let inspected: { userVersion: number; tables: number; identity: DatabaseIdentity | undefined } | undefined;
  if (st.file === 'present') {
    inspected = inspectReadOnly(path);
    if (inspected.userVersion === 0 && inspected.tables === 0) st.file = 'empty';
  }
  if (st.file !== 'present') {
    const pristine = !st.hadDatabase && (st.file === 'missing' || st.file === 'empty');
    if (pristine) {
      if (o.firstBoot === false)
        refuse(ErrorCodes.DB_NOT_INITIALISED, `${o.dataDir} holds no locker yet; initialise it deliberately with \`lockerd start --config <file> --first-boot\``, ctx);
      create = 'first_boot';
    } else if (o.reinitialise) {
      const aside = moveDatabaseAside(path, 'replaced', now);
      log.error({ ...ctx, keptAs: aside, previousEpoch: st.copy?.epoch, file: st.file }, 'the database is being re-initialised on request: every parcel it held is forgotten; check every compartment by hand');
      create = 'reinitialised';
    } else if (st.file === 'missing') {
      refuse(ErrorCodes.DB_MISSING, `the database ${path} is gone, but this data folder had one (its locker identity exists). ${WHAT_TO_DO}`, ctx);
    } else if (st.file === 'truncated') {
      refuse(ErrorCodes.DB_TRUNCATED, `the database ${path} is truncated (${st.sizes?.actual ?? 0} bytes, its header needs ${st.sizes?.expected ?? '?'}). ${WHAT_TO_DO}`, { ...ctx, ...st.sizes });
    } else {
      refuse(ErrorCodes.DB_EMPTY, `the database ${path} is ${st.file === 'not_sqlite' ? 'not an SQLite database' : 'empty'}, but this data folder had one. ${WHAT_TO_DO}`, ctx);
    }
  }
  if (inspected && !create) {
    const found = inspected.identity;
    if (found && found.lockerId !== o.lockerId)
      refuse(ErrorCodes.DB_FOREIGN, `the database ${path} belongs to locker "${found.lockerId}", not "${o.lockerId}"`, { ...ctx, databaseLocker: found.lockerId });
    if (st.copy && st.copy.locker !== o.lockerId)
      refuse(ErrorCodes.DB_FOREIGN, `the data folder ${o.dataDir} belongs to locker "${st.copy.locker}", not "${o.lockerId}"`, { ...ctx, folderLocker: st.copy.locker });
    if (st.copy && (!found || (found.epoch !== st.copy.epoch && found.epoch !== st.copy.pending)))
      refuse(
        ErrorCodes.DB_FOREIGN,
        `the database ${path} is not the one this data folder last ran (epoch ${found?.epoch ?? 'none'}, the folder's is ${st.copy.epoch}): it was replaced by hand. ` +
          'Put a backup in place with `lockerd db restore <backup-file> --config <file>` (it checks the file and starts a new epoch).',
        { ...ctx, databaseEpoch: found?.epoch, folderEpoch: st.copy.epoch },
      );
  }

  const db = openDatabase(path, o.database);
  let identity = readDatabaseIdentity(db);
  let epochStarted: OpenedLockerDatabase['epochStarted'];
  try {
    if (create) {
      identity = startNewEpoch(db, o.dataDir, { lockerId: o.lockerId, reason: create, now, random: o.random });
      epochStarted = { reason: create, ...(st.copy ? { previousEpoch: st.copy.epoch } : {}) };
      log.info({ epoch: identity.epoch, reason: create }, create === 'first_boot' ? 'first boot: a new database' : 'a new database replaced the lost one');
    } else if (!identity) {
      // A database from before the identity existed (an upgrade): it is adopted as it is.
      identity = startNewEpoch(db, o.dataDir, { lockerId: o.lockerId, reason: 'adopted', now, random: o.random });
      epochStarted = { reason: 'adopted' };
      log.info({ epoch: identity.epoch }, 'database identity created for an existing database');
    } else if (st.marker && !st.walPresent) {
      // A kill or power cut leaves the -wal file behind; here it is gone, and with it the last
      // transactions. Their seqs could be handed out again, so the streams start a new epoch.
      const previousEpoch = identity.epoch;
      identity = startNewEpoch(db, o.dataDir, { lockerId: o.lockerId, reason: 'wal_lost', now, random: o.random });
      epochStarted = { reason: 'wal_lost', previousEpoch };
      log.error(
        { ...ctx, previousEpoch, epoch: identity.epoch },
        'DB_WAL_LOST: lockerd did not stop cleanly and the database write-ahead log is gone: the last transactions are lost. Streams start a new epoch; check the compartments against the parcels',
      );
    } else if (!st.copy) {
      writeFolderCopy(o.dataDir, identity);
      log.warn({ epoch: identity.epoch }, 'the data folder copy of the database identity was missing; written again');
    } else if (st.copy.epoch !== identity.epoch || st.copy.pending !== undefined) {
      // A new epoch was committed (or not) just before a crash: the copy follows the database.
      writeFolderCopy(o.dataDir, identity);
    }
    writeAtomically(markerPath(o.dataDir), `${JSON.stringify({ pid: process.pid, epoch: identity.epoch, at: now } satisfies RunMarker)}\n`);
  } catch (e) {
    db.close();
    throw e;
  }
  const id = identity;
  return {
    db,
    databasePath: path,
    identity: id,
    ...(epochStarted ? { epochStarted } : {}),
    markStopped: () => removeRunMarker(o.dataDir),
  };
}

/** user_version, table count and identity of an existing file, read-only (nothing is migrated or created). */
export function inspectReadOnly(path: string): { userVersion: number; tables: number; identity: DatabaseIdentity | undefined } {
  let db: Db;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new LockerError(ErrorCodes.STORE_ERROR, `cannot open database ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  try {
    const userVersion = db.pragma('user_version', { simple: true }) as number;
    const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
    return { userVersion, tables, identity: readDatabaseIdentity(db) };
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') refuse(ErrorCodes.DB_EMPTY, `the database ${path} is not an SQLite database. ${WHAT_TO_DO}`, { database: path });
    throw new LockerError(ErrorCodes.DB_CHECK_FAILED, `DB_CHECK_FAILED: cannot read the database ${path}: ${(e as Error).message}`, { database: path }, { cause: e });
  } finally {
    db.close();
  }
}
