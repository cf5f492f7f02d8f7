// The fleet's bounds: open files per locker process (and the refusal when the limit cannot be raised), memory per locker.
import { describe, expect, it } from 'vitest';
import { MEMORY_PER_LOCKER_BOUND, checkFleetMemory } from '../../../fleet/fleetSimulation.js';
import { FILES_BASE, FILES_PER_LOCKER, ensureOpenFiles, filesNeeded, openFileLimit } from '../../../fleet/openFiles.js';

describe('fleet open files', () => {
  it('counts four descriptors per locker (database, -wal, -shm, socket) above the base', () => {
    expect(FILES_PER_LOCKER).toBe(4);
    expect(filesNeeded(2_500)).toBe(10_000 + FILES_BASE);
  });

  it('leaves a limit that is high enough alone', () => {
    const calls: string[][] = [];
    const now = openFileLimit();
    expect(ensureOpenFiles(16, (_f, a) => calls.push(a))).toEqual(now);
    expect(calls).toEqual([]);
  });

  it('asks prlimit for this process and refuses, saying what to do, when the limit stays too low', () => {
    const calls: { file: string; args: string[] }[] = [];
    const need = openFileLimit().soft + 1;
    expect(() => ensureOpenFiles(need, (file, args) => calls.push({ file, args }))).toThrow(/needs \d+ open files .*--processes/);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.file).toBe('prlimit');
    expect(calls[0]?.args).toEqual(['--pid', String(process.pid), expect.stringMatching(new RegExp(`^--nofile=${need}:`))]);
  });
});

describe('fleet memory bound', () => {
  it('refuses a fleet that would not fit the available memory at the per-locker bound', () => {
    expect(() => checkFleetMemory(1_000, 4 * 2 ** 30)).not.toThrow();
    expect(() => checkFleetMemory(10_000, 4 * 2 ** 30)).toThrow(/10000 lockers may need up to 12\.2 GiB .* 4\.0 GiB is available/);
    expect(MEMORY_PER_LOCKER_BOUND).toBe(1.25 * 2 ** 20);
  });
});
