// The scanner's USB cable is pulled and put back: the driver reports 'disconnected', retries
// with growing, jittered delays, comes back when the device does, and scans work again.
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { afterEach, describe, expect, it } from 'vitest';
import { SerialScanner, pathListedBy, type SerialScannerOptions } from '../../../hal/scanner/serialScanner.js';
import { type ScannerEvent } from '../../../hal/types.js';
import { SimScannerDevice } from '../../../sim/scanner/simScannerDevice.js';
import { SimSerialRegistry } from '../../../sim/serial/simBinding.js';
import { SimWorld } from '../../../sim/world.js';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';

const path = '/dev/ttyACM0';

async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Rig {
  clock: ManualClock;
  world: SimWorld;
  registry: SimSerialRegistry;
  device: SimScannerDevice;
  scanner: SerialScanner;
  events: ScannerEvent[];
  /** Clock times of every open the driver tried. */
  opens: number[];
  /** Moves time in small steps, letting I/O settle in between. */
  run(ms: number, step?: number): Promise<void>;
  scan(text: string): Promise<void>;
}

let rig: Rig | undefined;

async function makeRig(overrides: Partial<SerialScannerOptions> = {}, plugged = true): Promise<Rig> {
  const clock = new ManualClock();
  const world = new SimWorld(clock, []);
  world.setScannerPlugged(plugged);
  const registry = new SimSerialRegistry();
  const device = new SimScannerDevice({ world, registry, path });
  const opens: number[] = [];
  const binding: BindingInterface = {
    list: () => registry.binding.list(),
    open: (options) => {
      opens.push(clock.now());
      return registry.binding.open(options);
    },
  };
  const scanner = new SerialScanner({
    path,
    baudRate: 9600,
    binding,
    clock,
    logger: silentLogger(),
    framing: { suffix: 'cr', interByteTimeoutMs: 80, maxLength: 1024, aimPrefix: false },
    reconnectMinMs: 500,
    reconnectMaxMs: 8_000,
    jitter: () => 0.5,
    pathExists: pathListedBy(registry.binding),
    presencePollMs: 1000,
    ...overrides,
  });
  const events: ScannerEvent[] = [];
  scanner.on((e) => events.push(e));
  const run = async (ms: number, step = 50): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      await clock.advance(Math.min(step, ms - t));
      await settle();
    }
  };
  const scan = async (text: string): Promise<void> => {
    world.scan(text);
    await settle();
    await run(100);
  };
  rig = { clock, world, registry, device, scanner, events, opens, run, scan };
  return rig;
}

afterEach(async () => {
  await rig?.scanner.stop();
  rig = undefined;
});

const kinds = (events: ScannerEvent[]): string[] => events.map((e) => e.type);

