// The kiosk page's JavaScript is type-checked against the server's own view and event types
// (tsconfig.kiosk.json, checkJs) and linted: the page cannot compare a door session with a
// state the server never sends, nor call an API shape the server does not have.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';

const run = promisify(execFile);

describe('the kiosk page JavaScript', () => {
  it('type-checks against the shared view types (checkJs)', async () => {
    const tsc = join(packageRoot(), 'node_modules', 'typescript', 'bin', 'tsc');
    const out = await run(process.execPath, [tsc, '-p', 'tsconfig.kiosk.json'], { cwd: packageRoot() }).then(
      () => '',
      (e: { stdout?: string }) => e.stdout ?? 'tsc failed',
    );
    expect(out).toBe('');
  }, 60_000);

  it('is linted', async () => {
    const eslint = new ESLint({ cwd: packageRoot() });
    const results = await eslint.lintFiles(['src/kiosk/public/*.js']);
    expect(results.length).toBeGreaterThan(5);
    expect(results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.ruleId}: ${m.message}`))).toEqual([]);
  }, 60_000);
});
