// `lockerd check-config` prints the keypad odds of the configured policy and refuses, with
// CODE_POLICY_WEAK and a non-zero exit, a policy above 0.1 % in 30 days.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { demoConfigInput } from '../../support/demoLocker.js';

function checkConfig(file: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'check-config', '--sim', '--config', file], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('lockerd check-config and the keypad odds', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-odds-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function write(name: string, codes: Record<string, unknown>): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, JSON.stringify({ ...demoConfigInput(), dataDir: dir, codes, demo: { revealCodes: false } }));
    return file;
  }

  it('prints the probability of the default policy and passes', async () => {
    const r = await checkConfig(await write('default.json', {}));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/keypad: 10-digit codes, burst 10, 60 tries\/h, up to 24 live codes: at most 43210 guesses in 30 days, P\(any door\) <= 0\.0104 %/);
    expect(r.out).toMatch(/: ok\n$/);
  });

  it('refuses 8-digit codes at the default rate, and too many live codes', async () => {
    const weak = await checkConfig(await write('weak.json', { length: 8 }));
    expect(weak.code).not.toBe(0);
    expect(weak.err).toMatch(/^CODE_POLICY_WEAK: keypad: 8-digit codes/);
    expect(weak.err).toMatch(/refillPerHour <= \d+\.\d\d/);
    const crowded = await checkConfig(await write('crowded.json', { maxLiveCodes: 5000 }));
    expect(crowded.code).not.toBe(0);
    expect(crowded.err).toMatch(/^CODE_POLICY_WEAK/);
  });
});
