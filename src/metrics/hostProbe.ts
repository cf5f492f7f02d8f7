// What the operating system says about this process and its data folder: disk free (statfs),
// the database's size on disk, resident memory and event-loop delay. Injected into the
// metrics so tests can give fixed figures.
import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { SIDECAR_SUFFIXES } from '../store/database.js';

export interface LoopDelay {
  /** Milliseconds; 0 before the first sample. */
  p50: number;
  p99: number;
  max: number;
}

export interface HostProbe {
  /** Free (for this user) and total bytes of the file system holding `path`; undefined when unknown. */
  disk(path: string): Promise<{ free: number; total: number } | undefined>;
  /** Bytes of a SQLite database with its -wal and -journal files; 0 when absent. */
  databaseBytes(path: string): number;
  rssBytes(): number;
  /** Event-loop delay since the last resetLoopDelay() (or since start). */
  loopDelay(): LoopDelay;
  resetLoopDelay(): void;
  stop(): void;
}

export function systemHostProbe(): HostProbe {
  let histogram: IntervalHistogram | undefined;
  const loop = (): IntervalHistogram => {
    if (!histogram) {
      histogram = monitorEventLoopDelay({ resolution: 20 });
      histogram.enable();
    }
    return histogram;
  };
  loop();
  const ms = (ns: number): number => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
  return {
    async disk(path) {
      try {
        const s = await statfs(path);
        return { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
      } catch {
        return undefined;
      }
    },
    databaseBytes(path) {
      let total = 0;
      for (const suffix of ['', ...SIDECAR_SUFFIXES]) {
        try {
          total += statSync(`${path}${suffix}`).size;
        } catch {
          // absent
        }
      }
      return total;
    },
    rssBytes: () => process.memoryUsage.rss(),
    loopDelay() {
      const h = loop();
      if (h.count === 0) return { p50: 0, p99: 0, max: 0 };
      return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    },
    resetLoopDelay: () => loop().reset(),
    stop() {
      histogram?.disable();
    },
  };
}
