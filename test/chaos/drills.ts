// npm run drills [-- --only NAME --out FILE]: one scripted fault per drill of issue 9, each
// against the honest outcome the rules ask for; prints pass/fail per drill, writes the
// results as JSON, exits 1 when a drill fails.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../src/packageRoot.js';
import { adapterAbsentAtBoot, cablePulledMidUnlock } from './drills/ptyDrills.js';
import { clockJumps, expiryRacingPickup, sigtermMidSession } from './drills/processDrills.js';
import { databaseDrills, diskFull } from './drills/storeDrills.js';
import { type Drill, type DrillResult } from './drills/support.js';

export const DRILLS: Record<string, Drill | (() => Promise<DrillResult[]>)> = {
  cable: cablePulledMidUnlock,
  adapter: adapterAbsentAtBoot,
  disk: diskFull,
  database: databaseDrills,
  clock: clockJumps,
  sigterm: sigtermMidSession,
  expiry: expiryRacingPickup,
};

const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, out: { type: 'string' } } });
const out = values.out ?? join(packageRoot(), 'test', 'chaos', 'results', 'drills.json');
const results: DrillResult[] = [];
for (const [key, drill] of Object.entries(DRILLS)) {
  if (values.only && !values.only.includes(key)) continue;
  const t0 = Date.now();
  let got: DrillResult | DrillResult[];
  try {
    got = await drill();
  } catch (e) {
    got = { name: key, expected: '(the drill itself failed)', observed: e instanceof Error ? e.message.slice(0, 600) : String(e), passed: false, finding: '-' };
  }
  for (const r of Array.isArray(got) ? got : [got]) {
    r.ms ??= Date.now() - t0;
    results.push(r);
    console.log(`${r.passed ? 'PASS' : 'FAIL'}  ${r.name} (finding ${r.finding})\n      expected: ${r.expected}\n      observed: ${r.observed}`);
  }
}
const passed = results.filter((r) => r.passed).length;
console.log(`\ndrills: ${passed}/${results.length} passed`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ passed, total: results.length, results, machine: { nproc: cpus().length, node: process.version }, writtenAt: new Date().toISOString() }, null, 2)}\n`);
process.exit(passed === results.length ? 0 : 1);
