// Issue 9, finding 10 (polarity): with the polarity set the wrong way round, every door of a
// board read "open" at start and nothing said so. The board simulator is wired latched-high;
// the driver is configured latched-low: the first status must raise all-doors-open, once.
import { afterEach, describe, expect, it } from 'vitest';
import { busBaudRate } from '../../../hal/buses/protocols.js';
import { SerialLockBus } from '../../../hal/buses/serialLockBus.js';
import { SerialTransport } from '../../../hal/transport/serialTransport.js';
import { type LockBusEvent } from '../../../hal/types.js';
import { attachSimBus, simPositions } from '../../../sim/boards/simBus.js';
import { SimSerialRegistry } from '../../../sim/serial/simBinding.js';
import { SimWorld } from '../../../sim/world.js';
import { SystemClock } from '../../../kernel/clock.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/logger.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function busWith(polarity: 'latched-high' | 'latched-low') {
  const base = { id: 'bus0', protocol: 'kerong-cu16' as const, transport: { kind: 'sim' as const }, pollIntervalMs: 50, fastPollIntervalMs: 20, fastPollForMs: 300, replyTimeoutMs: 40, silentAfterMisses: 2 };
  const wired = SerialBusConfig.parse({ ...base, boards: [{ address: 0, locks: 16, energiseMs: 60, polarity: 'latched-high' }] });
  const configured = SerialBusConfig.parse({ ...base, boards: [{ address: 0, locks: 16, energiseMs: 60, polarity }] });
  const clock = new SystemClock();
  const world = new SimWorld(clock, simPositions(wired));
  const registry = new SimSerialRegistry();
  const { path } = attachSimBus(registry, { config: wired, world, clock });
  const warnings: string[] = [];
  const logger = silentLogger();
  const log = Object.assign(Object.create(logger) as typeof logger, { warn: (...args: unknown[]) => void warnings.push(args.map(String).join(' ')) });
  const bus = new SerialLockBus({ config: configured, transport: new SerialTransport({ path, baudRate: busBaudRate(configured), binding: registry.binding }), clock, logger: log, jitter: () => 0.5 });
  const events: LockBusEvent[] = [];
  bus.on((e) => events.push(e));
  cleanup.push(() => bus.close());
  return { bus, events, warnings };
}

describe('polarity set the wrong way round', () => {
  it('every door reading open at the first status raises all-doors-open and a warning, once', async () => {
    const { bus, events, warnings } = busWith('latched-low');
    await bus.open();
    const status = await bus.status(0);
    expect(status.locks.every((l) => !l.latched)).toBe(true);
    await bus.status(0);
    expect(events.filter((e) => e.type === 'all-doors-open')).toEqual([{ type: 'all-doors-open', bus: 'bus0', board: 0, locks: 16 }]);
    expect(warnings.some((w) => w.includes('polarity'))).toBe(true);
  });

  it('the right polarity raises nothing', async () => {
    const { bus, events, warnings } = busWith('latched-high');
    await bus.open();
    await bus.status(0);
    expect(events.filter((e) => e.type === 'all-doors-open')).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
