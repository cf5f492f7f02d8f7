// What a simulator process cost over a phase: CPU time, peak memory, how late its event loop
// ran (every delay there is latency for the events it handles) and garbage-collection pauses.
import { type IntervalHistogram, PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';

export interface ProcessLoad {
  /** CPU time (user + system) over the phase, ms. */
  cpuMs: number;
  /** Wall time of the phase, ms. */
  wallMs: number;
  /** Peak resident memory of the process, bytes. */
  maxRssBytes: number;
  /** Event-loop delay over the phase, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Garbage-collection pauses over the phase, ms. */
  gcPauseMs: number;
  gcMaxPauseMs: number;
}

export class LoadMeter {
  private cpu = process.cpuUsage();
  private startedAt = performance.now();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private readonly gc: PerformanceObserver;
  private gcPauseMs = 0;
  private gcMaxPauseMs = 0;

  constructor() {
    this.gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.gcPauseMs += e.duration;
        this.gcMaxPauseMs = Math.max(this.gcMaxPauseMs, e.duration);
      }
    });
  }

  start(): void {
    this.cpu = process.cpuUsage();
    this.startedAt = performance.now();
    this.gcPauseMs = 0;
    this.gcMaxPauseMs = 0;
    this.loop.reset();
    this.loop.enable();
    this.gc.observe({ entryTypes: ['gc'] });
  }

  stop(): ProcessLoad {
    this.loop.disable();
    this.gc.disconnect();
    const cpu = process.cpuUsage(this.cpu);
    return {
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs: performance.now() - this.startedAt,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      loopDelayP99Ms: this.loop.percentile(99) / 1e6,
      loopDelayMaxMs: this.loop.max / 1e6,
      gcPauseMs: this.gcPauseMs,
      gcMaxPauseMs: this.gcMaxPauseMs,
    };
  }
}
