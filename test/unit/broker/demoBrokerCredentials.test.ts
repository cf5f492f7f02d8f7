import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateBrokerCredentials } from '../../../src/broker/demoBrokerCredentials.js';
import { seededRandom } from '../../../kernel/random.js';

describe('demo broker credentials', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'lockerd-cred-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('makes one distinct password per principal and keeps them across starts', async () => {
    const file = join(dir(), 'creds.json');
    const first = await loadOrCreateBrokerCredentials(file, ['L1', 'operator', 'acme'], seededRandom(1));
    expect(new Set(Object.values(first)).size).toBe(3);
    const again = await loadOrCreateBrokerCredentials(file, ['L1', 'operator', 'acme', 'bolt'], seededRandom(2));
    expect(again).toMatchObject(first);
    expect(again.bolt).toBeDefined();
    expect(again.bolt).not.toBe(first.acme);
  });

  it('writes the file 0600 even when it existed with wider permissions', async () => {
    const file = join(dir(), 'creds.json');
    writeFileSync(file, 'damaged', { mode: 0o644 });
    const old = process.umask(0o000);
    try {
      await loadOrCreateBrokerCredentials(file, ['L1'], seededRandom(3));
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
