// The periodic `health` event on the operator stream: the metrics' figures in short form,
// appended to the outbox like every operator event (signed, sequenced, delivered at least
// once). Door cycle counts are written in the same transaction.
//
// A health report is a snapshot: an older one is worth nothing once a newer exists. While the
// previous report is still unsent (the broker is out of reach), no new one is appended, so a
// locker offline for a month queues one health event, not thousands; the door cycle counts
// are still written.
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { FailurePolicy } from '../../kernel/failurePolicy.js';
import type { EventRecorder } from '../domain/eventRecorder.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { Outbox, streamOf } from '../store/outbox.js';
import type { DoorCycles } from './doorCycles.js';
import type { HostProbe } from './hostProbe.js';
import type { LockerMetrics } from './lockerMetrics.js';
import { Events } from '../domain/events.js';

export const HEALTH_EVENT = 'health';

export interface HealthReporterOptions {
  clock: Clock;
  intervalS: number;
  metrics: LockerMetrics;
  cycles: DoorCycles;
  recorder: EventRecorder;
  db: Db;
  host: HostProbe;
  logger: Logger;
  /** Where a failed periodic report goes (default: logged). */
  failures?: FailurePolicy;
}

export type HealthReportResult = 'appended' | 'skipped';

export class HealthReporter {
  private timer: TimerHandle | undefined;
  private running: Promise<HealthReportResult> | undefined;
  private readonly unsentHealth;

  constructor(private readonly o: HealthReporterOptions) {
    this.unsentHealth = new Outbox(o.db);
  }

  start(): void {
    this.timer ??= this.o.clock.setInterval(() => {
      this.report().then(
        () => this.o.failures?.succeeded('health.report'),
        (err: unknown) => (this.o.failures ? this.o.failures.report('health.report', err) : this.o.logger.error({ err }, 'health report failed')),
      );
    }, this.o.intervalS * 1000);
  }

  /** Stops the timer and waits for a report in flight (so nothing writes after the database closes). */
  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Appends one health event now (or only writes the door cycles while the last one is unsent). Calls in flight are shared. */
  report(): Promise<HealthReportResult> {
    this.running ??= this.reportNow().finally(() => (this.running = undefined));
    return this.running;
  }

  private async reportNow(): Promise<HealthReportResult> {
    const figures = await this.o.metrics.figures();
    const now = this.o.clock.now();
    const { cycles } = this.o;
    if (this.unsentHealth.hasUnsent(streamOf(null), HEALTH_EVENT)) {
      cycles.flush(now);
      this.o.host.resetLoopDelay();
      return 'skipped';
    }
    this.o.recorder.append([Events.health({ intervalS: this.o.intervalS, ...figures })], () => cycles.writePending(now));
    cycles.settle();
    this.o.host.resetLoopDelay();
    return 'appended';
  }
}
