// One call for the composition root: the metrics (counting from the moment they are made),
// the persisted door cycles, the periodic health report and the loopback /metrics listener.
import type { Hardware } from '../composition/hardware.js';
import type { Clock } from '../../kernel/clock.js';
import type { FailurePolicy } from '../../kernel/failurePolicy.js';
import type { LockerConfig } from '../config/schema.js';
import type { DoorController } from '../domain/doorController.js';
import type { EventRecorder } from '../domain/eventRecorder.js';
import { toLockerError } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';
import type { Db } from '../store/database.js';
import { DoorCycles } from './doorCycles.js';
import { HealthReporter } from './healthReporter.js';
import { systemHostProbe, type HostProbe } from './hostProbe.js';
import { LockerMetrics, type SyncFigures } from './lockerMetrics.js';
import { MetricsServer } from './metricsServer.js';

export interface StartMetricsOptions {
  config: LockerConfig;
  version: string;
  clock: Clock;
  db: Db;
  databasePath: string;
  doors: DoorController;
  recorder: EventRecorder;
  hardware: Pick<Hardware, 'buses' | 'scanner'>;
  compartments: () => string[];
  sync: () => SyncFigures | undefined;
  logger: Logger;
  host?: HostProbe;
  /** The failure policy of the periodic health report. */
  failures?: FailurePolicy;
}

export interface RunningMetrics {
  metrics: LockerMetrics;
  cycles: DoorCycles;
  health: HealthReporter;
  /** Where /metrics answers, once listening (undefined when metrics.port is null or the listen failed). */
  url: string | undefined;
  /** Starts the health timer and the listener (a port in use is logged, not fatal: the locker still serves its users). */
  start(portOverride?: number | null): Promise<void>;
  /** Stops both and writes the door cycle counts. */
  stop(): Promise<void>;
}

export function createMetrics(o: StartMetricsOptions): RunningMetrics {
  const host = o.host ?? systemHostProbe();
  const cycles = new DoorCycles(o.db);
  const metrics = new LockerMetrics({
    config: o.config,
    version: o.version,
    clock: o.clock,
    db: o.db,
    databasePath: o.databasePath,
    doors: o.doors,
    recorder: o.recorder,
    buses: o.hardware.buses,
    ...(o.hardware.scanner ? { scanner: o.hardware.scanner } : {}),
    cycles,
    host,
    compartments: o.compartments,
    sync: o.sync,
  });
  const health = new HealthReporter({ clock: o.clock, intervalS: o.config.metrics.healthIntervalS, metrics, cycles, recorder: o.recorder, db: o.db, host, logger: o.logger, ...(o.failures ? { failures: o.failures } : {}) });
  const server = new MetricsServer(metrics, o.logger);
  const running: RunningMetrics = {
    metrics,
    cycles,
    health,
    url: undefined,
    async start(portOverride) {
      health.start();
      const port = portOverride === undefined ? o.config.metrics.port : portOverride;
      if (port === null) return;
      try {
        running.url = await server.listen(o.config.metrics.host, port);
        o.logger.info({ url: `${running.url}/metrics` }, 'metrics listening');
      } catch (e) {
        const err = toLockerError(e);
        o.logger.warn({ code: err.code }, err.message);
      }
    },
    async stop() {
      await health.stop();
      await server.close();
      metrics.stop();
      host.stop();
      cycles.flush(o.clock.now());
    },
  };
  return running;
}
