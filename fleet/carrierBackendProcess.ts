// The carriers' back ends of the fleet simulator in a process of their own, driven over IPC
// (fleetMessages.ts): init -> ready, mark (traffic starts), await -> report, stop -> stopped.
import { CarrierBackend } from './carrierBackend.js';
import { type FromBackend, type ToBackend, monotonicMs } from './fleetMessages.js';
import { LoadMeter } from './processLoad.js';

let backends: CarrierBackend[] = [];
const meter = new LoadMeter();

function send(m: FromBackend): void {
  process.send?.(m);
}

function complete(expected: Record<string, number>): boolean {
  for (const [key, last] of Object.entries(expected)) {
    const slash = key.lastIndexOf('/');
    const locker = key.slice(0, slash);
    const carrier = key.slice(slash + 1);
    const b = backends.find((x) => x.carrierId === carrier);
    if (!b || b.deliveredUpTo(locker) < last) return false;
  }
  return true;
}

async function handle(m: ToBackend): Promise<void> {
  switch (m.kind) {
    case 'init': {
      backends = m.carriers.map(
        (carrier) =>
          new CarrierBackend({
            carrier,
            url: m.url,
            ...(m.password !== undefined ? { password: m.password } : {}),
            members: m.members,
            group: `${carrier}-backend`,
            lockerKeys: m.keys,
            stamp: monotonicMs,
          }),
      );
      for (const b of backends) await b.start();
      send({ kind: 'ready' });
      return;
    }
    case 'mark':
      meter.start();
      return;
    case 'await': {
      const t0 = monotonicMs();
      while (!complete(m.expected) && monotonicMs() - t0 < m.timeoutMs) await new Promise((r) => setTimeout(r, 20));
      const load = meter.stop();
      send({
        kind: 'report',
        reports: backends.map((b) => b.report()),
        complete: complete(m.expected),
        waitedMs: monotonicMs() - t0,
        load,
      });
      return;
    }
    case 'stop':
      await Promise.all(backends.map((b) => b.stop()));
      send({ kind: 'stopped' });
      process.disconnect();
      return;
  }
}

process.on('message', (m: ToBackend) => {
  handle(m).catch((e: unknown) => send({ kind: 'failed', message: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
process.on('disconnect', () => process.exit(0));
