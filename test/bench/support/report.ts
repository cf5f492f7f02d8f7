// BENCHMARKS.md: one summary table (target, measured, verdict, how measured, machine) and a
// section per benchmark. Running a single benchmark replaces only its own rows and section; the
// results of the others are kept. The machine-readable results go to a JSON file beside it
// (BENCHMARKS.json: an array of BenchResult); an older BENCHMARKS.md that still carries them
// as a base64 data comment is read once and converted. The reserved section for the sync and
// fleet benchmarks is carried over untouched.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describeMachine } from './machine.js';
import { type BenchResult, type BenchRow } from './result.js';

const DATA_PREFIX = '<!-- bench-data:';
const RESERVED_BEGIN = '<!-- BEGIN reserved: MQTT backlog drain and fleet simulator';
const RESERVED_END = '<!-- END reserved -->';

const reservedDefault = [
  `${RESERVED_BEGIN} (npm run bench leaves everything up to END as it is) -->`,
  '## MQTT backlog drain and fleet simulator (reserved)',
  '',
  'Two targets of DESIGN.md section 10 are measured by benchmarks that are added separately. ' +
    'Until they exist this section has no figures.',
  '',
  '| target | measured | verdict | how measured | machine |',
  '|---|---|---|---|---|',
  '| backlog of 100k events drained to a local Mosquitto at QoS 1: >= 80 % of a bare MQTT.js QoS 1 publish loop, durable | not measured yet | not measured | to be measured side by side with the bare MQTT.js loop in one run | - |',
  '| fleet simulator, one 2-core machine: 1,000 lockers, 1,000 events/s, p99 end-to-end <= 50 ms | not measured yet | not measured | - | - |',
  RESERVED_END,
].join('\n');

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function rowLine(row: BenchRow, machine: string): string {
  return `| ${cell(row.target)} | ${cell(row.measured)} | ${row.verdict} | ${cell(row.how)} | ${cell(machine)} |`;
}

/** BENCHMARKS.json beside BENCHMARKS.md. */
export function dataFileOf(markdownFile: string): string {
  return markdownFile.replace(/\.md$/, '') + '.json';
}

export function readPreviousResults(file: string): Map<string, BenchResult> {
  const out = new Map<string, BenchResult>();
  const dataFile = dataFileOf(file);
  if (existsSync(dataFile)) {
    try {
      for (const r of JSON.parse(readFileSync(dataFile, 'utf8')) as BenchResult[]) out.set(r.name, r);
      return out;
    } catch {
      // unreadable: fall back to an older data comment, else start over
    }
  }
  if (!existsSync(file)) return out;
  const text = readFileSync(file, 'utf8');
  const start = text.lastIndexOf(DATA_PREFIX);
  if (start < 0) return out;
  const end = text.indexOf('-->', start);
  try {
    const json = Buffer.from(text.slice(start + DATA_PREFIX.length, end).trim(), 'base64url').toString('utf8');
    for (const r of JSON.parse(json) as BenchResult[]) out.set(r.name, r);
  } catch {
    // an unreadable data comment: start over with what this run measured
  }
  return out;
}

function reservedSection(file: string): string {
  if (!existsSync(file)) return reservedDefault;
  const text = readFileSync(file, 'utf8');
  const begin = text.indexOf(RESERVED_BEGIN);
  const end = text.indexOf(RESERVED_END, begin);
  if (begin < 0 || end < 0) return reservedDefault;
  return text.slice(begin, end + RESERVED_END.length);
}

export function renderBenchmarks(results: BenchResult[], reserved: string): string {
  const lines = [
    '# Benchmarks',
    '',
    'Figures for the targets in DESIGN.md section 10, written by `npm run bench` (test/bench/run.ts). One benchmark alone: ' +
      '`npm run build && node dist/test/bench/run.js codeToUnlock` (or `diskPerTransaction`, `memoryAndColdStart`). ' +
      'These are measurements, not tests: a missed target does not fail anything, the verdict column says so. ' +
      'Each row names the machine it was measured on (`nproc`, Node version, date, file system under the data folder, ' +
      'and the load average when the benchmark started: on a shared machine other work shows up in the tails).',
    '',
    '| target | measured | verdict | how measured | machine |',
    '|---|---|---|---|---|',
  ];
  for (const r of results) for (const row of r.rows) lines.push(rowLine(row, describeMachine(r.machine)));
  for (const r of results) {
    lines.push('', `## ${r.title} (\`${r.name}\`)`, '');
    lines.push(
      `Machine: ${r.machine.nproc} cores (\`nproc\`), ${r.machine.cpu}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.date}, ` +
        `data folder on ${r.machine.fs}, 1-minute load average ${r.machine.load} when it started.`,
    );
    const params = Object.entries(r.params)
      .filter(([k]) => k !== 'machine')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
    lines.push(`Run: ${params}${r.quick ? ' (quick run)' : ''}.`, '');
    lines.push(...r.details);
  }
  lines.push('', reserved, '', 'The same results, machine-readable: [BENCHMARKS.json](BENCHMARKS.json) (an array of results: rows, params, details, machine); ' +
      'a benchmark with more figures writes them beside it as `BENCHMARKS.<name>.json` (the drain\'s rounds, the fleet\'s steps, the growth run\'s days).', '');
  return lines.join('\n');
}

export function writeBenchmarks(file: string, fresh: BenchResult[], order: readonly string[]): void {
  const merged = readPreviousResults(file);
  for (const r of fresh) merged.set(r.name, r);
  const results = order.map((n) => merged.get(n)).filter((r): r is BenchResult => r !== undefined);
  writeFileSync(dataFileOf(file), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(file, renderBenchmarks(results, reservedSection(file)));
}
