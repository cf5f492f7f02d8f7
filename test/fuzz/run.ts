// `npm run fuzz`: runs the fuzz project with the long budget (FUZZ=long, over a million inputs
// across the targets), then writes the figures to docs/fuzz-figures.json and into
// the marked block of docs/security.md. FUZZ_SEED=n picks another seed; FUZZ_RUNS=n caps every
// target (a quick try).
// Exits with vitest's status: non-zero when any input broke a property.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { packageRoot } from '../../src/packageRoot.js';
import { DEFAULT_SEED, type TargetFigures } from './support/fuzzRun.js';

const root = packageRoot();
const figuresFile = join(root, 'docs', 'fuzz-figures.json');
const docs = [join(root, 'docs', 'security.md')];
const begin = '<!-- fuzz-figures:begin (written by npm run fuzz) -->';
const end = '<!-- fuzz-figures:end -->';

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lockerd-fuzz-'));
  const report = join(dir, 'figures.jsonl');
  const seed = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : DEFAULT_SEED;
  const started = Date.now();
  const status = await new Promise<number>((resolve) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'vitest'), ['run', '--project', 'fuzz'], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, FUZZ: 'long', FUZZ_REPORT: report, FUZZ_SEED: String(seed) },
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
  const durationS = Math.round((Date.now() - started) / 1000);
  const targets = existsSync(report)
    ? readFileSync(report, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as TargetFigures)
    : [];
  rmSync(dir, { recursive: true, force: true });
  const figures = summarise(targets, { seed, durationS, vitestStatus: status });
  writeFileSync(figuresFile, `${JSON.stringify(figures, null, 2)}\n`);
  for (const doc of docs) {
    if (!existsSync(doc)) continue;
    const text = readFileSync(doc, 'utf8');
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    if (a < 0 || b < a) continue;
    writeFileSync(doc, `${text.slice(0, a + begin.length)}\n${markdown(figures, relative(dirname(doc), figuresFile))}\n${text.slice(b)}`);
  }
  console.log(`\nfuzz: ${figures.totals.inputs.toLocaleString('en')} inputs in ${durationS} s, ${figures.totals.crashes} crashes, ${figures.totals.answers5xx} 5xx answers, ${figures.totals.violatingInputs} inputs broke a property; figures in ${figuresFile}`);
  return status;
}

interface Figures {
  date: string;
  seed: number;
  durationS: number;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; kernel: string };
  totals: { inputs: number; crashes: number; hangs: number; answers5xx: number; violatingInputs: number; serverPeakRssMb: number | null };
  targets: { target: string; inputs: number; durationMs: number; violations: number; byKind: Record<string, number> }[];
  kiosk: Record<string, unknown> | null;
  examples: { target: string; kind: string; detail: string; input: string }[];
  vitestStatus: number;
}

function summarise(targets: TargetFigures[], o: { seed: number; durationS: number; vitestStatus: number }): Figures {
  const count = (kinds: string[]): number => targets.reduce((n, t) => n + kinds.reduce((m, k) => m + (t.byKind[k] ?? 0), 0), 0);
  const kiosk = targets.find((t) => t.target === 'kiosk HTTP API');
  const byStatus = (kiosk?.['answersByStatus'] ?? {}) as Record<string, number>;
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    seed: o.seed,
    durationS: o.durationS,
    machine: { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, kernel: release() },
    totals: {
      inputs: targets.reduce((n, t) => n + t.inputs, 0),
      crashes: count(['crash', 'throw', 'not-serving']),
      hangs: count(['timeout']),
      answers5xx: Object.entries(byStatus).reduce((n, [s, c]) => n + (Number(s) >= 500 ? c : 0), 0),
      violatingInputs: targets.reduce((n, t) => n + t.violations, 0),
      serverPeakRssMb: typeof kiosk?.['serverPeakRssMb'] === 'number' ? kiosk['serverPeakRssMb'] : null,
    },
    targets: targets.map((t) => ({ target: t.target, inputs: t.inputs, durationMs: t.durationMs, violations: t.violations, byKind: t.byKind })),
    kiosk: kiosk ? Object.fromEntries(Object.entries(kiosk).filter(([k]) => !['target', 'inputs', 'seed', 'mode', 'durationMs', 'violations', 'byKind', 'examples'].includes(k))) : null,
    examples: targets.flatMap((t) => t.examples.map((e) => ({ target: t.target, ...e }))),
    vitestStatus: o.vitestStatus,
  };
}

function markdown(f: Figures, link: string): string {
  const n = (x: number): string => x.toLocaleString('en');
  const lines = [
    `Last run: ${f.date.slice(0, 16).replace('T', ' ')} UTC, seed ${f.seed} (0x${f.seed.toString(16)}), ${n(f.durationS)} s on ${f.machine.cores} × ${f.machine.cpu} (${f.machine.memoryGb} GB, Node ${f.machine.node}, Linux ${f.machine.kernel}).`,
    '',
    '| Figure | Value |',
    '| --- | --- |',
    `| Inputs, all targets | ${n(f.totals.inputs)} |`,
    `| Crashes (server process gone, target threw, server stopped answering) | ${n(f.totals.crashes)} |`,
    `| Hangs (no answer within 10 s) | ${n(f.totals.hangs)} |`,
    `| 5xx answers from the kiosk | ${n(f.totals.answers5xx)} |`,
    `| Inputs that broke any property | ${n(f.totals.violatingInputs)} |`,
    `| Peak RSS of the lockerd process under the HTTP fuzz | ${f.totals.serverPeakRssMb ?? '?'} MB |`,
    '',
    '| Target | Inputs | Time (s) | Broke a property |',
    '| --- | ---: | ---: | --- |',
    ...f.targets.map((t) => `| ${t.target} | ${n(t.inputs)} | ${(t.durationMs / 1000).toFixed(1)} | ${t.violations === 0 ? '0' : `${n(t.violations)} (${Object.entries(t.byKind).map(([k, c]) => `${k}: ${n(c)}`).join(', ')})`} |`),
  ];
  const errors = (f.kiosk?.['serverErrors'] ?? {}) as Record<string, number>;
  if (Object.keys(errors).length > 0) {
    lines.push('', '5xx answers of the kiosk by answer:', '', ...Object.entries(errors).map(([k, c]) => `- ${n(c)} × \`${k.replace(/`/g, "'")}\``));
  }
  const status = (f.kiosk?.['answersByStatus'] ?? {}) as Record<string, number>;
  lines.push('', `Kiosk answers by status: ${Object.entries(status).map(([k, c]) => `${k}: ${n(c)}`).join(', ')}.`);
  lines.push('', `Full figures, with a few example inputs per kind of violation: [fuzz-figures.json](${link}).`);
  return lines.join('\n');
}

process.exitCode = await main();
