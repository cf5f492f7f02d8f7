// A lockerd process (startLockerd, simulated boards, the configuration as written, MQTT sync
// included when configured) that reports its own RSS after start and after rounds of courier
// deposits and consumer pickups done in-process. For memoryAndColdStart:
//   node [flags] dist/test/bench/memoryTransactionsChild.js '{"config":"...","rounds":6,"perRound":5,"settleMs":2000,"out":"..."}'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLockerd } from '../../src/composition/startLockerd.js';
import { parseConfig } from '../../src/config/loadConfig.js';
import { LockerDriver } from './support/lockerDriver.js';
import { nextWaybill } from './support/populate.js';
import { procMemory, sleep, type ProcMemory } from './support/processes.js';
import { runChildMain } from './support/childMain.js';

export interface MemoryTransactionsResult {
  afterStart: ProcMemory;
  afterFirstRound: ProcMemory;
  afterAll: ProcMemory;
  syncComposed: boolean;
  /** The database file and its WAL before and after the transactions, in bytes. */
  dbBytesBefore: number;
  dbBytesAfter: number;
  /** Placements held in memory after the transactions (finished ones are bounded). */
  placementsHeld: number;
}

/** parallel: a round's deposits run at once (each in its own compartment), then its pickups (the growth run). */
const args = JSON.parse(process.argv[2] ?? '{}') as { config: string; rounds: number; perRound: number; settleMs: number; out: string; parallel?: boolean };

async function main(): Promise<void> {
  // The file is the production-mode one of the cold starts; the driver needs revealed codes,
  // a demo setting that lockerd accepts only in sim mode (as `lockerd start --sim` does).
  const config = { ...parseConfig(JSON.parse(readFileSync(args.config, 'utf8')), { sim: true }), demo: { revealCodes: true } };
  const running = await startLockerd({ config, sim: true, port: 0 });
  const driver = new LockerDriver(running);
  await driver.doorsKnown();
  await sleep(args.settleMs);
  const afterStart = procMemory(process.pid);
  const dbFile = join(config.dataDir, 'lockerd.db');
  const dbBytes = (): number => [dbFile, `${dbFile}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
  const dbBytesBefore = dbBytes();
  let afterFirstRound = afterStart;
  for (let r = 0; r < args.rounds; r++) {
    const codes: string[] = [];
    if (args.parallel) {
      for (const d of await Promise.all(Array.from({ length: args.perRound }, () => driver.deposit(nextWaybill('swiftpost'), 'S')))) codes.push(d.code);
      await Promise.all(codes.map((code) => driver.pickup(code)));
    } else {
      for (let i = 0; i < args.perRound; i++) codes.push((await driver.deposit(nextWaybill('swiftpost'), 'S')).code);
      for (const code of codes) await driver.pickup(code);
    }
    if (r === 0) {
      await sleep(args.settleMs);
      afterFirstRound = procMemory(process.pid);
    }
  }
  await sleep(args.settleMs);
  const result: MemoryTransactionsResult = {
    afterStart,
    afterFirstRound,
    afterAll: procMemory(process.pid),
    syncComposed: running.sync !== undefined,
    dbBytesBefore,
    dbBytesAfter: dbBytes(),
    placementsHeld: running.locker.placementsHeld(),
  };
  await running.stop();
  writeFileSync(args.out, JSON.stringify(result));
}

runChildMain(main);
