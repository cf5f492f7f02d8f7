// lockerd in-process on a prepared data folder, reporting where its memory goes: Node alone,
// then each large dependency as it is imported, then lockerd's own modules, then the running
// runtime once it has settled (V8 heap, external and array buffers, the rest of the RSS).
// For memoryAndColdStart:
//   node dist/test/bench/memoryProbeChild.js '{"config":"/path/lockerd.json","out":"/path/result.json","settleMs":2000}'
import { readFileSync, writeFileSync } from 'node:fs';
import { runChildMain } from './support/childMain.js';

export interface MemoryStage {
  stage: string;
  /** performance.now() when the stage was reached: ms since this process started. */
  atMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

export interface MemoryProbeResult {
  stages: MemoryStage[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as { config: string; out: string; settleMs: number };

const stages: MemoryStage[] = [];
function record(stage: string): void {
  const m = process.memoryUsage();
  stages.push({ stage, atMs: performance.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers });
}

async function main(): Promise<void> {
  record('Node, nothing imported');
  // The first dynamic import sets up Node's ES module loader; a tiny module takes that cost.
  await import('../../kernel/clock.js');
  record('+ a tiny ES module (module loader set up)');
  // The dependencies a production start loads, one by one (each figure includes the ones before);
  // the demo broker (aedes) is loaded only with --sim.
  await import('zod');
  record('+ zod');
  await import('jose');
  record('+ jose');
  await import('pino');
  record('+ pino');
  await import('better-sqlite3');
  record('+ better-sqlite3');
  await import('@serialport/stream');
  record('+ @serialport/stream');
  await import('mqtt');
  record('+ mqtt');
  const { startLockerd } = await import('../../src/composition/startLockerd.js');
  const { parseConfig } = await import('../../src/config/loadConfig.js');
  record("+ lockerd's own modules");
  const config = parseConfig(JSON.parse(readFileSync(args.config, 'utf8')));
  const running = await startLockerd({ config, sim: false, port: 0 });
  record('lockerd started (drivers and simulator loaded, database open)');
  await new Promise((r) => setTimeout(r, args.settleMs));
  record(`${args.settleMs / 1000} s later`);
  await running.stop();
  const result: MemoryProbeResult = { stages };
  writeFileSync(args.out, JSON.stringify(result));
}

runChildMain(main);
