import { afterEach, describe, expect, it } from 'vitest';
import { SerialLockBus } from '../../../hal/buses/serialLockBus.js';
import { SerialTransport } from '../../../hal/transport/serialTransport.js';
import { isLockerError } from '../../../kernel/errors.js';
import { SimBus, simPositions } from '../../../sim/boards/simBus.js';
import { type SimSerialDevice, SimSerialRegistry } from '../../../sim/serial/simBinding.js';
import { SimWorld } from '../../../sim/world.js';
import { SystemClock } from '../../../kernel/clock.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/logger.js';
import { hexBytes } from '../../support/hexBytes.js';
import { type SerialBusConfigInput, simulatedBus, sleep, waitForEvent } from '../../support/simulatedBus.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

const base: SerialBusConfigInput = {
  id: 'bus0',
  protocol: 'kerong-cu16',
  transport: { kind: 'sim' },
  boards: [{ address: 0, locks: 16, polarity: 'latched-low', energiseMs: 60 }],
  // Polling slow enough that only the explicit calls meet the corrupted replies.
  pollIntervalMs: 60_000,
  fastPollIntervalMs: 20,
  fastPollForMs: 0,
  replyTimeoutMs: 50,
  silentAfterMisses: 3,
};

async function startQuiet() {
  const sim = simulatedBus(base);
  running.push(sim.bus);
  await sim.bus.open();
  await waitForEvent(sim.events, (e) => e.type === 'reading' && e.reading.lock === 16);
  return sim;
}

describe('garbled and truncated frames', () => {
  it('a garbled reply fails the status with FRAME_INVALID (checksum) and the next one works', async () => {
    const { bus, world } = await startQuiet();
    world.corruptReplies('bus0', 'garble', 1);
    const error: unknown = await bus.status(0).catch((e: unknown) => e);
    expect(isLockerError(error, 'FRAME_INVALID')).toBe(true);
    expect(error).toMatchObject({
      context: { bus: 'bus0', board: 0, request: '02 00 30 03 35', rejects: [{ reason: 'checksum', bytes: '02 00 35 00 00 00 FF 03 3A', length: 9 }] },
    });
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
  });

  it('a truncated reply fails the status with FRAME_INVALID (truncated) and the next one works', async () => {
    const { bus, world } = await startQuiet();
    world.corruptReplies('bus0', 'truncate', 1);
    await expect(bus.status(0)).rejects.toMatchObject({
      code: 'FRAME_INVALID',
      context: { rejects: [{ reason: 'truncated', bytes: '02 00 35 00 00' }] },
    });
    const status = await bus.status(0);
    expect(status.locks.every((l) => l.latched)).toBe(true);
  });

  it('while polling, a few bad replies neither crash the bus nor make the board silent', async () => {
    const sim = simulatedBus({ ...base, pollIntervalMs: 50, fastPollForMs: 500 });
    running.push(sim.bus);
    const { bus, world, events } = sim;
    await bus.open();
    world.corruptReplies('bus0', 'garble', 1);
    await sleep(120);
    world.corruptReplies('bus0', 'truncate', 1);
    await sleep(120);
    await bus.unlock(0, 4);
    await waitForEvent(events, (e) => e.type === 'reading' && e.reading.lock === 4 && !e.reading.latched);
    expect(events.filter((e) => e.type === 'board-silent')).toEqual([]);
    expect(bus.silentBoards()).toEqual([]);
  });

  it('misses made of garbage count: a board that only sends garbage goes silent with FRAME_INVALID', async () => {
    const sim = simulatedBus({ ...base, pollIntervalMs: 50 });
    running.push(sim.bus);
    const { bus, world, events } = sim;
    await bus.open();
    world.corruptReplies('bus0', 'garble', 100);
    const silent = await waitForEvent(events, (e) => e.type === 'board-silent');
    expect(silent).toMatchObject({ board: 0, code: 'FRAME_INVALID' });
  });

  it('line noise around a reply is dropped and the reply still understood', async () => {
    const config = SerialBusConfig.parse(base);
    const clock = new SystemClock();
    const world = new SimWorld(clock, simPositions(config));
    const boards = new SimBus({ config, world, clock });
    // Every chunk the boards send arrives wrapped in noise, including a false STX.
    const noisy: SimSerialDevice = {
      connect: (send, baud) => boards.connect((bytes) => send(Uint8Array.from([...hexBytes('FF 02 99 00'), ...bytes, ...hexBytes('02 00')])), baud),
      disconnect: () => boards.disconnect(),
      receive: (bytes) => boards.receive(bytes),
    };
    const registry = new SimSerialRegistry();
    registry.register('/dev/ttyNOISY', noisy);
    const bus = new SerialLockBus({ config, transport: new SerialTransport({ path: '/dev/ttyNOISY', baudRate: 19200, binding: registry.binding }), clock, logger: silentLogger(), jitter: () => 0.5 });
    running.push(bus);
    await bus.open();
    world.forceOpen({ bus: 'bus0', board: 0, lock: 2 });
    for (let i = 0; i < 5; i++) {
      const status = await bus.status(0);
      expect(status.locks[1]).toEqual({ lock: 2, latched: false });
    }
  });
});
