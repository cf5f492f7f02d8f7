// lockerd as a child process for the fault suite: started from the built dist when it is there
// and current (a cold start is several times faster than through tsx), otherwise through tsx.
// The suite only ever looks at it from outside: its kiosk HTTP API, its data folder and the
// broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LockerConfig } from '../../src/config/schema.js';
import { packageRoot } from '../../src/packageRoot.js';
import { sleep } from '../support/polling.js';

export type Runner = 'dist' | 'tsx';

/** dist when dist/src/cli/lockerd.js exists and is newer than src/cli/lockerd.ts, else tsx. */
export function defaultRunner(): Runner {
  const built = join(packageRoot(), 'dist', 'src', 'cli', 'lockerd.js');
  const source = join(packageRoot(), 'src', 'cli', 'lockerd.ts');
  if (!existsSync(built)) return 'tsx';
  return statSync(built).mtimeMs >= statSync(source).mtimeMs ? 'dist' : 'tsx';
}

export interface LockerdProcess {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  /** True once the process is gone. */
  exited(): boolean;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Power cut: SIGKILL, resolves when the process is gone. */
  kill(): Promise<void>;
  /** Orderly stop: SIGTERM, resolves when the process is gone. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  runner?: Runner;
  /** Extra environment (e.g. LD_PRELOAD/FAKETIME for libfaketime). */
  env?: Record<string, string>;
  /** A command to prefix (e.g. ['faketime', '-f', '+1h']). */
  wrapper?: string[];
  /** Arguments instead of `start --config <file> --sim --port <port>`. */
  args?: string[];
}

/** Writes `config` to <dataDir>/lockerd.json and starts `lockerd start --sim` on it; does not wait. */
export async function spawnLockerdProcess(config: LockerConfig, port: number, o: SpawnOptions = {}): Promise<LockerdProcess> {
  const file = join(config.dataDir, 'lockerd.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  const runner = o.runner ?? defaultRunner();
  const entry = runner === 'dist' ? [join(packageRoot(), 'dist', 'src', 'cli', 'lockerd.js')] : ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts')];
  const args = [...entry, ...(o.args ?? ['start', '--config', file, '--sim', '--port', String(port)])];
  const [cmd, ...pre] = o.wrapper ?? [];
  const child = cmd ? spawn(cmd, [...pre, process.execPath, ...args], spawnOpts(o)) : spawn(process.execPath, args, spawnOpts(o));
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString('utf8');
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = true;
      resolve({ code, signal });
    });
  });
  const end = (signal: NodeJS.Signals) => async (): Promise<void> => {
    if (!gone) child.kill(signal);
    await exit;
  };
  return { url: `http://127.0.0.1:${port}`, child, output: () => out, exited: () => gone, exit, kill: end('SIGKILL'), stop: end('SIGTERM') };
}

function spawnOpts(o: SpawnOptions): { cwd: string; stdio: ['ignore', 'pipe', 'pipe']; env: NodeJS.ProcessEnv } {
  return { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'test', ...(o.env ?? {}) } };
}

/** Polls /api/health until it answers at all (200 or 503: a degraded locker answers too). */
export async function waitForAnswer(p: LockerdProcess, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.exited()) throw new Error(`lockerd exited before answering:\n${p.output().slice(-4000)}`);
    const r = await fetch(`${p.url}/api/health`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    if (r) {
      await r.body?.cancel().catch(() => undefined);
      return r.status;
    }
    if (Date.now() > deadline) throw new Error(`lockerd did not answer within ${timeoutMs} ms:\n${p.output().slice(-4000)}`);
    await sleep(20);
  }
}
