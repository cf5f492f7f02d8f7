// One growth run in a process of its own, started the way the systemd unit starts node (see
// growth.ts): days of steady traffic (support/growthRun.ts), RSS and heap after each day.
//   node [flags] --expose-gc dist/test/bench/growthChild.js '{"spec":{...},"out":"..."}'
import { writeFileSync } from 'node:fs';
import { type DaySample, type GrowthRunSpec, runGrowthDays } from './support/growthRun.js';
import { procMemory } from './support/processes.js';
import { runChildMain } from './support/childMain.js';

export interface GrowthChildResult {
  samples: DaySample[];
  /** Real seconds the run took. */
  seconds: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as { spec: Omit<GrowthRunSpec, 'onDay' | 'memory'>; out: string };
const gc = (globalThis as { gc?: () => void }).gc;

function memory(): Record<string, number> {
  // RSS as the kernel sees it first (no collection forced), then the live heap after one.
  const m = procMemory(process.pid);
  gc?.();
  const h = process.memoryUsage();
  return { rss: m.rss, anon: m.anon, file: m.file, hwm: m.hwm, heapUsed: h.heapUsed, heapTotal: h.heapTotal, external: h.external };
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const run = await runGrowthDays({
    ...args.spec,
    memory,
    onDay: (s) => process.stderr.write(`[bench] growth: day ${s.day}: ${s.pairs} pairs, db ${(s.dbUsed / 2 ** 20).toFixed(2)} MiB in use, RSS ${((s.memory?.rss ?? 0) / 2 ** 20).toFixed(1)} MiB\n`),
  });
  const seconds = (performance.now() - t0) / 1000;
  await run.stop();
  const result: GrowthChildResult = { samples: run.samples, seconds };
  writeFileSync(args.out, JSON.stringify(result));
}

runChildMain(main);
