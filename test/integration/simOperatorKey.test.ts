// `lockerd start --sim --operator-key FILE`: the demo trusts an operator key of lockerctl
// keygen beside its own (the README's provisioning walk-through, run for real by
// test/interop/readmeWalkthrough.test.ts). Here: what it refuses, with a clear message.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';

const run = promisify(execFile);
const lockerd = [process.execPath, '--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts')] as const;

async function start(args: string[]): Promise<{ code: number; err: string }> {
  try {
    await run(lockerd[0], [...lockerd.slice(1), 'start', ...args], { cwd: packageRoot(), timeout: 25_000 });
    return { code: 0, err: '' };
  } catch (e) {
    const x = e as { code?: number; stderr?: string };
    return { code: x.code ?? -1, err: x.stderr ?? '' };
  }
}

describe('lockerd start --operator-key', () => {
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-opkey-'));
    const sim = JSON.parse(await readFile(join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json'), 'utf8')) as Record<string, unknown>;
    config = join(dir, 'lockerd.json');
    await writeFile(config, JSON.stringify({ ...sim, dataDir: join(dir, 'data'), kiosk: { port: 0 }, metrics: { port: null }, logLevel: 'silent' }));
    await writeFile(join(dir, 'not-a-key.json'), JSON.stringify({ signingKey: { kty: 'OKP', crv: 'X25519', x: 'a'.repeat(43) } }));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is refused without --sim: a real locker trusts the keys of its config', async () => {
    const r = await start(['--config', config, '--operator-key', join(dir, 'not-a-key.json')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--operator-key is for the demo (--sim)');
  });

  it('refuses a file that is no public Ed25519 key, and a missing file, before anything starts', async () => {
    const bad = await start(['--sim', '--config', config, '--operator-key', join(dir, 'not-a-key.json')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('is not a public key document {signingKey} nor a public Ed25519 JWK');
    const missing = await start(['--sim', '--config', config, '--operator-key', join(dir, 'nope.json')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('--operator-key: cannot read');
    // Nothing was made: no demo keys, no identity, no database.
    expect(await readdir(dir)).toEqual(['lockerd.json', 'not-a-key.json']);
  });
});
