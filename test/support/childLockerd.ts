// lockerd as a child process, for the power-cut scenarios: spawn it on a config (tsx, no build
// needed), kill or stop it, edit the simulated world file while it is down, and read its
// database from outside (read-only, through the store-backed reader).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type LockerConfig } from '../../src/config/schema.js';
import { packageRoot } from '../../src/packageRoot.js';
import { type SimPosition } from '../../sim/world.js';
import { freePort } from './freePort.js';
import { waitFor } from './polling.js';
import { StoreReader } from './storeReader.js';

export interface ChildLockerd {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the child wrote on stdout and stderr (for failure messages). */
  output(): string;
  /** Power cut: SIGKILL, resolves when the process is gone. */
  kill(): Promise<void>;
  /** Orderly stop: SIGTERM, resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Writes `config` to <dataDir>/lockerd.json and runs `lockerd start --config <file> --sim
 * --port <port>` in a child process (tsx, no build needed); resolves once /api/health answers.
 */
export async function spawnLockerd(config: LockerConfig, port: number, timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): Promise<ChildLockerd> {
  const file = join(config.dataDir, 'lockerd.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'start', '--config', file, '--sim', '--port', String(port)], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test', ...env },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const url = `http://127.0.0.1:${port}`;
  const gone = (signal: NodeJS.Signals) => async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await waitFor(
      'the child lockerd to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`lockerd exited with ${child.exitCode}: ${out}`);
        const r = await fetch(`${url}/api/health`).catch(() => undefined);
        return r?.status === 200;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    await gone('SIGKILL')();
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return { url, process: child, output: () => out, kill: gone('SIGKILL'), stop: gone('SIGTERM') };
}

/** The simulated world file lockerd keeps in its data folder (the physical locker). */
export interface WorldFileLock {
  position: SimPosition;
  latched: boolean;
  doorOpen: boolean;
  itemPresent: boolean;
  jammed: boolean;
}

export async function readWorldFile(dataDir: string): Promise<{ locks: WorldFileLock[]; silentBoards: string[]; scannerPlugged: boolean }> {
  return JSON.parse(await readFile(join(dataDir, 'sim-world.json'), 'utf8')) as { locks: WorldFileLock[]; silentBoards: string[]; scannerPlugged: boolean };
}

/** Changes one lock in the world file while lockerd is down (what a person did meanwhile). */
export async function editWorldLock(dataDir: string, position: SimPosition, change: Partial<Omit<WorldFileLock, 'position'>>): Promise<void> {
  const world = await readWorldFile(dataDir);
  const lock = world.locks.find((l) => l.position.bus === position.bus && l.position.board === position.board && l.position.lock === position.lock);
  if (!lock) throw new Error(`no lock at ${JSON.stringify(position)} in the world file`);
  Object.assign(lock, change);
  await writeFile(join(dataDir, 'sim-world.json'), JSON.stringify(world));
}

/** Opens lockerd's database from outside the process (read-only; WAL lets it run alongside). */
export function openDbReadOnly(dataDir: string): { read: StoreReader; close: () => void } {
  const db = new Database(join(dataDir, 'lockerd.db'), { readonly: true, fileMustExist: true });
  return { read: new StoreReader(db), close: () => db.close() };
}

/** A scratch data folder for a lockerd run in a child process. */
export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lockerd-it-'));
}

/** Child lockerd processes and their data folders for one test file; cleanup() after each test. */
export function childLockerds(): { start(config: LockerConfig): Promise<ChildLockerd>; dataDir(): Promise<string>; cleanup(): Promise<void> } {
  const children: ChildLockerd[] = [];
  const dirs: string[] = [];
  return {
    async start(config) {
      const child = await spawnLockerd(config, await freePort());
      children.push(child);
      return child;
    },
    async dataDir() {
      const d = await tempDataDir();
      dirs.push(d);
      return d;
    },
    async cleanup() {
      for (const c of children.splice(0)) await c.kill();
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}
