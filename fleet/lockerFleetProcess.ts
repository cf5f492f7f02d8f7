// A process of simulated lockers, driven by the orchestrator over IPC (fleetMessages.ts):
// init -> enrolled (public keys), connect -> connected, run -> produced, settle -> settled
// (every row has its PUBACK), stop -> stopped.
import { SystemClock } from '../kernel/clock.js';
import { silentLogger } from '../src/logger.js';
import { type FromLockers, type ToLockers, monotonicMs } from './fleetMessages.js';
import { LockerFleet } from './lockerFleet.js';
import { openFileCount, openFileLimit } from './openFiles.js';
import { LoadMeter } from './processLoad.js';

const clock = new SystemClock();
let fleet: LockerFleet | undefined;
let connectTimeoutMs = 60_000;

function send(m: FromLockers): void {
  process.send?.(m);
}

async function handle(m: ToLockers): Promise<void> {
  switch (m.kind) {
    case 'init': {
      connectTimeoutMs = m.connectTimeoutMs;
      const rssBefore = process.memoryUsage.rss();
      const t0 = monotonicMs();
      fleet = await LockerFleet.create({
        lockerIds: m.lockerIds,
        carriers: m.carriers,
        url: m.url,
        ...(m.password !== undefined ? { password: m.password } : {}),
        protocolVersion: m.protocolVersion,
        clock,
        logger: silentLogger(),
        stamp: monotonicMs,
        seed: m.seed,
        connectBatch: m.connectBatch,
        dataRoot: m.dataRoot,
        synchronous: m.synchronous,
        cacheKiB: m.cacheKiB,
        retainAcked: m.retainAcked,
      });
      const created = {
        lockers: m.lockerIds.length,
        ms: monotonicMs() - t0,
        rssBefore,
        rssCreated: process.memoryUsage.rss(),
        openFiles: openFileCount(),
        openFilesLimit: openFileLimit().soft,
      };
      send({ kind: 'enrolled', keys: fleet.enrolment(), created });
      return;
    }
    case 'connect': {
      if (!fleet) throw new Error('not initialised');
      const t0 = monotonicMs();
      const connected = await fleet.connect(connectTimeoutMs);
      send({ kind: 'connected', connected, ms: monotonicMs() - t0, rssConnected: process.memoryUsage.rss(), openFiles: openFileCount() });
      return;
    }
    case 'run': {
      if (!fleet) throw new Error('not initialised');
      const meter = new LoadMeter();
      meter.start();
      const production = await fleet.run(m.ratePerS, m.durationMs);
      const load = meter.stop();
      send({ kind: 'produced', production, outboxLastSeqs: Object.fromEntries(fleet.outboxLastSeqs()), load });
      return;
    }
    case 'settle': {
      if (!fleet) throw new Error('not initialised');
      const deadline = monotonicMs() + m.timeoutMs;
      while (fleet.unsent() > 0 && monotonicMs() < deadline) await clock.sleep(50);
      send({ kind: 'settled', unsent: fleet.unsent() });
      return;
    }
    case 'stop':
      await fleet?.stop();
      send({ kind: 'stopped' });
      process.disconnect();
      return;
  }
}

process.on('message', (m: ToLockers) => {
  handle(m).catch((e: unknown) => send({ kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
process.on('disconnect', () => process.exit(0));
