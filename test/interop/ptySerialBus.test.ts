// The real driver on a real tty: a socat pty pair with the native @serialport/bindings-cpp on
// both ends, the SerialLockBus (CU48) on one end and the CU48 board simulator on the other.
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialLockBus } from '../../hal/buses/serialLockBus.js';
import { SerialTransport, loadNativeSerialBinding } from '../../hal/transport/serialTransport.js';
import { type LockBusEvent } from '../../hal/types.js';
import { SimBus, type SimBusTraffic, simPositions } from '../../sim/boards/simBus.js';
import { PtyBoardBridge } from '../../sim/serial/ptyBoardBridge.js';
import { SimWorld } from '../../sim/world.js';
import { SystemClock } from '../../kernel/clock.js';
import { SerialBusConfig } from '../../src/config/schema.js';
import { silentLogger } from '../../src/logger.js';
import { toHex } from '../support/hexBytes.js';
import { waitForEvent } from '../support/simulatedBus.js';
import { type SocatPty, startSocatPty } from '../support/socatPty.js';

describe('CU48 bus over a socat pty pair with the native bindings', () => {
  let pty: SocatPty;
  let binding: BindingInterface;
  let bridge: PtyBoardBridge;
  let bus: SerialLockBus;
  let world: SimWorld;
  const events: LockBusEvent[] = [];
  const traffic: SimBusTraffic[] = [];

  beforeAll(async () => {
    pty = await startSocatPty();
    binding = await loadNativeSerialBinding();
    const config = SerialBusConfig.parse({
      id: 'bus0',
      protocol: 'kerong-cu48',
      transport: { kind: 'serial', path: pty.a, baudRate: 19200 },
      boards: [
        { address: 0, locks: 48, energiseMs: 150 },
        { address: 1, locks: 24, energiseMs: 150 },
      ],
      pollIntervalMs: 100,
      fastPollIntervalMs: 30,
      fastPollForMs: 1_000,
      replyTimeoutMs: 200,
      silentAfterMisses: 2,
    });
    const clock = new SystemClock();
    world = new SimWorld(clock, simPositions(config));
    const simBus = new SimBus({ config, world, clock });
    simBus.onTraffic((t) => traffic.push(t));
    bridge = new PtyBoardBridge({ path: pty.b, device: simBus, baudRate: 19200, binding });
    await bridge.start();
    bus = new SerialLockBus({ config, transport: new SerialTransport({ path: pty.a, baudRate: 19200, binding }), clock, logger: silentLogger(), jitter: () => 0.5 });
    bus.on((e) => events.push(e));
    await bus.open();
  });

  afterAll(async () => {
    await bus?.close();
    await bridge?.stop();
    await pty?.stop();
  });

  it('reads the status of both boards through the tty', async () => {
    const s0 = await bus.status(0);
    expect(s0.locks).toHaveLength(48);
    expect(s0.locks.every((l) => l.latched)).toBe(true);
    const s1 = await bus.status(1);
    expect(s1.locks).toHaveLength(24);
    // The bytes the board end received are the documented status frame.
    expect(traffic.some((t) => t.direction === 'host' && toHex(t.bytes).includes('02 00 00 50 03 55'))).toBe(true);
  });

  it('unlock -> the door-open reading arrives', async () => {
    await bus.unlock(0, 6);
    const opened = await waitForEvent(events, (e) => e.type === 'reading' && e.board === 0 && e.reading.lock === 6 && !e.reading.latched, 3_000);
    expect(opened).toMatchObject({ previous: { lock: 6, latched: true } });
    expect(world.lock({ bus: 'bus0', board: 0, lock: 6 }).doorOpen).toBe(true);
    expect(traffic.some((t) => t.direction === 'host' && toHex(t.bytes).includes('02 00 05 51 03 5B'))).toBe(true);
  });

  it('a silent board is reported, refused, and reported back', async () => {
    world.setBoardSilent('bus0', 1, true);
    await waitForEvent(events, (e) => e.type === 'board-silent' && e.board === 1, 3_000);
    expect(bus.silentBoards()).toEqual([1]);
    await expect(bus.status(1)).rejects.toMatchObject({ code: 'BOARD_SILENT' });
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
    world.setBoardSilent('bus0', 1, false);
    await waitForEvent(events, (e) => e.type === 'board-back' && e.board === 1, 3_000);
    expect(bus.silentBoards()).toEqual([]);
  });
});
