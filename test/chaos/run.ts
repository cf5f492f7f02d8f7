// npm run chaos [-- --seed N --cycles N --out FILE --keep]: the crash-consistency run
// (test/chaos/harness.ts). Prints the seed and a summary with counts per invariant, writes
// the figures as JSON, exits 1 on any violation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../src/packageRoot.js';
import { INVARIANTS } from './invariants.js';
import { runChaos } from './harness.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, cycles: { type: 'string', default: '1000' }, out: { type: 'string' }, keep: { type: 'boolean', default: false } } });
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const cycles = Number(values.cycles);
if (!Number.isInteger(seed) || !Number.isInteger(cycles) || cycles < 1) {
  console.error('usage: npm run chaos -- [--seed N] [--cycles N] [--out FILE] [--keep]');
  process.exit(2);
}
const out = values.out ?? join(packageRoot(), 'test', 'chaos', 'results', `chaos-${seed}.json`);
console.log(`chaos: seed ${seed}, ${cycles} cycles (repeat with --seed ${seed})`);
const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
mkdirSync(dirname(out), { recursive: true });
const write = (figures: object, complete: boolean): void => writeFileSync(out, `${JSON.stringify({ ...figures, complete, machine, writtenAt: new Date().toISOString() }, null, 2)}\n`);
// Ctrl-C (or SIGTERM) ends the run after the current cycle, with the final checks and figures.
let stop = false;
const askStop = (): void => {
  if (stop) process.exit(130);
  stop = true;
  console.log('stopping after this cycle (again to abort)');
};
process.on('SIGINT', askStop);
process.on('SIGTERM', askStop);
const result = await runChaos({ seed, cycles, keepDataDir: values.keep, log: (l) => console.log(l), progress: (partial) => write(partial, false), stopRequested: () => stop });
const total = Object.values(result.violations).reduce((a, b) => a + b, 0);
console.log(`\nchaos summary: seed ${seed}, ${result.cycles} cycles in ${(result.durationMs / 1000).toFixed(0)} s (${result.msPerCycle} ms/cycle, lockerd from ${result.runner})`);
console.log(`kills: ${JSON.stringify(result.kills)}; person finished during the outage: ${result.personFinishedDuringOutage}`);
console.log(`actions (started/confirmed): ${Object.entries(result.actions).map(([k, v]) => `${k} ${v.started}/${v.confirmed}`).join(', ')}`);
console.log(`inspections settled ${result.inspectionsSettled}, left ${result.inspectionsLeft}; consumer: ${result.consumer.received} received for ${result.consumer.rowsInDatabase} rows`);
for (const k of INVARIANTS) console.log(`  ${k.padEnd(26)} checks ${String(result.checks[k]).padStart(6)}  violations ${String(result.violations[k]).padStart(5)}  distinct ${result.distinctViolations[k]}`);
write(result, true);
console.log(`figures: ${out}`);
process.exit(total > 0 ? 1 : 0);
