// One way to run a fuzz target in both modes (docs/security.md):
// - CI (default): a short run with a fixed seed; the first input that breaks a property fails
//   the test, shrunk by fast-check to a small counterexample.
// - long (FUZZ=long, what `npm run fuzz` sets): the target's long budget of inputs; every
//   violation is counted and the run goes on, so the figures say how many inputs broke what.
//   The test still fails at the end if anything was found.
// FUZZ_RUNS=n overrides every target's number of inputs, FUZZ_SEED the seed. When
// FUZZ_REPORT names a file, each target appends one JSON line with its figures to it.
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';

/** The fixed seed of the CI run: failures reproduce exactly. */
export const DEFAULT_SEED = 0x10cced7;

export interface FuzzMode {
  long: boolean;
  seed: number;
  runsOverride: number | undefined;
  report: string | undefined;
}

export function fuzzMode(env: NodeJS.ProcessEnv = process.env): FuzzMode {
  const runs = env['FUZZ_RUNS'] ? Number(env['FUZZ_RUNS']) : undefined;
  const seed = env['FUZZ_SEED'] ? Number(env['FUZZ_SEED']) : DEFAULT_SEED;
  if (runs !== undefined && !(Number.isInteger(runs) && runs > 0)) throw new RangeError('FUZZ_RUNS must be a positive integer');
  if (!Number.isInteger(seed)) throw new RangeError('FUZZ_SEED must be an integer');
  return { long: env['FUZZ'] === 'long', seed, runsOverride: runs, report: env['FUZZ_REPORT'] || undefined };
}

export interface Budget {
  /** Inputs of the short CI run. */
  ci: number;
  /** Inputs of `npm run fuzz`. */
  long: number;
}

export function runsOf(budget: Budget, mode: FuzzMode = fuzzMode()): number {
  return mode.runsOverride ?? (mode.long ? budget.long : budget.ci);
}

/** A test timeout that fits the mode: generous for the long run. */
export function timeoutOf(ciMs: number, mode: FuzzMode = fuzzMode()): number {
  return mode.long || mode.runsOverride !== undefined ? 30 * 60_000 : ciMs;
}

/** What an input did that it must not: the kind is what the figures count. */
export interface Violation {
  kind: string;
  detail: string;
}

export interface TargetFigures {
  target: string;
  inputs: number;
  seed: number;
  mode: 'ci' | 'long';
  durationMs: number;
  violations: number;
  byKind: Record<string, number>;
  /** The first few violations of each kind with the input that caused them (shortened). */
  examples: { kind: string; detail: string; input: string }[];
  [extra: string]: unknown;
}

export interface FuzzOptions<T> {
  target: string;
  arbitrary: fc.Arbitrary<T>;
  check: (input: T) => Violation[] | Promise<Violation[]>;
  budget: Budget;
  /** Figures the target adds to its report line (peak RSS, answers by status, ...). */
  extra?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  mode?: FuzzMode;
}

/** Examples kept per kind of violation, for the report. */
const examplesPerKind = 3;

export class PropertyViolated extends Error {
  constructor(readonly violations: Violation[]) {
    super(violations.map((v) => `${v.kind}: ${v.detail}`).join('\n'));
  }
}

/**
 * Runs the target and returns its figures. In CI mode a violation throws (fast-check's
 * report, with the shrunk input and the seed). In long mode violations are counted; the
 * caller asserts on `violations` after the report is written.
 */
export async function runFuzz<T>(o: FuzzOptions<T>): Promise<TargetFigures> {
  const mode = o.mode ?? fuzzMode();
  const numRuns = runsOf(o.budget, mode);
  const started = performance.now();
  let inputs = 0;
  const byKind: Record<string, number> = {};
  const examples: TargetFigures['examples'] = [];
  let violations = 0;
  const counting = mode.long;
  const property = fc.asyncProperty(o.arbitrary, async (input) => {
    inputs += 1;
    const found = await o.check(input);
    if (found.length === 0) return;
    if (!counting) throw new PropertyViolated(found);
    violations += 1;
    for (const v of found) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
    for (const v of found) {
      if (examples.filter((e) => e.kind === v.kind).length < examplesPerKind) examples.push({ kind: v.kind, detail: clip(v.detail, 600), input: clip(fc.stringify(input), 600) });
    }
  });
  let failure: unknown;
  try {
    await fc.assert(property, { seed: mode.seed, numRuns, endOnFailure: false });
  } catch (e) {
    failure = e;
  }
  const figures: TargetFigures = {
    target: o.target,
    inputs,
    seed: mode.seed,
    mode: mode.long ? 'long' : 'ci',
    durationMs: Math.round(performance.now() - started),
    violations: failure === undefined ? violations : violations + 1,
    byKind,
    examples,
    ...(o.extra ? await o.extra() : {}),
  };
  if (mode.report) appendFileSync(mode.report, `${JSON.stringify(figures)}\n`);
  if (failure !== undefined) throw failure;
  return figures;
}

/** A violation list for the test's failure message. */
export function describeViolations(f: TargetFigures): string {
  return `${f.violations} of ${f.inputs} inputs broke a property (${JSON.stringify(f.byKind)}); first: ${JSON.stringify(f.examples, null, 2)}`;
}

export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}... (${s.length} chars)` : s;
}
