import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/database.js';
import type { CommandReply } from '../../../src/sync/commandReply.js';
import { ReplayStore } from '../../../src/sync/replayStore.js';

const reply = (id: string, ok = true): CommandReply => ({ v: 1, id, ref: `ref-${id}`, locker: 'L1', cmd: 'inventory', ok, ts: 1, ...(ok ? { result: { n: 1 } } : { error: { code: 'CMD_FAILED', message: 'x' } }) });

describe('ReplayStore (command_log)', () => {
  let db: Db;
  let store: ReplayStore;

  beforeEach(() => {
    db = openDatabase(':memory:');
    store = new ReplayStore(db);
  });

  const entry = (jti: string, over: Partial<{ issuer: string; digest: string; expiresAt: number }> = {}) => ({
    issuer: over.issuer ?? 'operator',
    jti,
    cmd: 'inventory',
    digest: over.digest ?? `d-${jti}`,
    receivedAt: 100,
    expiresAt: over.expiresAt ?? 10_000,
  });

  it('a jti is unseen, then claimed exactly once', () => {
    expect(store.lookup('operator', 'j1', 'd-j1')).toEqual({ kind: 'unseen' });
    expect(store.claim(entry('j1'))).toBe(true);
    expect(store.claim(entry('j1'))).toBe(false);
    expect(store.size()).toBe(1);
  });

  it('the same token again is a retry: pending while running, then the stored reply', () => {
    store.claim(entry('j1'));
    expect(store.lookup('operator', 'j1', 'd-j1')).toEqual({ kind: 'retry', reply: null });
    store.complete('j1', 'd-j1', reply('j1'));
    expect(store.lookup('operator', 'j1', 'd-j1')).toEqual({ kind: 'retry', reply: reply('j1') });
  });

  it('the same jti in another token or from another issuer is a replay', () => {
    store.claim(entry('j1'));
    store.complete('j1', 'd-j1', reply('j1'));
    expect(store.lookup('operator', 'j1', 'a-different-token')).toEqual({ kind: 'replayed' });
    expect(store.lookup('acme', 'j1', 'd-j1')).toEqual({ kind: 'replayed' });
  });

  it('forgets entries whose expiry has passed, keeps the others', () => {
    store.claim(entry('old', { expiresAt: 1_000 }));
    store.claim(entry('new', { expiresAt: 5_000 }));
    expect(store.prune(999)).toBe(0);
    expect(store.prune(2_000)).toBe(1);
    expect(store.lookup('operator', 'old', 'd-old')).toEqual({ kind: 'unseen' });
    expect(store.lookup('operator', 'new', 'd-new').kind).toBe('retry');
  });

  it('survives a restart: claims persist, unfinished ones are settled as failed and never rerun', () => {
    store.claim(entry('done'));
    store.complete('done', 'd-done', reply('done'));
    store.claim(entry('running'));
    const after = new ReplayStore(db);
    const settled = after.settleInterrupted((jti) => reply(jti, false));
    expect(settled).toBe(1);
    expect(after.lookup('operator', 'running', 'd-running')).toEqual({ kind: 'retry', reply: reply('running', false) });
    expect(after.lookup('operator', 'done', 'd-done')).toEqual({ kind: 'retry', reply: reply('done') });
    expect(after.claim(entry('running'))).toBe(false);
  });

  it('treats a damaged row as a replay rather than running the command again', () => {
    db.prepare("INSERT INTO command_log (jti, issuer, cmd, received_at, expires_at, reply) VALUES ('bad', 'operator', 'x', 1, 99999, 'not json')").run();
    expect(store.lookup('operator', 'bad', 'whatever')).toEqual({ kind: 'replayed' });
  });
});
