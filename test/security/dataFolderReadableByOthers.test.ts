// Attack: another local user (or an unprivileged process on the controller) reads the data
// folder: the database holds code digests, the audit and the outbox, the identity folder the
// locker's private keys and code secret. Before: under umask 022 the database and its -wal and
// -shm files were created 0644, and an existing 0755 data folder stayed 0755. Now the folder is
// 0700 and every file in it 0600 whatever the umask, on a first start and after a restore with
// loose modes. Runs the real CLI in a child process started with umask 022.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';
import { freePort } from '../support/freePort.js';
import { demoConfigInput } from '../support/demoLocker.js';
import { waitFor } from '../support/lockerHarness.js';

let dir: string;
let dataDir: string;
let configFile: string;

/** `lockerd start --sim` under `umask 022`; resolves once /api/health answers. */
async function startUnderUmask022(): Promise<{ child: ChildProcess; url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const cli = join(packageRoot(), 'src', 'cli', 'lockerd.ts');
  const child = spawn('/bin/sh', ['-c', `umask 022 && exec "${process.execPath}" --import tsx "${cli}" start --sim --config "${configFile}" --port ${port}`], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'lockerd to answer',
    async () => {
      if (child.exitCode !== null) throw new Error(`lockerd exited with ${child.exitCode}: ${out}`);
      return (await fetch(`${url}/api/health`).catch(() => undefined))?.status === 200;
    },
    30_000,
    100,
  );
  return {
    child,
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every entry under the data folder with its permission bits, e.g. { 'identity/code-secret.bin': '600' }. */
async function modes(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path);
    out[relative(root, path) || '.'] = `${st.isDirectory() ? 'd' : ''}${(st.mode & 0o777).toString(8)}`;
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(root);
  return out;
}

function loose(m: Record<string, string>): string[] {
  return Object.entries(m)
    .filter(([, mode]) => mode !== (mode.startsWith('d') ? 'd700' : '600'))
    .map(([path, mode]) => `${path} ${mode}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockerd-modes-'));
  dataDir = join(dir, 'data');
  // A data folder made by hand (or an older version) with the usual 0755.
  await mkdir(dataDir);
  await chmod(dataDir, 0o755);
  const { mqtt: _mqtt, ...base } = demoConfigInput();
  configFile = join(dir, 'lockerd.json');
  await writeFile(configFile, JSON.stringify({ ...base, dataDir, logLevel: 'warn' }));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the data folder is private whatever the umask', () => {
  it('first start under umask 022: folder 0700, database, -wal, -shm, identity and demo keys 0600', async () => {
    const lockerd = await startUnderUmask022();
    try {
      // A write through the API, so the WAL holds data (an unknown code is still written: the attempt budget).
      await fetch(`${lockerd.url}/api/pickup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: '00000000' }) });
      const m = await modes(dataDir);
      for (const f of ['lockerd.db', 'lockerd.db-wal', 'lockerd.db-shm', 'identity/signing-key.jwk.json', 'identity/encryption-key.jwk.json', 'identity/code-secret.bin', 'demo-keys/demo-keys.json']) {
        expect(m[f], f).toBe('600');
      }
      expect(m['.']).toBe('d700');
      expect(loose(m)).toEqual([]);
    } finally {
      await lockerd.stop();
    }
  });

  it('a restart tightens what a careless restore left readable', async () => {
    const restored = ['lockerd.db', 'identity/code-secret.bin', 'identity/signing-key.jwk.json', 'demo-keys/demo-keys.json', 'identity/public-keys.json'];
    for (const f of restored) await chmod(join(dataDir, f), 0o644);
    for (const d of ['.', 'identity', 'demo-keys']) await chmod(join(dataDir, d), 0o755);
    await writeFile(join(dataDir, 'lockerd.db-journal'), '');
    await chmod(join(dataDir, 'lockerd.db-journal'), 0o644);
    const lockerd = await startUnderUmask022();
    try {
      expect(loose(await modes(dataDir))).toEqual([]);
    } finally {
      await lockerd.stop();
    }
  });
});
