// The fleet's open-files arithmetic and the refusal when the limit cannot be raised.
import { describe, expect, it } from 'vitest';
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
