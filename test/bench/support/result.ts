// What one benchmark hands back to the runner: rows for the BENCHMARKS.md table, details for
// its own section, and the machine it ran on.
import { type MachineInfo } from './machine.js';

export type Verdict = 'met' | 'missed' | 'not measured' | 'info';

export interface BenchRow {
  /** The target as DESIGN.md section 10 states it (or a supporting figure, verdict 'info'). */
  target: string;
  measured: string;
  verdict: Verdict;
  how: string;
}

export interface BenchResult {
  name: string;
  title: string;
  rows: BenchRow[];
  /** Markdown lines for the benchmark's own section: breakdowns, what dominates, caveats. */
  details: string[];
  machine: MachineInfo;
  /** Sizes the run used (samples, rows, transactions). */
  params: Record<string, number | string | boolean>;
  /** Machine-readable figures of this benchmark (written as BENCHMARKS.<name>.json beside BENCHMARKS.md). */
  data?: Record<string, unknown>;
  quick: boolean;
}

export interface BenchOptions {
  /** Small sizes for development; the runner does not write BENCHMARKS.md then. */
  quick: boolean;
}

/** Progress for the person watching; stdout of bench processes is reserved for lockerd's logs. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
