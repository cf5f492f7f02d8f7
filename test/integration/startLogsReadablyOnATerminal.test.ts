// `npm start` on a terminal prints readable log lines, and JSON lines into a pipe (issue 12,
// section 3). lockerd start --sim runs as a real process: under script(1) for a pseudo-terminal,
// then with a plain pipe. Each run ends with SIGINT once "lockerd ready" has been logged.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';

let dir: string;
let configFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockerd-tty-'));
  const config = JSON.parse(readFileSync(join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json'), 'utf8')) as Record<string, unknown>;
  // No embedded broker (its fixed port may be taken); a data folder of its own.
  delete config.mqtt;
  configFile = join(dir, 'lockerd.json');
  writeFileSync(configFile, JSON.stringify({ ...config, dataDir: join(dir, 'data') }));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command in its own process group until `ready` appears in its output, then SIGINT. */
function runUntil(cmd: string, args: string[], ready: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.LOCKERD_LOG_FORMAT;
    delete env.LOCKERD_LOG_LEVEL;
    const child = spawn(cmd, args, { cwd: packageRoot(), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let signalled = false;
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!signalled && ready.test(out) && child.pid !== undefined) {
        signalled = true;
        process.kill(-child.pid, 'SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    // A bound, not a speed assertion: a run that never gets ready is stopped and fails.
    const bound = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }, 20_000);
    child.once('error', reject);
    child.once('exit', () => {
      clearTimeout(bound);
      if (signalled) resolve(out);
      else reject(new Error(`not ready:\n${out}`));
    });
  });
}

const lockerd = [join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'start', '--sim', '--port', '0'];

describe('lockerd start log format', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('prints readable lines to a terminal', async () => {
    const command = [process.execPath, '--import', 'tsx', ...lockerd, '--config', configFile].map((a) => `'${a}'`).join(' ');
    const out = await runUntil('/usr/bin/script', ['-qfec', command, '/dev/null'], /INFO +lockerd ready/);
    const lines = out.split(/\r?\n/);
    expect(lines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} INFO +\[serial\] opened sim:\/\/bus0/.test(l))).toBe(true);
    expect(lines.filter((l) => l.trim().startsWith('{"level"'))).toEqual([]);
  });

  it('prints JSON lines into a pipe', async () => {
    const out = await runUntil(process.execPath, ['--import', 'tsx', ...lockerd, '--config', configFile], /"msg":"lockerd ready"/);
    const json = out.split('\n').filter((l) => l.startsWith('{'));
    expect(json.length).toBeGreaterThan(0);
    for (const l of json) expect((JSON.parse(l) as { svc?: string }).svc).toBe('lockerd');
  });
});
