// Fixtures for scenario tests: the real SerialLockBus over SerialPortStream, with the simulated
// serial binding and board simulators underneath, on real timers with small intervals.
import { busBaudRate } from '../../hal/buses/protocols.js';
import { SerialLockBus, type SerialLockBusOptions } from '../../hal/buses/serialLockBus.js';
import { SerialTransport } from '../../hal/transport/serialTransport.js';
import { type LockBusEvent } from '../../hal/types.js';
import { type SimBusOptions, attachSimBus, simPositions } from '../../sim/boards/simBus.js';
import { SimSerialRegistry } from '../../sim/serial/simBinding.js';
import { SimWorld } from '../../sim/world.js';
import { SystemClock } from '../../kernel/clock.js';
import { SerialBusConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logger.js';
import { type z } from 'zod';

export type SerialBusConfigInput = z.input<typeof SerialBusConfig>;

export interface SimulatedBusOptions {
  simBus?: Partial<Omit<SimBusOptions, 'config' | 'world' | 'clock'>>;
  bus?: Partial<Omit<SerialLockBusOptions, 'config' | 'transport' | 'clock'>>;
}

export function simulatedBus(input: SerialBusConfigInput, options: SimulatedBusOptions = {}) {
  const config = SerialBusConfig.parse(input);
  const clock = new SystemClock();
  const world = new SimWorld(clock, simPositions(config));
  const registry = new SimSerialRegistry();
  const { simBus, path } = attachSimBus(registry, { config, world, clock, ...options.simBus });
  const transport = new SerialTransport({ path, baudRate: busBaudRate(config), binding: registry.binding });
  const bus = new SerialLockBus({ config, transport, clock, logger: silentLogger(), jitter: () => 0.5, reopenMinMs: 20, reopenMaxMs: 100, ...options.bus });
  const events: LockBusEvent[] = [];
  bus.on((e) => events.push(e));
  return { config, clock, world, registry, simBus, path, transport, bus, events };
}

/** Resolves with the first event (already seen or still to come) that matches, or fails after `timeoutMs`. */
export async function waitForEvent<E extends LockBusEvent>(events: LockBusEvent[], match: (e: LockBusEvent) => e is E, timeoutMs?: number): Promise<E>;
export async function waitForEvent(events: LockBusEvent[], match: (e: LockBusEvent) => boolean, timeoutMs?: number): Promise<LockBusEvent>;
export async function waitForEvent(events: LockBusEvent[], match: (e: LockBusEvent) => boolean, timeoutMs = 3_000): Promise<LockBusEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events.find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events.map((e) => e.type))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function waitUntil(condition: () => boolean, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
