import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secureDataDir } from '../../../src/composition/dataDir.js';
import { createLogger } from '../../../src/logger.js';
import { openDatabase } from '../../../src/store/database.js';

let root: string;
const mode = async (p: string): Promise<string> => ((await stat(p)).mode & 0o777).toString(8);

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockerd-datadir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('secureDataDir', () => {
  it('tightens folders to 0700 and files to 0600, says which, and keeps stricter modes', async () => {
    const data = join(root, 'data');
    await mkdir(join(data, 'identity'), { recursive: true });
    await writeFile(join(data, 'lockerd.db'), '');
    await writeFile(join(data, 'identity', 'code-secret.bin'), '');
    await writeFile(join(data, 'readonly'), '');
    await chmod(join(data, 'lockerd.db'), 0o664);
    await chmod(join(data, 'identity', 'code-secret.bin'), 0o755);
    await chmod(join(data, 'readonly'), 0o400);
    await chmod(join(data, 'identity'), 0o755);
    await chmod(data, 0o755);
    const lines: { msg: string; entries?: string[] }[] = [];
    await secureDataDir(data, createLogger({ level: 'warn', destination: { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) } }));
    expect(await mode(data)).toBe('700');
    expect(await mode(join(data, 'identity'))).toBe('700');
    expect(await mode(join(data, 'lockerd.db'))).toBe('600');
    expect(await mode(join(data, 'identity', 'code-secret.bin'))).toBe('600');
    expect(await mode(join(data, 'readonly'))).toBe('400');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.entries?.sort()).toEqual(['.', 'identity', 'identity/code-secret.bin', 'lockerd.db']);
  });

  it('does not follow a symbolic link out of the folder', async () => {
    const outside = join(root, 'outside.txt');
    await writeFile(outside, '');
    await chmod(outside, 0o644);
    const data = join(root, 'data');
    await mkdir(data);
    await symlink(outside, join(data, 'link'));
    await secureDataDir(data, createLogger({ level: 'silent' }));
    expect(await mode(outside)).toBe('644');
  });

  it('follows the data folder itself when it is a link', async () => {
    const real = join(root, 'real');
    await mkdir(real);
    await chmod(real, 0o755);
    await symlink(real, join(root, 'data'));
    await secureDataDir(join(root, 'data'), createLogger({ level: 'silent' }));
    expect(await mode(real)).toBe('700');
  });

  it('openDatabase makes a new database and its -wal and -shm 0600, and tightens an existing one', async () => {
    const file = join(root, 'x.db');
    const before = process.umask(0o022);
    try {
      const db = openDatabase(file);
      db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(await mode(f), f).toBe('600');
      db.close();
    } finally {
      process.umask(before);
    }
    await chmod(file, 0o644);
    openDatabase(file).close();
    expect(await mode(file)).toBe('600');
  });
});
