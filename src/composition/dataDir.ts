// The data folder holds the database (pickup code digests, audit, outbox), the locker's private
// keys and code secret, and the demo keys: readable by the lockerd user only, whatever the
// umask the process was started with. The process umask becomes 077 before anything is created,
// so SQLite's -wal, -shm and -journal files, temporary files and anything written later are
// born private; what already exists (an old 0755 folder, a restored 0644 database) is
// tightened at every start, and said so in the log.
import { chmod, lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';

export const DATA_DIR_MODE = 0o700;
export const DATA_FILE_MODE = 0o600;

/** Entries looked at per start; a data folder holds a handful, so this only bounds a mistake. */
const MAX_ENTRIES = 10_000;
const MAX_DEPTH = 8;

/** Sets the process umask to 077; a no-op where the platform refuses (worker threads). */
export function restrictUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // Worker threads cannot change the umask; every file is still chmodded below.
  }
}

/**
 * Creates the data folder if needed and makes it and everything in it private: folders 0700,
 * files 0600 (execute and group/other bits removed). Symbolic links inside are left alone: they
 * are not followed, so a link cannot make lockerd chmod a file outside the folder.
 */
export async function secureDataDir(dir: string, logger: Logger): Promise<void> {
  restrictUmask();
  await mkdir(dir, { recursive: true, mode: DATA_DIR_MODE });
  const tightened: string[] = [];
  let seen = 0;
  const visit = async (path: string, depth: number): Promise<void> => {
    if (++seen > MAX_ENTRIES) return;
    // The folder itself may be a link (e.g. /var/lib/lockerd -> /data/lockerd): followed once.
    const st = depth === 0 ? await stat(path) : await lstat(path);
    if (st.isSymbolicLink()) return;
    const wanted = st.isDirectory() ? DATA_DIR_MODE : DATA_FILE_MODE;
    const mode = st.mode & 0o777;
    if ((mode & ~wanted) !== 0) {
      try {
        await chmod(path, mode & wanted);
      } catch (e) {
        throw new LockerError(ErrorCodes.STORE_ERROR, `cannot make ${path} private (mode ${mode.toString(8)}): ${(e as Error).message}`, { path }, { cause: e });
      }
      tightened.push(relative(dir, path) || '.');
    }
    if (st.isDirectory() && depth < MAX_DEPTH) {
      for (const name of await readdir(path)) await visit(join(path, name), depth + 1);
    }
  };
  await visit(dir, 0);
  if (tightened.length > 0) {
    logger.warn({ dataDir: dir, count: tightened.length, entries: tightened.slice(0, 20) }, 'data folder entries were readable by others; tightened to 0700/0600');
  }
}
