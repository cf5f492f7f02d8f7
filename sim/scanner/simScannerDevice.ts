// A simulated serial barcode scanner behind the simulated serialport binding. It sends what
// the simulated world reads (SimWorld `scan` events: text plus suffix, or raw noise) to the
// host, and follows the world's "scanner plugged" switch by unplugging and replugging its
// path in the registry, which is how a USB removal looks to the host.
//
// It also keeps what the host wrote (trigger and configuration commands) and answers the
// Honeywell host-trigger commands by tracking whether a read is armed.
import { type SimSerialDevice, type SimSerialRegistry } from '../serial/simBinding.js';
import { type SimWorld } from '../world.js';

export interface SimScannerDeviceOptions {
  world: SimWorld;
  registry: SimSerialRegistry;
  path: string;
  /**
   * Line speed the scanner is set to. A host opening the port at another speed receives
   * garbage, as on a real line. Undefined: any speed works (a USB CDC-ACM scanner).
   */
  baudRate?: number;
}

export class SimScannerDevice implements SimSerialDevice {
  readonly path: string;
  /** Everything the host wrote, in order. */
  readonly received: Uint8Array[] = [];
  private send: ((bytes: Uint8Array) => void) | undefined;
  private hostBaudRate = 0;
  private armed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: SimScannerDeviceOptions) {
    this.path = options.path;
    options.registry.register(options.path, this);
    if (!options.world.scannerIsPlugged) options.registry.unplug(options.path);
    this.unsubscribe = options.world.on((event) => {
      if (event.type === 'scan') this.transmit(event.bytes);
      else if (event.type === 'scanner') {
        if (event.plugged) options.registry.replug(options.path);
        else options.registry.unplug(options.path);
      }
    });
  }

  /** True while the host has the port open. */
  get hostConnected(): boolean {
    return this.send !== undefined;
  }

  /** True between a host trigger-on and trigger-off (Honeywell `16 54 0D` / `16 55 0D`). */
  get triggered(): boolean {
    return this.armed;
  }

  connect(send: (bytes: Uint8Array) => void, baudRate: number): boolean {
    if (!this.options.world.scannerIsPlugged) return false;
    this.send = send;
    this.hostBaudRate = baudRate;
    return true;
  }

  disconnect(): void {
    this.send = undefined;
    this.armed = false;
  }

  receive(bytes: Uint8Array): void {
    this.received.push(Uint8Array.from(bytes));
    for (let i = 0; i + 2 < bytes.length; i++) {
      if (bytes[i] !== 0x16 || bytes[i + 2] !== 0x0d) continue;
      if (bytes[i + 1] === 0x54) this.armed = true;
      if (bytes[i + 1] === 0x55) this.armed = false;
    }
  }

  baudRateChanged(baudRate: number): void {
    this.hostBaudRate = baudRate;
  }

  /** Stops following the world and removes the device from the registry. */
  detach(): void {
    this.unsubscribe();
    this.options.registry.unregister(this.path);
  }

  private transmit(bytes: Uint8Array): void {
    if (!this.send) return;
    const wrongSpeed = this.options.baudRate !== undefined && this.hostBaudRate !== this.options.baudRate;
    this.send(wrongSpeed ? lineNoise(bytes.length, { seed: bytes.length }) : bytes);
  }
}

export interface LineNoiseOptions {
  /** Same seed, same bytes. Default 1. */
  seed?: number;
}

/**
 * N bytes of what a disturbed serial line delivers: framing-error garbage (random bytes),
 * runs of 0x00 (a break, the line held low), runs of 0xFF (glitches on an idle line), stray
 * CR/LF, and printable fragments (a read at the wrong speed, a partial code).
 *
 * It always contains at least one 0x00 or 0xFF, bytes no barcode carries, so a noise burst on
 * its own never frames as a scan.
 */
export function lineNoise(n: number, options: LineNoiseOptions = {}): Uint8Array {
  const next = mulberry32(options.seed ?? 1);
  const out = new Uint8Array(n);
  const printable = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-./:';
  let i = 0;
  while (i < n) {
    const kind = next();
    const run = Math.min(n - i, 1 + Math.floor(next() * 24));
    if (kind < 0.55) {
      for (let k = 0; k < run; k++) out[i++] = Math.floor(next() * 256);
    } else if (kind < 0.7) {
      out.fill(0x00, i, i + run);
      i += run;
    } else if (kind < 0.8) {
      out.fill(0xff, i, i + run);
      i += run;
    } else if (kind < 0.88) {
      out[i++] = next() < 0.5 ? 0x0d : 0x0a;
    } else {
      for (let k = 0; k < run; k++) out[i++] = printable.charCodeAt(Math.floor(next() * printable.length));
    }
  }
  if (n > 0 && !out.some((b) => b === 0x00 || b === 0xff)) out[Math.floor(next() * n)] = next() < 0.5 ? 0x00 : 0xff;
  return out;
}

/** Small deterministic generator: noise has to repeat from run to run, not be unpredictable. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
