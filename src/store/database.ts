// Opens the locker database: one SQLite file in WAL mode with foreign keys on, migrated to
// the newest schema. The better-sqlite3 handle is synchronous, so one JavaScript turn is one
// transaction and no other code can interleave with it.
import { chmodSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { migrations, type Migration } from './migrations.js';

export type Db = Database.Database;

export interface OpenDatabaseOptions {
  /** 'full' fsyncs the WAL at every commit (durable across power cuts); 'normal' only at checkpoints. */
  synchronous?: 'full' | 'normal';
  migrations?: Migration[];
  /** Page size of a newly created database (bytes, power of two). */
  pageSize?: number;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): Db {
  let db: Db;
  try {
    makePrivate(path);
    db = new Database(path);
  } catch (e) {
    throw new LockerError(ErrorCodes.STORE_ERROR, `cannot open database ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  // A new database gets 1 KiB pages: a transaction touches a dozen pages (row, indexes, audit,
  // outbox), and with 4 KiB pages that is ~90 KiB through the WAL per deposit; with 1 KiB about
  // 30 KiB (BENCHMARKS.md). SD cards wear by bytes written. The page size can only be chosen
  // before the first table exists and before WAL mode is on.
  if ((db.pragma('user_version', { simple: true }) as number) === 0 && (db.prepare("SELECT count(*) AS n FROM sqlite_master").get() as { n: number }).n === 0) {
    db.pragma(`page_size = ${options.pageSize ?? 1024}`);
  }
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // 2 MiB of page cache instead of SQLite's 16 MiB: the working set of a locker is small, and
  // memory on a Pi-class controller is not.
  db.pragma('cache_size = -2000');
  // Fewer, larger checkpoints wear an SD card less than many small ones.
  db.pragma('wal_autocheckpoint = 1000');
  migrate(db, options.migrations ?? migrations);
  // WAL mode is on and the first transactions ran: the -wal and -shm files exist now.
  makePrivate(path);
  return db;
}

/** SQLite's files beside the database: they hold the same data as the database itself. */
export const SIDECAR_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/**
 * The database and its -wal, -shm and -journal files readable by this user only (0600),
 * whatever the umask. A new database file is created 0600 before SQLite opens it: SQLite gives
 * its -wal, -shm and -journal files the database file's permissions, so they are born 0600 too.
 * Existing files with looser modes (a restore, an older version) are tightened.
 */
function makePrivate(path: string): void {
  if (path === ':memory:' || path === '' || path.startsWith('file:')) return;
  if (!existsSync(path)) closeSync(openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600));
  for (const file of [path, ...SIDECAR_SUFFIXES.map((s) => `${path}${s}`)]) {
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch {
      continue;
    }
    if ((mode & ~0o600) !== 0) chmodSync(file, mode & 0o600);
  }
}

export function migrate(db: Db, list: Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (const m of list) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** Maps SQLite's disk-full and I/O errors to coded errors; rethrows anything else unchanged. */
export function mapStoreError(e: unknown): never {
  const code = (e as { code?: unknown }).code;
  if (code === 'SQLITE_FULL') throw new LockerError(ErrorCodes.STORE_FULL, 'the disk is full; nothing was changed', {}, { cause: e });
  if (typeof code === 'string' && code.startsWith('SQLITE_IOERR'))
    throw new LockerError(ErrorCodes.STORE_ERROR, `storage I/O error (${code}); nothing was changed`, {}, { cause: e });
  throw e;
}

/** SQLite's own integrity check: 'ok' for a sound file. */
export function integrityCheck(db: Db): string {
  return String(db.pragma('integrity_check', { simple: true }));
}

/** Rows whose foreign keys point nowhere (empty for a consistent file). */
export function foreignKeyProblems(db: Db): unknown[] {
  return db.pragma('foreign_key_check') as unknown[];
}

/** Every table's rows as text, to check that something (a plaintext code) appears nowhere. */
export function tableDump(db: Db): string {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  return tables.map((t) => `${t.name}\n${JSON.stringify(db.prepare(`SELECT * FROM "${t.name.replace(/"/g, '""')}"`).all())}`).join('\n');
}
