// A megabyte of line noise through the real SerialScanner on the simulated serial binding:
// memory stays bounded, only coded rejects come out, and a real scan afterwards still works.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SerialScanner, pathListedBy } from '../../../hal/scanner/serialScanner.js';
import { type ScannerEvent } from '../../../hal/types.js';
import { SimScannerDevice, lineNoise } from '../../../sim/scanner/simScannerDevice.js';
import { SimSerialRegistry } from '../../../sim/serial/simBinding.js';
import { SimWorld } from '../../../sim/world.js';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';

const path = '/dev/serial/by-id/usb-sim-scanner';
const maxLength = 256;

/** Lets the stream and the simulated port pass bytes along (they run on real ticks). */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

let clock: ManualClock;
let world: SimWorld;
let registry: SimSerialRegistry;
let scanner: SerialScanner;
let events: ScannerEvent[];

beforeEach(async () => {
  clock = new ManualClock();
  world = new SimWorld(clock, []);
  registry = new SimSerialRegistry();
  new SimScannerDevice({ world, registry, path });
  scanner = new SerialScanner({
    path,
    baudRate: 9600,
    binding: registry.binding,
    clock,
    logger: silentLogger(),
    framing: { suffix: 'cr', interByteTimeoutMs: 80, maxLength, aimPrefix: false },
    reconnectMinMs: 500,
    reconnectMaxMs: 30_000,
    jitter: () => 0.5,
    pathExists: pathListedBy(registry.binding),
  });
  events = [];
  scanner.on((e) => events.push(e));
  await scanner.start();
  await settle();
  expect(scanner.connected).toBe(true);
  events.length = 0;
});

afterEach(async () => {
  await scanner.stop();
});

describe('scanner on a noisy line', () => {
  it('1 MB of continuous noise: bounded buffer, coded rejects only, then a real scan', async () => {
    const noise = lineNoise(1024 * 1024, { seed: 7 });
    let peak = 0;
    for (let off = 0; off < noise.length; off += 4096) {
      world.scanBytes(noise.subarray(off, off + 4096));
      await settle(2);
      peak = Math.max(peak, scanner.bufferedBytes);
      // A short lull now and then, so the noise arrives as many bursts, not one.
      if (off % (64 * 1024) === 0) await clock.advance(100);
    }
    await clock.advance(100);
    await settle();

    expect(peak).toBeLessThanOrEqual(maxLength + 2);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.type === 'rejected' && e.code === 'SCAN_REJECTED')).toBe(true);
    expect(scanner.connected).toBe(true);

    events.length = 0;
    world.scan('PICKUP 31415926');
    await settle();
    await clock.advance(100);
    expect(events).toEqual([{ type: 'scan', text: 'PICKUP 31415926' }]);
  });

  it('short noise bursts between quiet gaps: one reject each, and scans in between survive', async () => {
    const bursts = 300;
    for (let i = 0; i < bursts; i++) {
      world.scanBytes(lineNoise(1 + (i % 40), { seed: 1000 + i }));
      await settle(2);
      await clock.advance(100);
      if (i % 50 === 0) {
        world.scan(`CODE${i}`);
        await settle(2);
        await clock.advance(100);
      }
    }
    const rejects = events.filter((e) => e.type === 'rejected');
    const scans = events.filter((e) => e.type === 'scan');
    expect(rejects).toHaveLength(bursts);
    expect(rejects.every((e) => e.type === 'rejected' && e.code === 'SCAN_REJECTED' && e.length > 0)).toBe(true);
    expect(scans.map((e) => e.type === 'scan' && e.text)).toEqual([0, 50, 100, 150, 200, 250].map((i) => `CODE${i}`));
  });

  it('a scanner at the wrong line speed yields rejects, never scans', async () => {
    await scanner.stop();
    registry.unregister(path);
    new SimScannerDevice({ world, registry, path, baudRate: 115200 });
    events.length = 0;
    await scanner.start();
    await settle();
    for (let i = 0; i < 20; i++) {
      world.scan(`9780201633610${i}`);
      await settle(2);
      await clock.advance(100);
    }
    expect(events.filter((e) => e.type === 'scan')).toEqual([]);
    expect(events.filter((e) => e.type === 'rejected')).toHaveLength(20);
  });
});
