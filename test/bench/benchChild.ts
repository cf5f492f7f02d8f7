// Runs one benchmark in its own process and hands the result to the runner over IPC.
// Its stdout is where an in-process lockerd logs; progress goes to stderr.
import { isBenchName, runBench } from './benches.js';

const [name, ...flags] = process.argv.slice(2);
if (!name || !isBenchName(name) || !process.send) {
  process.stderr.write('usage: started by run.js with a benchmark name\n');
  process.exit(2);
}

runBench(name, { quick: flags.includes('--quick') }).then(
  (result) => {
    process.send?.({ ok: true, result }, () => process.exit(0));
  },
  (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.send?.({ ok: false, error: message }, () => process.exit(1));
  },
);