describe('scanner unplugged and replugged', () => {
  it('unplug -> disconnected; replug -> reconnects; scans work again', async () => {
    const r = await makeRig();
    await r.scanner.start();
    await settle();
    expect(r.scanner.connected).toBe(true);
    await r.scan('BEFORE-1');

    r.world.setScannerPlugged(false);
    await settle();
    expect(r.scanner.connected).toBe(false);
    expect(r.events.at(-1)).toMatchObject({ type: 'disconnected' });

    // Reads while unplugged go nowhere; the driver keeps trying in the background.
    await r.scan('LOST');
    await r.run(5_000);
    expect(r.scanner.connected).toBe(false);

    r.world.setScannerPlugged(true);
    await r.run(1_000);
    expect(r.scanner.connected).toBe(true);
    await r.scan('AFTER-1');

    expect(kinds(r.events)).toEqual(['connected', 'scan', 'disconnected', 'connected', 'scan']);
    expect(r.events.filter((e) => e.type === 'scan').map((e) => e.type === 'scan' && e.text)).toEqual(['BEFORE-1', 'AFTER-1']);
  });

  it('retries back off exponentially up to the maximum while the device is away', async () => {
    // Presence polling off: only the backoff timer brings the scanner back.
    const r = await makeRig({ pathExists: false });
    await r.scanner.start();
    await settle();
    r.registry.unplug(path);
    await settle();
    expect(r.scanner.connected).toBe(false);
    const lostAt = r.clock.now();
    r.opens.length = 0;

    await r.run(30_000, 250);
    const gaps = r.opens.map((t, i) => t - (i === 0 ? lostAt : (r.opens[i - 1] ?? 0)));
    // jitter 0.5: the delay is three quarters of the ceiling, and never below the minimum.
    expect(gaps.slice(0, 6)).toEqual([500, 750, 1500, 3000, 6000, 6000]);

    r.registry.replug(path);
    await r.run(7_000, 250);
    expect(r.scanner.connected).toBe(true);
    expect(r.events.filter((e) => e.type === 'disconnected')).toHaveLength(1);
    await r.scan('BACK');
    expect(r.events.at(-1)).toEqual({ type: 'scan', text: 'BACK' });
  });

  it('the path coming back cuts a long backoff short', async () => {
    const r = await makeRig({ reconnectMaxMs: 60_000 });
    await r.scanner.start();
    await settle();
    r.world.setScannerPlugged(false);
    await r.run(40_000, 500);
    const before = r.opens.length;
    r.world.setScannerPlugged(true);
    await r.run(1_000);
    expect(r.scanner.connected).toBe(true);
    expect(r.opens.length).toBe(before + 1);
  });

  it('a device that vanishes without an error on the port is noticed by its path', async () => {
    let present = true;
    const r = await makeRig({ pathExists: async () => present });
    await r.scanner.start();
    await settle();
    present = false;
    await r.run(1_000);
    expect(r.scanner.connected).toBe(false);
    expect(r.events.at(-1)).toEqual({ type: 'disconnected', message: `${path} disappeared` });
    expect(r.registry.isOpen(path)).toBe(false);
    present = true;
    await r.run(1_000);
    expect(r.scanner.connected).toBe(true);
    await r.scan('STILL-HERE');
    expect(r.events.at(-1)).toEqual({ type: 'scan', text: 'STILL-HERE' });
  });

  it('starting with no scanner plugged resolves, reports once, and connects when it arrives', async () => {
    const r = await makeRig({}, false);
    await expect(r.scanner.start()).resolves.toBeUndefined();
    await r.run(10_000);
    expect(kinds(r.events)).toEqual(['disconnected']);
    r.world.setScannerPlugged(true);
    await r.run(1_000);
    expect(kinds(r.events)).toEqual(['disconnected', 'connected']);
  });

  it('a read in flight when the cable is pulled is finished, not lost', async () => {
    const r = await makeRig();
    await r.scanner.start();
    await settle();
    r.world.scan('LAST-READ');
    await settle();
    r.world.setScannerPlugged(false);
    await settle();
    expect(kinds(r.events)).toEqual(['connected', 'scan', 'disconnected']);
  });

  it('host trigger commands reach the device, and fail coded when it is away', async () => {
    const r = await makeRig();
    await r.scanner.start();
    await settle();
    await r.scanner.triggerOn();
    expect(r.device.triggered).toBe(true);
    await r.scanner.triggerOff();
    expect(r.device.triggered).toBe(false);
    expect(r.device.received.map((b) => [...b])).toEqual([
      [0x16, 0x54, 0x0d],
      [0x16, 0x55, 0x0d],
    ]);
    r.world.setScannerPlugged(false);
    await settle();
    await expect(r.scanner.triggerOn()).rejects.toMatchObject({ code: 'SCANNER_UNAVAILABLE' });
  });

  it('stop closes the port and ends retrying', async () => {
    const r = await makeRig();
    await r.scanner.start();
    await settle();
    await r.scanner.stop();
    expect(r.registry.isOpen(path)).toBe(false);
    const opens = r.opens.length;
    await r.run(10_000, 1_000);
    expect(r.opens.length).toBe(opens);
    expect(r.clock.pendingTimers()).toBe(0);
  });
});
