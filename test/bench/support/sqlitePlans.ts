// Query plans of the store's own prepared statements (read from the LockerStore instance, so
// they are exactly what runs), and the latency of bare durable commits on a file system.
import { join } from 'node:path';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { type LockerStore } from '../../../src/store/lockerStore.js';
import { summarise, type Summary } from './stats.js';

export interface PlanLine {
  statement: string;
  plan: string;
  /** True when some step scans a whole table instead of searching an index. */
  fullScan: boolean;
}

export function storePlans(store: LockerStore, names: readonly string[]): PlanLine[] {
  const stmts: unknown = Reflect.get(store, 'stmts');
  if (typeof stmts !== 'object' || stmts === null) return [];
  const out: PlanLine[] = [];
  for (const name of names) {
    const stmt: unknown = Reflect.get(stmts, name);
    const source = typeof stmt === 'object' && stmt !== null ? Reflect.get(stmt, 'source') : undefined;
    if (typeof source !== 'string' || /@\w/.test(source)) continue;
    const params = (source.match(/\?/g) ?? []).length;
    const rows = store.db.prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${source}`).all(...Array.from({ length: params }, () => 'x'));
    const plan = rows.map((r) => r.detail).join('; ');
    out.push({ statement: name, plan, fullScan: rows.some((r) => /^SCAN (?!.*USING)/.test(r.detail)) });
  }
  return out;
}

/**
 * One small row per IMMEDIATE transaction in a fresh WAL database (synchronous=FULL, as lockerd
 * opens it), one commit at a time, so it can be interleaved with another measurement and see
 * the same disk at the same moments.
 */
export class DurableCommitProbe {
  private readonly db: Db;
  private readonly insert;
  readonly times: number[] = [];

  constructor(dir: string) {
    this.db = openDatabase(join(dir, 'commit-latency.db'), { migrations: [] });
    this.db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    this.insert = this.db.prepare('INSERT INTO t (v) VALUES (?)');
  }

  commitOnce(): number {
    const t0 = performance.now();
    this.db.transaction(() => this.insert.run(`row ${this.times.length} ${'x'.repeat(80)}`)).immediate();
    const ms = performance.now() - t0;
    this.times.push(ms);
    return ms;
  }

  summary(): Summary {
    return summarise(this.times);
  }

  close(): void {
    this.db.close();
  }
}
