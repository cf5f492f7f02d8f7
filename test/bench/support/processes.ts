// Child processes for the memory and cold-start figures: the real lockerd command line started
// as systemd would start it, its readiness seen from outside (the "lockerd ready" log line and
// the first 200 from /api/health), and its memory as the kernel reports it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../../src/packageRoot.js';
import { freePort } from '../../support/freePort.js';
export { freePort };

export interface ProcMemory {
  rss: number;
  /** Peak RSS of the process so far. */
  hwm: number;
  anon: number;
  file: number;
  shmem: number;
}

/** VmRSS and friends from /proc/<pid>/status, in bytes. */
export function procMemory(pid: number): ProcMemory {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m?.[1] ? Number(m[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile'), shmem: kb('RssShmem') };
}


/** CPU time (user + system) the process has used so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) in parentheses: utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface StartedProcess {
  child: ChildProcess;
  pid: number;
  /** Spawn -> the "lockerd ready" log line (ms). */
  readyMs: number;
  /** Spawn -> first 200 from /api/health (ms). */
  healthMs: number;
  /** RSS read when the "lockerd ready" line arrived (before /api/health had been answered, as a rule). */
  rssAtReady: number;
  url: string;
  stop(): Promise<void>;
}

export async function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => child.once('exit', () => resolve()));
}

/** `node dist/src/cli/lockerd.js start --config FILE --port N (--sim | --first-boot)`, timed from spawn. */
export async function startLockerdProcess(configFile: string, o: { sim: boolean; timeoutMs?: number; nodeArgs?: string[]; env?: Record<string, string>; entry?: string }): Promise<StartedProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // The entry systemd runs; o.entry (a path under dist/) to compare another build of the same code.
  const cli = o.entry ?? join(packageRoot(), 'dist', 'src', 'cli', 'lockerd.js');
  const t0 = performance.now();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), cli, 'start', '--config', configFile, '--port', String(port), ...(o.sim ? ['--sim'] : ['--first-boot'])], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } });
  const stderr: string[] = [];
  child.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  let readyMs: number | undefined;
  let rssAtReady = 0;
  const ready = new Promise<void>((resolve) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (readyMs === undefined && line.startsWith('{') && line.includes('"lockerd ready"')) {
        readyMs = performance.now() - t0;
        if (child.pid !== undefined) rssAtReady = procMemory(child.pid).rss;
        resolve();
      }
    });
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`lockerd exited with ${String(code)} before it was ready: ${stderr.join('').slice(-2000)}`))));
  exited.catch(() => undefined);
  const deadline = t0 + (o.timeoutMs ?? 30_000);
  let healthMs: number | undefined;
  const health = (async () => {
    while (performance.now() < deadline) {
      try {
        const res = await fetch(`${url}/api/health`);
        await res.arrayBuffer();
        if (res.status === 200) {
          healthMs = performance.now() - t0;
          return;
        }
      } catch {
        // not listening yet
      }
      await sleep(5);
    }
    throw new Error('lockerd did not answer /api/health with 200 in time');
  })();
  await Promise.race([Promise.all([ready, health]), exited]);
  if (readyMs === undefined || healthMs === undefined || child.pid === undefined) throw new Error('lockerd did not start');
  const pid = child.pid;
  return {
    child,
    pid,
    readyMs,
    healthMs,
    rssAtReady,
    url,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await waitExit(child);
      clearTimeout(killer);
    },
  };
}

/** A bare Node process that does nothing: what Node itself costs in start time and memory. */
export async function startBareNode(): Promise<{ readyMs: number; pid: number; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', "process.stdout.write('up\\n'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const readyMs = performance.now() - t0;
  if (child.pid === undefined) throw new Error('no pid');
  return {
    readyMs,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child);
    },
  };
}
