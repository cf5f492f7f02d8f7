// Power cut (SIGKILL) at every step of the release switch and of the rollback: the next start's
// boot guard must leave `current` on a complete release that comes up, with the update state
// telling the truth (a trial still counted, or the rollback finished with its reason, once).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { beginTrial, CURRENT_LINK, currentVersion, onStart, readState, releaseDir, RELEASE_ENTRY } from '../../src/update/bootGuard.js';
import { packageRoot } from '../../src/packageRoot.js';
import { writeFakeRelease } from '../support/fakeRelease.js';

const tsx = createRequire(import.meta.url).resolve('tsx');
const driver = join(packageRoot(), 'test', 'support', 'switchDriver.ts');
const T0 = 1_790_000_000_000;
const dirs: string[] = [];

function freshRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'lockerd-powercut-'));
  dirs.push(root);
  writeFakeRelease(releaseDir(root, '1.0.0'), '1.0.0', 'ready');
  writeFakeRelease(releaseDir(root, '1.1.0'), '1.1.0', 'ready');
  mkdirSync(join(root, 'releases'), { recursive: true });
  symlinkSync(join('releases', '1.0.0'), join(root, CURRENT_LINK));
  return root;
}

/** Runs the switch or the rollback in a child that SIGKILLs itself at the failpoint. */
function cutAt(root: string, op: 'switch' | 'rollback', failpoint: string): string | null {
  const r = spawnSync(process.execPath, ['--import', tsx, driver, root, op, failpoint, '1.1.0', String(T0)], { encoding: 'utf8', timeout: 30_000 });
  if (r.signal === null && r.status !== 0) throw new Error(`driver failed: ${r.stderr}`);
  return r.signal;
}

/** Starts what `current` points at, as the supervisor would, and waits for its ready line. */
async function comesUp(root: string): Promise<string> {
  const entry = realpathSync(join(root, CURRENT_LINK, RELEASE_ENTRY));
  const proc = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    return await new Promise<string>((resolve, reject) => {
      let out = '';
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^lockerd fake-(\S+) is running/m.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      proc.once('exit', (code) => reject(new Error(`the release exited (${code}) before it was ready`)));
    });
  } finally {
    proc.kill('SIGKILL');
  }
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a power cut during the switch leaves a locker that comes up on a good release', () => {
  const cases: { failpoint: string; up: string; trial: boolean }[] = [
    { failpoint: 'trial-written', up: '1.0.0', trial: false },
    { failpoint: 'link-created', up: '1.0.0', trial: false },
    { failpoint: 'link-renamed', up: '1.1.0', trial: true },
    { failpoint: 'none', up: '1.1.0', trial: true },
  ];
  for (const c of cases) {
    it(`cut after ${c.failpoint}: comes up on ${c.up}`, async () => {
      const root = freshRoot();
      expect(cutAt(root, 'switch', c.failpoint)).toBe(c.failpoint === 'none' ? null : 'SIGKILL');
      const guard = onStart(root, T0 + 1_000);
      expect(readdirSync(root).filter((n) => n.includes('.tmp'))).toEqual([]);
      expect(currentVersion(root)).toBe(c.up);
      expect(await comesUp(root)).toBe(c.up);
      const state = readState(root);
      if (c.trial) {
        expect(guard.action).toBe('counted');
        expect(state.trial).toMatchObject({ version: '1.1.0', previous: '1.0.0', boots: 1 });
      } else {
        // The switch never happened: no trial is left to count, and the operator hears why.
        expect(state.trial).toBeUndefined();
        expect(state.outcomes).toEqual([expect.objectContaining({ kind: 'rolled_back', version: '1.1.0', reason: 'switch_interrupted' })]);
      }
    });
  }
});

describe('a power cut during a rollback still ends on the previous release, with the reason', () => {
  for (const failpoint of ['rollback-marked', 'link-created', 'link-renamed', 'rollback-written']) {
    it(`cut after ${failpoint}`, async () => {
      const root = freshRoot();
      beginTrial(root, { id: 'upd-1', version: '1.1.0', now: T0, windowMs: 60_000, maxBoots: 3 });
      expect(cutAt(root, 'rollback', failpoint)).toBe('SIGKILL');
      onStart(root, T0 + 1_000);
      expect(currentVersion(root)).toBe('1.0.0');
      expect(await comesUp(root)).toBe('1.0.0');
      const state = readState(root);
      expect(state.trial).toBeUndefined();
      expect(state.outcomes.filter((o) => o.kind === 'rolled_back')).toEqual([expect.objectContaining({ version: '1.1.0', from: '1.0.0', reason: 'boot_limit' })]);
      // A second start changes nothing.
      expect(onStart(root, T0 + 2_000).action).toBe('none');
      expect(readState(root).outcomes).toHaveLength(1);
    });
  }
});

describe('leftovers of a cut download or unpack', () => {
  it('are removed at the next start, and a dangling current link is pointed at the last committed release', async () => {
    const root = freshRoot();
    mkdirSync(join(root, 'releases', '.unpack-1.2.0-abcd', 'dist'), { recursive: true });
    rmSync(join(root, CURRENT_LINK));
    symlinkSync(join('releases', '9.9.9'), join(root, CURRENT_LINK));
    const guard = onStart(root, T0);
    expect(readdirSync(join(root, 'releases')).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(guard.action).toBe('repaired');
    expect(['1.0.0', '1.1.0']).toContain(currentVersion(root));
    expect(await comesUp(root)).toBe(currentVersion(root));
  });
});
