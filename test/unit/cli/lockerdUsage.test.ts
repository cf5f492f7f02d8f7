// A command line mistake gets a coded usage error and exit 2, never a JavaScript stack trace
// (issue 12, section 3: `check-config` with no --config printed one).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';

function lockerd(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

describe('lockerd usage errors', () => {
  it.each([
    [['check-config'], /--config FILE is required/],
    [['doctor'], /--config FILE is required/],
    [['start'], /--config FILE is required \(or --sim/],
    [['check-config', '--confg', 'x.json'], /unknown option "--confg"/],
    [['check-config', '--config'], /--config needs a value/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j: USAGE_INVALID, the usage text, exit 2, no stack', async (args, message) => {
    const r = await lockerd(args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^USAGE_INVALID: /);
    expect(r.err).toMatch(message);
    expect(r.err).toContain('usage:');
    expect(r.err).not.toMatch(/^\s+at /m);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await lockerd(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('lockerd check-config --config FILE');
  });

  it('a configuration that cannot be read is CONFIG_INVALID with exit 1, without a stack', async () => {
    const r = await lockerd(['check-config', '--config', '/nonexistent/lockerd.json']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^CONFIG_INVALID: cannot read \/nonexistent\/lockerd.json: file not found/);
    expect(r.err).not.toMatch(/^\s+at /m);
  });
});
