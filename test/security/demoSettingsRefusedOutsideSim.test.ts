// Attack: a careless operator ships a configuration that still carries demo settings or the
// example's placeholder keys, or opens the kiosk to the whole network without saying so.
// Before: `demo.revealCodes: true` worked without --sim (pickup codes in local API replies),
// `check-config` passed a file holding the examples' PLACEHOLDER keys, and `kiosk.host:
// "0.0.0.0"` was accepted silently. Now both `lockerd check-config` and `lockerd start` refuse
// such a file with CONFIG_INVALID naming the path, and a kiosk beyond loopback needs
// `kiosk.exposeBeyondLoopback: true` and logs a warning at start. Runs the real CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '../../src/crypto/keys.js';
import { packageRoot } from '../../src/packageRoot.js';
import { demoConfigInput } from '../support/demoLocker.js';

interface CliRun {
  code: number | null;
  out: string;
  /** true when the child printed its "is running" banner (it was then stopped with SIGTERM). */
  ran: boolean;
}

/** Runs `lockerd <args>` through tsx; a `start` that comes up is stopped once its banner shows. */
async function lockerd(args: string[], timeoutMs = 30_000): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), ...args], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let out = '';
  let ran = false;
  const onData = (b: Buffer): void => {
    out += b.toString('utf8');
    if (!ran && / is running/.test(out) && /Ctrl-C stops it/.test(out)) {
      ran = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out, ran };
}

let dir: string;
let production: Record<string, unknown>;

async function writeConfig(name: string, config: Record<string, unknown>): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockerd-demo-settings-'));
  // A production-like file: the simulator's hardware (so it can start here), real public keys,
  // no demo settings, a kiosk on loopback.
  const { mqtt: _mqtt, demo: _demo, ...base } = demoConfigInput();
  const carriers = await Promise.all(
    (base.carriers as Record<string, unknown>[]).map(async (c) => ({
      ...c,
      signingKeys: [(await generateSigningKeyPair()).publicJwk],
      encryptionKey: (await generateEncryptionKeyPair()).publicJwk,
    })),
  );
  production = {
    ...base,
    dataDir: join(dir, 'data'),
    logLevel: 'info',
    carriers,
    operator: { id: 'operator', signingKeys: [(await generateSigningKeyPair()).publicJwk] },
    kiosk: { host: '127.0.0.1', port: 0 },
  };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('demo settings, placeholder keys and an exposed kiosk are refused outside --sim', () => {
  it('the production-like control file passes check-config', async () => {
    const r = await lockerd(['check-config', '--config', await writeConfig('ok.json', production)]);
    expect(r.out).toContain('valid');
    expect(r.code).toBe(0);
  });

  it('check-config refuses the shipped CU48 example: it still holds placeholder keys', async () => {
    const r = await lockerd(['check-config', '--config', join(packageRoot(), 'deploy', 'examples', 'lockerd.cu48.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('CONFIG_INVALID');
    for (const path of ['carriers.0.signingKeys.0.x', 'carriers.0.encryptionKey.x', 'carriers.1.signingKeys.0.x', 'operator.signingKeys.0.x']) expect(r.out).toContain(`${path}:`);
  });

  it('start refuses a file with a placeholder key and never comes up', async () => {
    const example = JSON.parse(await readFile(join(packageRoot(), 'deploy', 'examples', 'lockerd.cu48.json'), 'utf8')) as { operator: unknown };
    const file = await writeConfig('placeholder.json', { ...production, operator: example.operator });
    const r = await lockerd(['start', '--config', file, '--port', '0']);
    expect(r.ran).toBe(false);
    expect(r.code).toBe(1);
    expect(r.out).toContain('CONFIG_INVALID');
    expect(r.out).toContain('operator.signingKeys.0.x:');
  });

  it('check-config and start refuse demo.revealCodes: true', async () => {
    const file = await writeConfig('reveal.json', { ...production, demo: { revealCodes: true } });
    const check = await lockerd(['check-config', '--config', file]);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/CONFIG_INVALID[\s\S]*demo\.revealCodes:/);
    const start = await lockerd(['start', '--config', file, '--port', '0']);
    expect(start.ran).toBe(false);
    expect(start.code).toBe(1);
    expect(start.out).toMatch(/CONFIG_INVALID[\s\S]*demo\.revealCodes:/);
  });

  it('the demo file itself is fine for the simulator: check-config --sim accepts it', async () => {
    const r = await lockerd(['check-config', '--sim', '--config', join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json')]);
    expect(r.out).toContain('valid');
    expect(r.code).toBe(0);
  });

  it('a kiosk on 0.0.0.0 is refused unless kiosk.exposeBeyondLoopback is set', async () => {
    const file = await writeConfig('exposed.json', { ...production, kiosk: { host: '0.0.0.0', port: 0 } });
    const check = await lockerd(['check-config', '--config', file]);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/CONFIG_INVALID[\s\S]*kiosk\.host:/);
    const start = await lockerd(['start', '--config', file, '--port', '0']);
    expect(start.ran).toBe(false);
    expect(start.code).toBe(1);
    expect(start.out).toMatch(/CONFIG_INVALID[\s\S]*kiosk\.host:/);
  });

  it('with kiosk.exposeBeyondLoopback: true it starts, and says so in check-config and in the log', async () => {
    const file = await writeConfig('exposed-on-purpose.json', { ...production, kiosk: { host: '0.0.0.0', port: 0, exposeBeyondLoopback: true } });
    const check = await lockerd(['check-config', '--config', file]);
    expect(check.code).toBe(0);
    expect(check.out).toMatch(/warning: .*kiosk.*0\.0\.0\.0/i);
    const start = await lockerd(['start', '--config', file, '--port', '0', '--first-boot']);
    expect(start.ran).toBe(true);
    const warnings = start.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; host?: string })
      .filter((l) => l.level === 40 && l.host === '0.0.0.0');
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringMatching(/beyond loopback/)]);
  });
});
