// The barcode scanner on a serial line (RS-232 or USB CDC-ACM). Owns the line's life: opens it
// through hal/transport/serialTransport (the same byte transport the lock buses use), frames
// its bytes into scans (scanFraming.ts), and while started keeps trying to get the device back
// with the shared backoff (kernel/backoff.ts). The serialport binding is injected, so the same
// code runs on the native binding, the simulator and a pty.
//
// Unplug detection has two sources because neither is enough alone: serialport emits 'close'
// with `disconnected: true` when a read fails, but not always promptly after a USB device
// vanishes; and the device path (/dev/ttyACM0, /dev/serial/by-id/...) disappears at once but
// says nothing about a dead line. So the path is polled as well, and its reappearance triggers
// a reconnect without waiting out the backoff.
//
// Nothing here rejects or throws because the device is missing: that is reported as a
// 'disconnected' event and retried.
import { stat } from 'node:fs/promises';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { type Clock, type TimerHandle } from '../../kernel/clock.js';

import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { Backoff } from '../../kernel/backoff.js';
import { hex, type Logger } from '../../kernel/log.js';
import { SerialTransport } from '../transport/serialTransport.js';
import { type Scanner, type ScannerEvent, type ScannerListener } from '../types.js';
import { ScanFramer, type ScanFrame, type ScanFramingOptions } from './scanFraming.js';

/** Honeywell host trigger commands (SYN T CR / SYN U CR). */
export const honeywellTriggerOn = Uint8Array.of(0x16, 0x54, 0x0d);
export const honeywellTriggerOff = Uint8Array.of(0x16, 0x55, 0x0d);

export interface SerialScannerOptions {
  path: string;
  baudRate: number;
  binding: BindingInterface;
  clock: Clock;
  logger: Logger;
  framing: ScanFramingOptions;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Uniform [0, 1) for backoff jitter, injected (hal draws no randomness itself). */
  jitter: () => number;
  /**
   * Whether the device path exists now. Default: fs.stat of the path. For bindings whose paths
   * are not files pass `pathListedBy(binding)`, or false to rely on 'close' events alone.
   */
  pathExists?: ((path: string) => Promise<boolean>) | false;
  /** How often the device path is checked. Default 1000 ms. */
  presencePollMs?: number;
}


