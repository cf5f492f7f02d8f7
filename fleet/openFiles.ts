// Open file descriptors of the fleet's processes. A simulated locker holds four: its SQLite
// database in WAL mode keeps three open (the file, -wal and -shm) and its MQTT connection one
// socket; the broker holds one socket per locker. Linux's default soft limit (1,024) is far
// below what thousands of lockers need, so the orchestrator raises its own limit before it
// forks the locker processes (they inherit it), with prlimit(1) (util-linux): up to the hard
// limit as any user, beyond it only with CAP_SYS_RESOURCE (root on a host; a container's root
// often lacks it). A limit that cannot be raised is refused up front with what to do, instead
// of EMFILE half-way through connecting.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Descriptors one simulated locker holds: database, -wal, -shm, MQTT socket. */
export const FILES_PER_LOCKER = 4;
/** Descriptors of the process itself (node, IPC, stdio, libuv, fleet bookkeeping) with room to spare. */
export const FILES_BASE = 128;

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

function parseLimit(v: string | undefined): number {
  if (v === undefined) return Number.NaN;
  return v === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v);
}

/** "Max open files" of a process (this one by default), from /proc/<pid>/limits. */
export function openFileLimit(pid: number | 'self' = 'self'): OpenFileLimit {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line?.replace('Max open files', '').trim().split(/\s+/) ?? [];
  return { soft: parseLimit(soft), hard: parseLimit(hard) };
}

/** Descriptors this process has open now. */
export function openFileCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Descriptors a process running `lockers` simulated lockers needs. */
export function filesNeeded(lockers: number): number {
  return lockers * FILES_PER_LOCKER + FILES_BASE;
}

/**
 * Raises this process's open-files limit to at least `need` (children forked afterwards inherit
 * it). Returns the limit in force; throws when it stays below `need`.
 */
export function ensureOpenFiles(need: number, run: (file: string, args: string[]) => void = (f, a) => execFileSync(f, a, { stdio: 'ignore' })): OpenFileLimit {
  const now = openFileLimit();
  if (now.soft >= need) return now;
  const hard = Math.max(now.hard, need);
  try {
    run('prlimit', ['--pid', String(process.pid), `--nofile=${need}:${Number.isFinite(hard) ? hard : 'unlimited'}`]);
  } catch {
    // checked below
  }
  const after = openFileLimit();
  if (after.soft < need) {
    throw new Error(
      `the fleet needs ${need} open files per process but the limit is ${after.soft} (hard ${after.hard}) and prlimit could not raise it: ` +
        `start it with a higher hard limit (ulimit -Hn ${need}, LimitNOFILE= in a unit, or CAP_SYS_RESOURCE), or spread the lockers over more --processes`,
    );
  }
  return after;
}
