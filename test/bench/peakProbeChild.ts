// lockerd in-process (startLockerd, the same configuration as the command line), reporting what
// its memory is made of while a load runs against it: the V8 heap (used and committed, the young
// generation apart), external memory and array buffers (Buffers), and the rest of the RSS. For
// peakRss, which forks it with the systemd unit's environment and talks to it over IPC:
//   -> {ready, url}          once listening
//   <- {cmd: 'report'}       stop sampling, answer with the figures, and stop lockerd
//   -> {report: PeakProbeReport}
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

export interface MemorySplit {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Committed size of the young generation (new_space). */
  newSpace: number;
  /** Committed size of old space, code space and large objects. */
  oldSpaces: number;
  external: number;
  arrayBuffers: number;
}

export interface PeakProbeReport {
  atStart: MemorySplit;
  /** The sample with the largest RSS. */
  atPeak: MemorySplit;
  /** The largest of each figure over all samples (not necessarily at the same time). */
  maxima: MemorySplit;
  samples: number;
}

function split(): MemorySplit {
  const m = process.memoryUsage();
  let newSpace = 0;
  let oldSpaces = 0;
  for (const s of getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space') newSpace += s.space_size;
    else oldSpaces += s.space_size;
  }
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace, oldSpaces, external: m.external, arrayBuffers: m.arrayBuffers };
}

const args = JSON.parse(process.argv[2] ?? '{}') as { config: string; port: number; sampleMs: number };

async function main(): Promise<void> {
  const { startLockerd } = await import('../../src/composition/startLockerd.js');
  const { parseConfig } = await import('../../src/config/loadConfig.js');
  const config = parseConfig(JSON.parse(readFileSync(args.config, 'utf8')));
  const running = await startLockerd({ config, sim: false, port: args.port, firstBoot: true });
  await new Promise((r) => setTimeout(r, 2_000));
  const atStart = split();
  let atPeak = atStart;
  const maxima = { ...atStart };
  let samples = 0;
  const timer = setInterval(() => {
    const s = split();
    samples++;
    if (s.rss > atPeak.rss) atPeak = s;
    for (const k of Object.keys(maxima) as (keyof MemorySplit)[]) maxima[k] = Math.max(maxima[k], s[k]);
  }, args.sampleMs);
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd !== 'report') return;
    clearInterval(timer);
    const report: PeakProbeReport = { atStart, atPeak, maxima, samples };
    void running.stop().finally(() => process.send?.({ report }, () => process.exit(0)));
  });
  process.send?.({ ready: true, url: running.url });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
