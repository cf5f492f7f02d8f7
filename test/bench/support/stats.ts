// Percentiles (nearest rank) and number formatting for reports.

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((s, v) => s + v, 0);
  return {
    n: sorted.length,
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export function ms(v: number, digits = 2): string {
  return `${v.toFixed(digits)} ms`;
}

export function us(vMs: number): string {
  return `${(vMs * 1000).toFixed(1)} µs`;
}

export function kib(bytes: number, digits = 1): string {
  return `${(bytes / 1024).toFixed(digits)} KiB`;
}

export function mib(bytes: number, digits = 1): string {
  return `${(bytes / 2 ** 20).toFixed(digits)} MiB`;
}

export function fixed(v: number, digits = 2): string {
  return v.toFixed(digits);
}

/** "p50 0.41 ms, p95 0.60 ms, p99 1.20 ms, max 3.1 ms" */
export function describeLatency(s: Summary, digits = 2): string {
  return `p50 ${ms(s.p50, digits)}, p95 ${ms(s.p95, digits)}, p99 ${ms(s.p99, digits)}, max ${ms(s.max, digits)}`;
}
