// The boot guard's decisions on a real folder, with time passed in: a trial boot is counted at
// every start, rolled back over the limit or after its deadline, and ends with the commit of the
// new release itself; only the release on trial can commit it.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { beginTrial, check, commit, CURRENT_LINK, currentVersion, onStart, readState, releaseDir } from '../../../src/update/bootGuard.js';
import { writeFakeRelease } from '../../support/fakeRelease.js';

const T0 = 1_790_000_000_000;
const dirs: string[] = [];

function root(): string {
  const r = mkdtempSync(join(tmpdir(), 'lockerd-guard-'));
  dirs.push(r);
  for (const v of ['1.0.0', '1.1.0']) writeFakeRelease(releaseDir(r, v), v, 'ready');
  mkdirSync(join(r, 'releases'), { recursive: true });
  symlinkSync(join('releases', '1.0.0'), join(r, CURRENT_LINK));
  return r;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('boot guard', () => {
  it('counts trial boots and rolls back the start over the limit', () => {
    const r = root();
    beginTrial(r, { id: 'u1', version: '1.1.0', now: T0, windowMs: 60_000, maxBoots: 2 });
    expect(onStart(r, T0 + 1).action).toBe('counted');
    expect(onStart(r, T0 + 2).action).toBe('counted');
    expect(onStart(r, T0 + 3)).toMatchObject({ action: 'rolled_back', reason: 'boot_limit', version: '1.0.0' });
    expect(currentVersion(r)).toBe('1.0.0');
    expect(readState(r).outcomes).toEqual([expect.objectContaining({ kind: 'rolled_back', version: '1.1.0', from: '1.0.0', reason: 'boot_limit' })]);
  });

  it('rolls back a trial that did not commit by its deadline, at check or at the next start', () => {
    const r = root();
    beginTrial(r, { id: 'u1', version: '1.1.0', now: T0, windowMs: 60_000, maxBoots: 3 });
    onStart(r, T0 + 1);
    expect(check(r, T0 + 59_999).action).toBe('none');
    expect(check(r, T0 + 60_001)).toMatchObject({ action: 'rolled_back', reason: 'health_timeout' });
    expect(currentVersion(r)).toBe('1.0.0');

    const r2 = root();
    beginTrial(r2, { id: 'u2', version: '1.1.0', now: T0, windowMs: 60_000, maxBoots: 3 });
    expect(onStart(r2, T0 + 61_000)).toMatchObject({ action: 'rolled_back', reason: 'health_timeout' });
  });

  it('commits only for the release on trial, and then nothing rolls it back', () => {
    const r = root();
    beginTrial(r, { id: 'u1', version: '1.1.0', now: T0, windowMs: 60_000, maxBoots: 3 });
    onStart(r, T0 + 1);
    expect(commit(r, '1.0.0', T0 + 2)).toBe(false);
    expect(commit(r, '1.1.0', T0 + 2)).toBe(true);
    expect(readState(r)).toMatchObject({ committed: '1.1.0', outcomes: [expect.objectContaining({ kind: 'committed', version: '1.1.0' })] });
    expect(check(r, T0 + 10 * 60_000).action).toBe('none');
    expect(onStart(r, T0 + 10 * 60_000).action).toBe('none');
    expect(currentVersion(r)).toBe('1.1.0');
  });

  it('refuses to switch to a release that is not unpacked', () => {
    const r = root();
    expect(() => beginTrial(r, { id: 'u1', version: '2.0.0', now: T0, windowMs: 1, maxBoots: 1 })).toThrow(/not unpacked/);
    expect(currentVersion(r)).toBe('1.0.0');
  });
});
