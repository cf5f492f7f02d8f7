// A lockerd process doing N courier deposits and then N consumer pickups on the simulator,
// for diskPerTransaction. Started by the benchmark (under strace, or alone for the in-process
// WAL estimate) on a data folder it prepared:
//   node dist/test/bench/transactionsChild.js '{"dataDir":"...","n":150,"mode":"trace","out":"result.json"}'
//
// Phases are marked by writing "BENCH-MARK <phase>" to /dev/null: strace shows those writes in
// order with everything else, so its log can be cut into phases without timing guesses.
// mode "wal": checkpoints are held back during each phase (wal_autocheckpoint=0, TRUNCATE before),
// the WAL is read after it (frames, commit frames), then checkpointed to see how many pages the
// database file receives. Run with --expose-gc to also get the heap kept per transaction.
import { openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startLockerd } from '../../src/composition/startLockerd.js';
import { allocate } from '../../src/domain/allocation.js';
import { benchLocker, BUS_ID, type BenchLockerOptions } from './support/benchLocker.js';
import { LockerDriver } from './support/lockerDriver.js';
import { nextWaybill } from './support/populate.js';
import { progress } from './support/result.js';
import { Cu48LineWatch, simBusOf } from './support/simTraffic.js';
import { summarise, type Summary } from './support/stats.js';
import { readWal, type WalContents } from './support/walFile.js';
import { runChildMain } from './support/childMain.js';

export interface TransactionsChildArgs {
  dataDir: string;
  n: number;
  mode: 'trace' | 'wal';
  out: string;
  locker: BenchLockerOptions;
}

export interface CommitKind {
  /** Tables and indexes whose pages the transaction wrote, with the page count of each. */
  objects: string;
  pages: number;
  count: number;
}

export interface WalPhase {
  wal: Omit<WalContents, 'transactions'>;
  /** The transactions of the phase grouped by what they wrote. */
  commitKinds: CommitKind[];
  /** Pages lockerd's automatic checkpoints (every 1000 frames) would copy into the database file for this phase. */
  checkpointPages: number;
}

export interface TransactionsChildResult {
  n: number;
  deposits?: WalPhase;
  pickups?: WalPhase;
  /** Heap still in use after GC, per deposit+pickup pair once warm (only with --expose-gc). */
  heapPerPairBytes?: number;
  heapPairs?: number;
  /** Placement (deposit) transactions the Locker still holds in memory after all of them finished. */
  placementsHeld?: number;
  /** Courier's request -> unlock frame on the bus, per deposit (wal mode). */
  depositToUnlock?: Summary;
  /** allocate() over the whole layout, every compartment free (ms per call). */
  allocateMs?: number;
  compartments: number;
}

const AUTOCHECKPOINT_FRAMES = 1000;
const args = JSON.parse(process.argv[2] ?? '{}') as TransactionsChildArgs;
const marker = openSync('/dev/null', 'w');
const mark = (phase: string): void => {
  writeSync(marker, `BENCH-MARK ${phase}\n`);
};
const gc = (globalThis as { gc?: () => void }).gc;

