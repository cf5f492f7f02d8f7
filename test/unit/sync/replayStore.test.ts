import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../../src/store/database.js';
import type { CommandReply } from '../../../src/sync/commandReply.js';
import { MAX_STORED_REPLY_BYTES, ReplayStore, compactReply, jtiKey } from '../../../src/sync/replayStore.js';

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

describe('ReplayStore bounds', () => {
  const entry = (jti: string, issuer = 'acme', expiresAt = 10_000) => ({ issuer, jti, cmd: 'createReservation', digest: `d-${jti}`, receivedAt: 100, expiresAt });

  it('keys rows on a digest of the jti, not the jti', () => {
    const db = openDatabase(':memory:');
    const store = new ReplayStore(db);
    const jti = 'J'.repeat(128);
    store.claim(entry(jti));
    const row = db.prepare<[], { jti: string }>('SELECT jti FROM command_log').get();
    expect(row?.jti).toBe(jtiKey(jti));
    expect(row?.jti.length).toBe(43);
    expect(store.lookup('acme', jti, `d-${jti}`)).toEqual({ kind: 'retry', reply: null });
  });

  it('refuses a new record past the per-issuer quota with CMD_RATE_LIMITED; other issuers and expired rows do not count', () => {
    const db = openDatabase(':memory:');
    const store = new ReplayStore(db, { quotaPerIssuer: 3 });
    store.claim(entry('old', 'acme', 50));
    for (const j of ['a1', 'a2', 'a3']) expect(store.claim(entry(j))).toBe(true);
    expect(() => store.claim(entry('a4'))).toThrow(/CMD_RATE_LIMITED/);
    expect(store.lookup('acme', 'a4', 'd-a4')).toEqual({ kind: 'unseen' });
    expect(store.claim(entry('b1', 'bolt'))).toBe(true);
    expect(store.liveOf('acme', 100)).toBe(3);
  });

  it('stores a large reply compactly: the outcome is kept, the bulky result is not', () => {
    const db = openDatabase(':memory:');
    const store = new ReplayStore(db);
    store.claim(entry('big'));
    const big: CommandReply = { v: 1, id: 'big', ref: 'd-big', locker: 'L1', cmd: 'listParcels', ok: true, ts: 1, result: { parcels: 'x'.repeat(50_000) } };
    store.complete('big', 'd-big', big);
    const row = db.prepare<[], { reply: string }>('SELECT reply FROM command_log').get();
    expect(Buffer.byteLength(row?.reply ?? '')).toBeLessThanOrEqual(MAX_STORED_REPLY_BYTES + 200);
    const again = store.lookup('acme', 'big', 'd-big');
    expect(again).toMatchObject({ kind: 'retry', reply: { id: 'big', ok: true, result: { omitted: true } } });
    expect(compactReply(reply('small'))).toEqual(reply('small'));
  });

  it('settles an interrupted command with its own jti, not the row key', () => {
    const db = openDatabase(':memory:');
    new ReplayStore(db).claim(entry('was-running'));
    const seen: string[] = [];
    new ReplayStore(db).settleInterrupted((jti) => {
      seen.push(jti);
      return reply(jti, false);
    });
    expect(seen).toEqual(['was-running']);
  });
});

describe('ReplayStore start-up pass (issue 10)', () => {
  /** The SQL of every statement the store runs through this handle. */
  function recording(db: Db): { db: Db; executed: string[] } {
    const executed: string[] = [];
    const wrapStatement = (sql: string, st: object): object =>
      new Proxy(st, {
        get(target, key) {
          const v: unknown = Reflect.get(target, key, target);
          if (typeof v !== 'function') return v;
          const f = v as (...a: unknown[]) => unknown;
          return (...a: unknown[]) => {
            if (key === 'all' || key === 'get' || key === 'run' || key === 'iterate') executed.push(sql);
            return f.apply(target, a);
          };
        },
      });
    const spy = new Proxy(db, {
      get(target, key) {
        const v: unknown = Reflect.get(target, key, target);
        if (key === 'prepare') return (sql: string) => wrapStatement(sql, target.prepare(sql));
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { db: spy, executed };
  }

  it('reads only the commands still without a reply, through an index, not every row', () => {
    const db = openDatabase(':memory:');
    const store = new ReplayStore(db, { quotaPerIssuer: 10_000 });
    for (let i = 0; i < 500; i++) {
      store.claim({ issuer: 'operator', jti: `done-${i}`, cmd: 'inventory', digest: `d${i}`, receivedAt: 100, expiresAt: 10_000 });
      store.complete(`done-${i}`, `d${i}`, reply(`done-${i}`));
    }
    store.claim({ issuer: 'operator', jti: 'was-running', cmd: 'inventory', digest: 'dr', receivedAt: 100, expiresAt: 10_000 });
    const { db: spy, executed } = recording(db);
    const seen: string[] = [];
    expect(
      new ReplayStore(spy).settleInterrupted((jti) => {
        seen.push(jti);
        return reply(jti, false);
      }),
    ).toBe(1);
    expect(seen).toEqual(['was-running']);
    const reads = executed.filter((sql) => /^\s*SELECT/i.test(sql));
    expect(reads.length).toBeGreaterThan(0);
    for (const sql of reads) {
      const plan = db.prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail);
      // A scan of the partial index reads only the unsettled rows; a scan of the table reads all.
      for (const step of plan.filter((d) => d.includes('command_log'))) expect(step).toMatch(/command_log_unsettled|^SEARCH/);
    }
    // Settled once: a second start finds nothing to do.
    expect(new ReplayStore(db).settleInterrupted((jti) => reply(jti, false))).toBe(0);
  });
});
