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
  try {
    prepare(db, options);
  } catch (e) {
    db.close();
    // A file too damaged for SQLite to read its schema: the same coded refusal as a failed quick check.
    if (storeErrorCode(e) === ErrorCodes.STORE_CORRUPT) throw corruptDatabase(path, [(e as Error).message], e);
    throw e;
  }
  // WAL mode is on and the first transactions ran: the -wal and -shm files exist now.
  makePrivate(path);
  return db;
}

function prepare(db: Db, options: OpenDatabaseOptions): void {
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
}

/** What to do about a damaged database file; every STORE_CORRUPT refusal says it. */
export const CORRUPT_DATABASE_ADVICE =
  'lockerd does not run on a damaged record: keep the file for inspection (copy the data folder), then restore the last good backup into the data folder, or move the damaged file aside to start an empty locker (every parcel must then be re-registered)';

/** The coded refusal to run on a damaged database file (quick_check failed, or SQLite could not read it). */
export function corruptDatabase(path: string, problems: string[], cause?: unknown): LockerError {
  const shown = problems.slice(0, 3).map((p) => p.slice(0, 200));
  return new LockerError(
    ErrorCodes.STORE_CORRUPT,
    `the database ${path} is damaged (${shown.join('; ')}${problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ''}). ${CORRUPT_DATABASE_ADVICE}`,
    { path, problems: shown },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * SQLite's quick check (the b-tree structure of every page, without the slower index cross-check
 * of integrity_check): an empty list for a sound file, otherwise what it found (at most 20).
 * A file SQLite cannot read at all comes back as that one problem.
 */
export function quickCheck(db: Db): string[] {
  try {
    const rows = db.pragma('quick_check(20)') as { quick_check: string }[];
    const problems = rows.map((r) => r.quick_check).filter((m) => m !== 'ok');
    return problems;
  } catch (e) {
    if (storeErrorCode(e) === ErrorCodes.STORE_CORRUPT) return [(e as Error).message];
    throw e;
  }
}

/**
 * The stable code of a storage failure, whether SQLite's own error or a LockerError made from
 * one: STORE_FULL (disk or max_page_count), STORE_CORRUPT (damaged file), STORE_ERROR (I/O),
 * undefined for anything else.
 */
export function storeErrorCode(e: unknown): typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_CORRUPT | typeof ErrorCodes.STORE_ERROR | undefined {
  if (e instanceof LockerError) {
    if (e.code === ErrorCodes.STORE_FULL || e.code === ErrorCodes.STORE_CORRUPT || e.code === ErrorCodes.STORE_ERROR) return e.code;
    return e.cause === undefined ? undefined : storeErrorCode(e.cause);
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL') return ErrorCodes.STORE_FULL;
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') return ErrorCodes.STORE_CORRUPT;
  if (code.startsWith('SQLITE_IOERR')) return ErrorCodes.STORE_ERROR;
  return undefined;
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

/** Maps SQLite's disk-full, corruption and I/O errors to coded errors; rethrows anything else unchanged. */
export function mapStoreError(e: unknown): never {
  if (e instanceof LockerError) throw e;
  const code = (e as { code?: unknown }).code;
  switch (storeErrorCode(e)) {
    case ErrorCodes.STORE_FULL:
      throw new LockerError(ErrorCodes.STORE_FULL, 'the disk is full; nothing was changed', {}, { cause: e });
    case ErrorCodes.STORE_CORRUPT:
      throw new LockerError(ErrorCodes.STORE_CORRUPT, `the database file is damaged (${String(code)}); nothing was changed`, {}, { cause: e });
    case ErrorCodes.STORE_ERROR:
      throw new LockerError(ErrorCodes.STORE_ERROR, `storage I/O error (${String(code)}); nothing was changed`, {}, { cause: e });
    default:
      throw e;
  }
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

/** Rows per table (diagnostics and the growth benchmark; a COUNT per table, not on a hot path). */
export function tableRowCounts(db: Db): Record<string, number> {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
  return Object.fromEntries(tables.map((t) => [t.name, (db.prepare(`SELECT COUNT(*) AS n FROM "${t.name.replace(/"/g, '""')}"`).get() as { n: number }).n]));
}

/** Bytes the database file holds in pages in use (page_count - freelist_count), and its file size. */
export function databaseBytes(db: Db): { used: number; file: number } {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return { used: (pages - free) * pageSize, file: pages * pageSize };
}

/** Bytes of pages per table, its indexes included (SQLite's dbstat; diagnostics and the growth benchmark). */
export function tableBytes(db: Db): Record<string, number> {
  const rows = db
    .prepare<[], { tbl: string; bytes: number }>("SELECT COALESCE(m.tbl_name, s.name) AS tbl, SUM(s.pgsize) AS bytes FROM dbstat s LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY tbl ORDER BY tbl")
    .all();
  return Object.fromEntries(rows.map((r) => [r.tbl, r.bytes]));
}
