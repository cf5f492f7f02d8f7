// Runs the benchmarks, each in a process of its own, prints their figures and writes
// BENCHMARKS.md at the repository root.
//   node dist/test/bench/run.js                      all of them, full size (and BENCHMARKS.<name>.json for those with data)
//   node dist/test/bench/run.js codeToUnlock         one (its rows in BENCHMARKS.md are replaced)
//   node dist/test/bench/run.js --quick [names...]   small sizes for development; prints, writes nothing
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../src/packageRoot.js';
import { benchNames, isBenchName, type BenchName } from './benches.js';
import { describeMachine } from './support/machine.js';
import { rowLine, writeBenchmarks } from './support/report.js';
import { type BenchResult } from './support/result.js';

type ChildReply = { ok: true; result: BenchResult } | { ok: false; error: string };

function runInChild(name: BenchName, quick: boolean): Promise<BenchResult> {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'benchChild.js');
  return new Promise((resolve, reject) => {
    const child = fork(entry, [name, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    let reply: ChildReply | undefined;
    child.on('message', (m) => {
      reply = m as ChildReply;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (reply?.ok) resolve(reply.result);
      else reject(new Error(`${name} failed${reply && !reply.ok ? `:\n${reply.error}` : ` (exit ${String(code)})`}`));
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  const unknown = names.filter((n) => !isBenchName(n));
  if (unknown.length) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}; known: ${benchNames.join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? names.filter(isBenchName) : [...benchNames];
  const results: BenchResult[] = [];
  let failed = 0;
  for (const name of selected) {
    process.stderr.write(`[bench] ${name}${quick ? ' (quick)' : ''}\n`);
    try {
      const r = await runInChild(name, quick);
      results.push(r);
      process.stdout.write(`\n${r.title}\n`);
      for (const row of r.rows) process.stdout.write(`${rowLine(row, describeMachine(r.machine))}\n`);
      if (quick) process.stdout.write(`\n${r.details.join('\n')}\n`);
    } catch (e) {
      failed += 1;
      process.stderr.write(`[bench] ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  if (!quick && results.length) {
    const file = join(packageRoot(), 'BENCHMARKS.md');
    writeBenchmarks(file, results, benchNames);
    process.stdout.write(`\nwrote ${file}\n`);
    // A benchmark's machine-readable figures, beside BENCHMARKS.md (one small JSON file each).
    for (const r of results) {
      if (!r.data) continue;
      const json = join(packageRoot(), `BENCHMARKS.${r.name}.json`);
      writeFileSync(json, `${JSON.stringify({ name: r.name, machine: describeMachine(r.machine), ...r.data }, null, 2)}\n`);
      process.stdout.write(`wrote ${json}\n`);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