export async function pathExistsOnDisk(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Presence by the binding's own port list, for bindings whose paths are not files (the simulator). */
export function pathListedBy(binding: BindingInterface): (path: string) => Promise<boolean> {
  return async (path) => (await binding.list()).some((p) => p.path === path);
}

export class SerialScanner implements Scanner {
  private readonly listeners = new Set<ScannerListener>();
  private readonly framer: ScanFramer;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly pathExists: ((path: string) => Promise<boolean>) | undefined;
  private started = false;
  private readonly transport: SerialTransport;
  /** Set while the line is open; a new object per open, so events of an old line change nothing. */
  private link: object | undefined;
  private opening: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: TimerHandle | undefined;
  private presenceTimer: TimerHandle | undefined;
  private flushTimer: TimerHandle | undefined;
  private checkingPresence = false;
  private lastPresent: boolean | undefined;
  /** What listeners were last told, so a retry loop does not repeat 'disconnected'. */
  private announced: 'connected' | 'disconnected' | undefined;

  constructor(private readonly options: SerialScannerOptions) {
    this.framer = new ScanFramer(options.framing);
    this.log = options.logger.child({ channel: 'scanner', path: options.path });
    this.backoff = new Backoff({ baseMs: options.reconnectMinMs, maxMs: Math.max(options.reconnectMinMs, options.reconnectMaxMs), fraction: options.jitter });
    this.pathExists = options.pathExists === false ? undefined : (options.pathExists ?? pathExistsOnDisk);
    this.transport = new SerialTransport({ path: options.path, baudRate: options.baudRate, binding: options.binding });
    this.transport.on('data', (bytes) => this.receive(bytes));
    // Without a listener a fault would go unseen; every fault that matters also shows up as a
    // failed open or a 'close'.
    this.transport.on('error', (e) => this.log.warn({ err: e }, 'serial port error'));
    this.transport.on('close', (e) => {
      if (!this.link) return;
      this.lose(e?.detail ?? 'port closed');
      if (e?.message.includes('disconnected')) this.log.warn('scanner unplugged');
      this.scheduleRetry();
    });
  }

  get connected(): boolean {
    return this.link !== undefined;
  }

  /** Bytes held for an unfinished frame (bounded by maxLength + 2). */
  get bufferedBytes(): number {
    return this.framer.buffered;
  }

  on(listener: ScannerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves after the first open attempt, whether or not the device was there. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.failures = 0;
    this.backoff.reset();
    if (this.pathExists) this.presenceTimer = this.options.clock.setInterval(() => void this.checkPresence(), this.options.presencePollMs ?? 1000);
    await this.open();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    this.presenceTimer?.cancel();
    this.presenceTimer = undefined;
    await this.opening;
    if (this.link) {
      this.lose('scanner stopped');
      await this.transport.close();
    }
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.announced = undefined;
  }

  /** Asks a Honeywell scanner in host-trigger mode to start reading. Rejects with SCANNER_UNAVAILABLE when not connected. */
  triggerOn(): Promise<void> {
    return this.send(honeywellTriggerOn);
  }

  triggerOff(): Promise<void> {
    return this.send(honeywellTriggerOff);
  }

  /** Writes raw bytes to the scanner (vendor configuration commands). */
  async send(bytes: Uint8Array): Promise<void> {
    if (!this.link) throw new LockerError(ErrorCodes.SCANNER_UNAVAILABLE, `scanner at ${this.options.path} is not connected`);
    this.log.debug({ hex: hex(bytes) }, '->');
    try {
      await this.transport.write(bytes);
    } catch (e) {
      throw new LockerError(ErrorCodes.SCANNER_UNAVAILABLE, `write to ${this.options.path} failed: ${errorText(e)}`, {}, { cause: e });
    }
  }

  private open(): Promise<void> {
    if (!this.started || this.link || this.opening) return this.opening ?? Promise.resolve();
    this.opening = this.attemptOpen().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async attemptOpen(): Promise<void> {
    const { path, baudRate } = this.options;
    // A path known to be gone is not opened: the open would fail anyway, and a stale port
    // that still opens would be dropped again by the next presence check.
    if (this.pathExists && !(await this.present())) {
      this.failed(new Error(`${path} does not exist`));
      return;
    }
    try {
      await this.transport.open();
    } catch (e) {
      this.failed(e);
      return;
    }
    if (!this.started) {
      await this.transport.close();
      return;
    }
    this.link = {};
    this.failures = 0;
    this.backoff.reset();
    this.lastPresent = true;
    this.log.info({ baudRate }, 'scanner connected');
    this.announce({ type: 'connected' });
  }

  private failed(e: unknown): void {
    this.failures += 1;
    const message = errorText(e);
    if (this.announced !== 'disconnected') this.log.warn({ err: e }, 'scanner not available');
    else this.log.debug({ err: e, failures: this.failures }, 'scanner still not available');
    this.announce({ type: 'disconnected', message });
    this.scheduleRetry();
  }

  /** Forgets the live port: finishes its open frame and tells listeners. */
  private lose(message: string): void {
    if (!this.link) return;
    this.link = undefined;
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.deliver(this.framer.flush());
    this.announce({ type: 'disconnected', message });
  }

  private scheduleRetry(): void {
    if (!this.started || this.retryTimer || this.link) return;
    // kernel/backoff.ts: the same equal-jitter formula as the lock bus and MQTT.
    const delay = this.backoff.next();
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, delay);
  }

  private async checkPresence(): Promise<void> {
    if (this.checkingPresence || !this.started) return;
    this.checkingPresence = true;
    const wasPresent = this.lastPresent;
    const present = await this.present();
    this.checkingPresence = false;
    if (!this.started) return;
    if (!present && this.link) {
      this.lose(`${this.options.path} disappeared`);
      this.log.warn('scanner device path disappeared');
      void this.transport.close();
      this.scheduleRetry();
    } else if (present && wasPresent === false && !this.link && !this.opening) {
      // The device is back: try now rather than at the end of a long backoff.
      this.retryTimer?.cancel();
      this.retryTimer = undefined;
      this.failures = 0;
      this.backoff.reset();
      void this.open();
    }
  }

  private async present(): Promise<boolean> {
    let present: boolean;
    try {
      present = this.pathExists ? await this.pathExists(this.options.path) : true;
    } catch {
      present = false;
    }
    this.lastPresent = present;
    return present;
  }

  private receive(chunk: Uint8Array): void {
    if (!this.link) return;
    // Raw bytes are what was scanned: pickup codes, badges. Only their count is logged, at any level.
    this.log.trace({ length: chunk.length }, '<-');
    this.deliver(this.framer.push(chunk, this.options.clock.monotonic()));
    this.armFlush();
  }

  // One timer at a time; when it fires early because more bytes came in, it re-arms for the
  // new deadline instead of being cancelled and recreated for every chunk.
  private armFlush(): void {
    if (this.flushTimer) return;
    const deadline = this.framer.nextDeadline();
    if (deadline === undefined) return;
    const wait = Math.max(0, deadline - this.options.clock.monotonic());
    this.flushTimer = this.options.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.deliver(this.framer.tick(this.options.clock.monotonic()));
      this.armFlush();
    }, wait);
  }

  private deliver(frames: ScanFrame[]): void {
    for (const f of frames) {
      if (f.type === 'scan') {
        this.log.debug({ length: f.text.length, symbology: f.symbology }, 'scan');
        this.emit(f.symbology === undefined ? { type: 'scan', text: f.text } : { type: 'scan', text: f.text, symbology: f.symbology });
      } else {
        this.log.warn({ reason: f.reason, length: f.length }, `${f.code}: scan rejected`);
        this.emit({ type: 'rejected', code: f.code, length: f.length });
      }
    }
  }

  private announce(event: Extract<ScannerEvent, { type: 'connected' | 'disconnected' }>): void {
    if (this.announced === event.type) return;
    this.announced = event.type;
    this.emit(event);
  }

  private emit(event: ScannerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        this.log.error({ err: e, event: event.type }, 'scanner listener threw');
      }
    }
  }
}


function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
