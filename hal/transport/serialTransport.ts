// A ByteTransport over a serial port: SerialPortStream with an injected binding, so the same
// code runs on the native bindings (a tty, a socat pty) and on the simulator's binding.
// Each open() builds a fresh stream: serialport never reconnects by itself, and a stream that
// saw a disconnect is not reused. Native bindings load only through loadNativeSerialBinding(),
// which only the composition root (or a whole-process tool) calls.
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import { SerialPortStream } from '@serialport/stream';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type ByteTransport, type ByteTransportEvent, type ByteTransportEvents, TransportListeners } from './byteTransport.js';

export interface SerialTransportOptions {
  path: string;
  baudRate: number;
  binding: BindingInterface;
}

/** Loads @serialport/bindings-cpp (native code) on first use and returns the platform's binding. */
/** A serialport binding (native, simulated or a test double), as the rest of the code names it. */
export type SerialBinding = BindingInterface;

export async function loadNativeSerialBinding(): Promise<BindingInterface> {
  const mod = await import('@serialport/bindings-cpp');
  return mod.autoDetect();
}

/**
 * Calls onAppear when `path` (a tty, or a udev symlink such as /dev/serial/by-id/...) exists
 * after a change in its folder: fs.watch on the nearest folder of the path that exists (a
 * by-id folder vanishes with its last device), re-armed one level deeper as folders appear.
 * Events for other names, and a path that is still absent, are ignored, so a busy /dev cannot
 * drive a storm of open attempts. Returns the unwatch.
 */
export function watchDevicePath(path: string, onAppear: () => void): () => void {
  let watcher: FSWatcher | undefined;
  let watched = '';
  let stopped = false;
  const nearestFolder = (): string => {
    let d = dirname(path);
    while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
    return d;
  };
  const arm = (): void => {
    if (stopped) return;
    const folder = nearestFolder();
    if (watcher && folder === watched) return;
    watcher?.close();
    watched = folder;
    watcher = watch(folder, { persistent: false }, () => changed());
    watcher.on('error', () => {
      // The folder itself went away: watch the nearest one that is left.
      watcher?.close();
      watcher = undefined;
      watched = '';
      arm();
    });
  };
  const changed = (): void => {
    if (stopped) return;
    if (watched !== dirname(path)) arm();
    if (existsSync(path)) onAppear();
  };
  arm();
  return () => {
    stopped = true;
    watcher?.close();
    watcher = undefined;
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SerialTransport implements ByteTransport {
  private readonly listeners = new TransportListeners();
  private port: SerialPortStream | undefined;
  private closingPort: SerialPortStream | undefined;
  private baudRate: number;

  constructor(private readonly options: SerialTransportOptions) {
    this.baudRate = options.baudRate;
  }

  get description(): string {
    return `${this.options.path}@${this.baudRate}`;
  }

  get isOpen(): boolean {
    return this.port?.isOpen ?? false;
  }

  on<E extends ByteTransportEvent>(event: E, listener: ByteTransportEvents[E]): () => void {
    return this.listeners.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.port) return;
    const port = new SerialPortStream<BindingInterface>({
      binding: this.options.binding,
      path: this.options.path,
      baudRate: this.baudRate,
      dataBits: 8,
      stopBits: 1,
      parity: 'none',
      autoOpen: false,
    });
    // An 'error' event without a listener would throw and take the process down.
    port.on('error', (e: Error) => {
      if (this.port === port) this.listeners.emit('error', new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.options.path}: ${e.message}`, { path: this.options.path }, { cause: e }));
    });
    try {
      await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    } catch (e) {
      throw new LockerError(ErrorCodes.TRANSPORT_ERROR, `cannot open ${this.options.path}: ${messageOf(e)}`, { path: this.options.path }, { cause: e });
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (this.port === port) this.listeners.emit('data', new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    // 'close' may come twice after a failed write (stream destroy, then the binding close): only the first counts.
    port.on('close', (e: (Error & { disconnected?: boolean }) | null | undefined) => {
      if (this.port !== port) return;
      this.port = undefined;
      const requested = this.closingPort === port;
      this.closingPort = undefined;
      if (requested) {
        this.listeners.emit('close', undefined);
        return;
      }
      const why = e ? (e.disconnected ? `disconnected (${e.message})` : e.message) : 'closed unexpectedly';
      this.listeners.emit('close', new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.options.path}: ${why}`, { path: this.options.path }, { cause: e ?? undefined }));
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.options.path} is not open`, { path: this.options.path }));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(bytes), (e) => {
        if (e) reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `write to ${this.options.path} failed: ${e.message}`, { path: this.options.path }, { cause: e }));
        else resolve();
      });
    });
  }

  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) throw new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.options.path} is not open`, { path: this.options.path });
    try {
      await new Promise<void>((resolve, reject) => port.update({ baudRate }, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      throw new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.options.path}: cannot set ${baudRate} baud: ${messageOf(e)}`, { path: this.options.path, baudRate }, { cause: e });
    }
    this.baudRate = baudRate;
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.closingPort = port;
    await new Promise<void>((resolve) => {
      if (!port.isOpen) {
        resolve();
        return;
      }
      port.close(() => resolve());
    });
    if (this.port === port) {
      // The stream refused to close (already going down): forget it anyway.
      this.port = undefined;
      this.closingPort = undefined;
      this.listeners.emit('close', undefined);
    }
  }
}