/** Finds the Locker's map of placement transactions (by shape, wherever the Locker keeps it) and counts its entries. */
function placementsHeld(locker: object): number | undefined {
  const looksLikePlacement = (v: unknown): boolean => typeof v === 'object' && v !== null && 'waybill' in v && 'sessions' in v && 'state' in v;
  const search = (o: object, depth: number): number | undefined => {
    for (const key of Object.keys(o)) {
      const v: unknown = Reflect.get(o, key);
      if (v instanceof Map && v.size > 0 && [...v.values()].every(looksLikePlacement)) return v.size;
      if (depth > 0 && typeof v === 'object' && v !== null && !(v instanceof Map) && !Array.isArray(v)) {
        const found = search(v, depth - 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return search(locker, 1);
}

function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  mark('start');
  const started = performance.now();
  const demo = await benchLocker(args.dataDir, args.locker);
  // Revealed codes are a demo setting: lockerd accepts them only in sim mode (as with --sim).
  const running = await startLockerd({ config: demo.config, sim: true, port: 0 });
  const driver = new LockerDriver(running);
  await driver.doorsKnown();
  const db = running.db;
  const sync = running.sync;
  // With a broker: connected before anything is measured, and every event of a phase confirmed
  // (PUBACK recorded) before the phase ends, so its writes land in its own phase.
  const settled = async (what: string): Promise<void> => {
    if (!sync) return;
    const until = Date.now() + 30_000;
    for (;;) {
      const h = sync.health();
      if (h.connected && h.publisher.inflight === 0 && h.publisher.streams.every((st) => st.unsent === 0)) return;
      if (Date.now() > until) throw new Error(`sync did not settle (${what})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await settled('start');
  const walPath = join(args.dataDir, 'lockerd.db-wal');
  const result: TransactionsChildResult = { n: args.n, compartments: demo.config.layout.compartments.length };

  // Warm-up outside the phases: first append to a stream, first statements, JIT.
  for (let i = 0; i < 2; i++) {
    const { code } = await driver.deposit(nextWaybill('swiftpost'), 'XS');
    await driver.pickup(code);
  }
  const line = args.mode === 'wal' ? new Cu48LineWatch(simBusOf(running, BUS_ID)) : undefined;
  const resetWal = (): void => {
    if (args.mode !== 'wal') return;
    db.pragma('wal_autocheckpoint = 0');
    db.pragma('wal_checkpoint(TRUNCATE)');
  };
  const measureWal = (): WalPhase | undefined => {
    if (args.mode !== 'wal') return undefined;
    const { transactions, ...wal } = readWal(walPath);
    const owner = new Map(db.prepare<[], { name: string; pageno: number }>('SELECT name, pageno FROM dbstat').all().map((r) => [r.pageno, r.name]));
    const kinds = new Map<string, CommitKind>();
    for (const pages of transactions) {
      const perObject = new Map<string, number>();
      for (const p of pages) {
        const name = owner.get(p) ?? (p === 1 ? 'sqlite_schema' : 'free/new page');
        perObject.set(name, (perObject.get(name) ?? 0) + 1);
      }
      const objects = [...perObject.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([name, count]) => (count > 1 ? `${name} x${count}` : name))
        .join(', ');
      const k = kinds.get(objects) ?? { objects, pages: pages.length, count: 0 };
      k.count += 1;
      kinds.set(objects, k);
    }
    // What lockerd's automatic checkpoints would copy: after the commit that takes the log to
    // 1000 frames, the newest version of every page in it, once.
    let checkpointPages = 0;
    let windowFrames = 0;
    let window = new Set<number>();
    for (const pages of transactions) {
      for (const p of pages) window.add(p);
      windowFrames += pages.length;
      if (windowFrames >= AUTOCHECKPOINT_FRAMES) {
        checkpointPages += window.size;
        window = new Set();
        windowFrames = 0;
      }
    }
    checkpointPages += window.size;
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { wal, commitKinds: [...kinds.values()].sort((a, b) => b.count - a.count), checkpointPages };
  };
  await settled('warm-up');
  mark('ready');
  progress(`transactions: lockerd ready and warmed up after ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const codes: string[] = [];
  const depositTimes: number[] = [];
  resetWal();
  mark('deposits-begin');
  let phaseStart = performance.now();
  for (let i = 0; i < args.n; i++) {
    await line?.idle();
    const unlock = line?.expectAnyUnlock();
    const t0 = performance.now();
    const done = driver.deposit(nextWaybill('swiftpost'), 'XS');
    if (unlock) depositTimes.push((await unlock) - t0);
    codes.push((await done).code);
  }
  await settled('deposits');
  mark('deposits-end');
  result.deposits = measureWal();
  progress(`transactions: ${args.n} deposits in ${((performance.now() - phaseStart) / 1000).toFixed(1)} s`);

  resetWal();
  mark('pickups-begin');
  phaseStart = performance.now();
  for (const code of codes) await driver.pickup(code);
  await settled('pickups');
  mark('pickups-end');
  result.pickups = measureWal();
  progress(`transactions: ${args.n} pickups in ${((performance.now() - phaseStart) / 1000).toFixed(1)} s`);

  if (args.mode === 'wal') {
    db.pragma('wal_autocheckpoint = 1000');
    // Heap kept per transaction once the code is warm: more deposit+pickup pairs after the phases.
    const pairs = Math.min(args.n, 100);
    if (gc && pairs > 0) {
      const before = heapAfterGc();
      for (let i = 0; i < pairs; i++) await driver.pickup((await driver.deposit(nextWaybill('swiftpost'), 'XS')).code);
      result.heapPerPairBytes = (heapAfterGc() - before) / pairs;
      result.heapPairs = pairs;
    }
    result.placementsHeld = placementsHeld(running.locker);
    if (depositTimes.length) result.depositToUnlock = summarise(depositTimes);
    const candidates = running.store.compartments().map((c) => ({ id: c.id, size: c.size, accessible: c.accessible, available: true }));
    const reps = 50;
    const t = performance.now();
    for (let i = 0; i < reps; i++) allocate(candidates, { size: 'XS' });
    result.allocateMs = (performance.now() - t) / reps;
  }
  line?.close();
  await running.stop();
  mark('stopped');
  writeFileSync(args.out, JSON.stringify(result));
}

runChildMain(main);
