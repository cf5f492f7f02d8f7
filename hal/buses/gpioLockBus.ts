// Locks wired straight to the controller: one relay output per latch, optionally one reed
// switch input per door. The bus has a single board, 0.
//
// Feedback: a reed switch is the only sensor, so a lock reports `doorOpen` from it and
// `latched` as its inverse (a closed door is taken to be latched: solenoid latches catch the
// door by themselves when it is pushed shut). A lock without a reed switch reports no
// `doorOpen` and `latched: false` only while its relay is energised, which is all that is
// known about it; door sessions on such a lock cannot confirm anything and should be avoided.
//
// Relays: one at a time. Each latch draws 200-3000 mA, so unlocks queue and a relay is
// released before the next one is energised. `unlock` resolves once the relay is energised
// (the equivalent of "frame written" on the serial boards) and the release follows after the
// lock's energise time.
//
// Door inputs are debounced (`debounceMs`): a level must hold that long before it is
// reported. Edges are watched, and the lines are also polled (faster for a while after an
// unlock) because sysfs edge interrupts can be missed.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type GpioBusOptions as GpioBusConfig } from '../options.js';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type Logger } from '../../kernel/log.js';
import { type BoardStatus, type LockBus, type LockBusEvent, type LockBusListener, type LockReading } from '../types.js';
import { type GpioInput, type GpioOutput, type GpioPort, type GpioValue } from '../gpio/gpioPort.js';

type GpioLockConfig = GpioBusConfig['locks'][number];

export interface GpioLockBusOptions {
  config: GpioBusConfig;
  gpio: GpioPort;
  clock: Clock;
  logger: Logger;
}

interface LockLine {
  config: GpioLockConfig;
  relay: GpioOutput | undefined;
  door: GpioInput | undefined;
  unwatch: (() => void) | undefined;
  /** Debounced level of the reed switch. */
  stable: GpioValue | undefined;
  /** Level waiting out the debounce time. */
  candidate: GpioValue | undefined;
  debounce: TimerHandle | undefined;
  energised: boolean;
  reported: LockReading | undefined;
}

interface UnlockJob {
  line: LockLine;
  resolve: () => void;
  reject: (e: LockerError) => void;
}

/** Attempts to release a relay before giving up and raising the alarm in the log. */
const releaseAttempts = 3;

export class GpioLockBus implements LockBus {
  readonly id: string;
  private readonly lines: LockLine[];
  private readonly listeners = new Set<LockBusListener>();
  private readonly log: Logger;
  private readonly queue: UnlockJob[] = [];
  private state: 'closed' | 'opening' | 'open' = 'closed';
  private draining: Promise<void> | undefined;
  private wakePulse: (() => void) | undefined;
  private pollTimer: TimerHandle | undefined;
  private pollDueAt = 0;
  private fastPollUntil = 0;
  private polling = false;
  private pollFailing = false;
  private statusAt = 0;

  constructor(private readonly options: GpioLockBusOptions) {
    this.id = options.config.id;
    this.log = options.logger.child({ channel: 'gpio-bus', bus: this.id });
    this.lines = [...options.config.locks]
      .sort((a, b) => a.lock - b.lock)
      .map((config) => ({
        config,
        relay: undefined,
        door: undefined,
        unwatch: undefined,
        stable: undefined,
        candidate: undefined,
        debounce: undefined,
        energised: false,
        reported: undefined,
      }));
  }

  async open(): Promise<void> {
    if (this.state !== 'closed') return;
    this.state = 'opening';
    const { gpio } = this.options;
    try {
      for (const line of this.lines) {
        line.relay = await gpio.openOutput(line.config.relayPin, line.config.relayActiveLow);
        if (line.config.doorPin !== undefined) {
          const door = await gpio.openInput(line.config.doorPin, 'both');
          line.door = door;
          line.unwatch = door.watch((value) => this.sample(line, value));
        }
      }
      for (const line of this.lines) if (line.door) line.stable = await line.door.read();
    } catch (e) {
      await this.releaseLines();
      this.state = 'closed';
      throw gpioError(e, `cannot open GPIO bus ${this.id}`);
    }
    this.state = 'open';
    this.statusAt = this.options.clock.now();
    this.log.info({ locks: this.lines.length }, 'gpio bus open');
    this.emit({ type: 'transport', bus: this.id, connected: true });
    for (const line of this.lines) this.report(line);
    this.schedulePoll(this.options.config.pollIntervalMs);
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.pollTimer?.cancel();
    this.pollTimer = undefined;
    for (const job of this.queue.splice(0)) job.reject(new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} closed`, { bus: this.id }));
    this.wakePulse?.();
    await this.draining;
    await this.releaseLines();
    this.emit({ type: 'transport', bus: this.id, connected: false });
  }

  unlock(board: number, lock: number): Promise<void> {
    const line = this.find(board, lock);
    if (line instanceof LockerError) return Promise.reject(line);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, resolve, reject });
      this.kick();
    });
  }

  async status(board: number): Promise<BoardStatus> {
    const bad = this.checkBoard(board);
    if (bad) throw bad;
    await this.readDoors();
    const status = this.lastStatus(0);
    if (!status) throw new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} is not open`, { bus: this.id });
    return status;
  }

  lastStatus(board: number): BoardStatus | undefined {
    if (board !== 0 || this.state !== 'open') return undefined;
    return { board: 0, locks: this.lines.map((l) => this.readingOf(l)), at: this.statusAt };
  }

  silentBoards(): number[] {
    return [];
  }

  on(listener: LockBusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- relays ----

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // A job queued while the last one finished would otherwise wait for the next unlock.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) await this.pulse(job);
  }

  private async pulse(job: UnlockJob): Promise<void> {
    const { line } = job;
    const relay = line.relay;
    if (this.state !== 'open' || !relay) {
      job.reject(new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} closed`, { bus: this.id }));
      return;
    }
    try {
      await relay.write(1);
    } catch (e) {
      job.reject(gpioError(e, `cannot energise lock ${line.config.lock}`));
      await this.release(line);
      return;
    }
    line.energised = true;
    this.log.debug({ lock: line.config.lock, pin: line.config.relayPin, ms: line.config.energiseMs }, 'relay on');
    this.report(line);
    job.resolve();
    this.pollFastFor(this.options.config.fastPollForMs);
    await this.hold(line.config.energiseMs);
    await this.release(line);
  }

  /** Waits out the energise time, or less when the bus is closed meanwhile. */
  private hold(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.state !== 'open') {
        resolve();
        return;
      }
      const timer = this.options.clock.setTimeout(() => {
        this.wakePulse = undefined;
        resolve();
      }, ms);
      this.wakePulse = () => {
        this.wakePulse = undefined;
        timer.cancel();
        resolve();
      };
    });
  }

  private async release(line: LockLine): Promise<void> {
    const relay = line.relay;
    if (!relay) return;
    for (let attempt = 1; attempt <= releaseAttempts; attempt++) {
      try {
        await relay.write(0);
        if (line.energised) {
          line.energised = false;
          this.log.debug({ lock: line.config.lock }, 'relay off');
          this.report(line);
        }
        return;
      } catch (e) {
        // A relay left energised overheats the solenoid: this is worth an error every time.
        this.log.error({ lock: line.config.lock, attempt, err: e }, `${ErrorCodes.GPIO_ERROR}: relay did not release`);
      }
    }
  }

  // ---- door inputs ----

  private sample(line: LockLine, raw: GpioValue): void {
    if (this.state !== 'open') return;
    this.statusAt = this.options.clock.now();
    if (raw === line.stable) {
      line.debounce?.cancel();
      line.debounce = undefined;
      line.candidate = undefined;
      return;
    }
    const debounceMs = this.options.config.debounceMs;
    if (debounceMs === 0) {
      line.stable = raw;
      this.report(line);
      return;
    }
    // Restart only when the level changes again: a poll that sees the same new level must
    // not keep postponing it.
    if (line.candidate === raw && line.debounce) return;
    line.debounce?.cancel();
    line.candidate = raw;
    line.debounce = this.options.clock.setTimeout(() => {
      line.debounce = undefined;
      line.candidate = undefined;
      if (this.state !== 'open') return;
      line.stable = raw;
      this.report(line);
    }, debounceMs);
  }

  private async readDoors(): Promise<void> {
    if (this.state !== 'open') throw new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} is not open`, { bus: this.id });
    for (const line of this.lines) {
      if (!line.door) continue;
      let value: GpioValue;
      try {
        value = await line.door.read();
      } catch (e) {
        throw gpioError(e, `cannot read the door of lock ${line.config.lock}`);
      }
      this.sample(line, value);
    }
    this.statusAt = this.options.clock.now();
  }

  private pollFastFor(ms: number): void {
    const { clock, config } = this.options;
    this.fastPollUntil = Math.max(this.fastPollUntil, clock.monotonic() + ms);
    if (this.pollDueAt - clock.monotonic() > config.fastPollIntervalMs) this.schedulePoll(config.fastPollIntervalMs);
  }

  private schedulePoll(ms: number): void {
    const { clock } = this.options;
    this.pollTimer?.cancel();
    this.pollDueAt = clock.monotonic() + ms;
    this.pollTimer = clock.setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, ms);
  }

  private async poll(): Promise<void> {
    if (this.state !== 'open' || this.polling) return;
    this.polling = true;
    try {
      await this.readDoors();
      if (this.pollFailing) this.log.info('door inputs readable again');
      this.pollFailing = false;
    } catch (e) {
      if (!this.pollFailing) this.log.error({ err: e }, 'door inputs cannot be read');
      this.pollFailing = true;
    } finally {
      this.polling = false;
    }
    if (this.state !== 'open' || this.pollTimer) return;
    const { clock, config } = this.options;
    this.schedulePoll(clock.monotonic() < this.fastPollUntil ? config.fastPollIntervalMs : config.pollIntervalMs);
  }

  // ---- readings and events ----

  private readingOf(line: LockLine): LockReading {
    const lock = line.config.lock;
    if (!line.door || line.stable === undefined) return { lock, latched: !line.energised };
    const doorOpen = line.stable !== line.config.doorClosedValue;
    return { lock, latched: !doorOpen, doorOpen };
  }

  private report(line: LockLine): void {
    const reading = this.readingOf(line);
    const previous = line.reported;
    if (previous && previous.latched === reading.latched && previous.doorOpen === reading.doorOpen) return;
    line.reported = reading;
    this.emit({ type: 'reading', bus: this.id, board: 0, reading, previous });
  }

  private emit(event: LockBusEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (e) {
        this.log.error({ err: e, event: event.type }, 'lock bus listener threw');
      }
    }
  }

  private find(board: number, lock: number): LockLine | LockerError {
    const bad = this.checkBoard(board);
    if (bad) return bad;
    const line = this.lines.find((l) => l.config.lock === lock);
    if (!line) return new LockerError(ErrorCodes.INPUT_INVALID, `bus ${this.id} has no lock ${lock}`, { bus: this.id, lock });
    return line;
  }

  private checkBoard(board: number): LockerError | undefined {
    if (this.state !== 'open') return new LockerError(ErrorCodes.BUS_CLOSED, `bus ${this.id} is not open`, { bus: this.id });
    if (board !== 0) return new LockerError(ErrorCodes.INPUT_INVALID, `GPIO bus ${this.id} has only board 0`, { bus: this.id, board });
    return undefined;
  }

  private async releaseLines(): Promise<void> {
    for (const line of this.lines) {
      line.debounce?.cancel();
      line.debounce = undefined;
      line.candidate = undefined;
      line.unwatch?.();
      line.unwatch = undefined;
      try {
        await line.relay?.close();
      } catch (e) {
        this.log.error({ lock: line.config.lock, err: e }, 'relay line did not close');
      }
      try {
        await line.door?.close();
      } catch (e) {
        this.log.warn({ lock: line.config.lock, err: e }, 'door line did not close');
      }
      line.relay = undefined;
      line.door = undefined;
      line.energised = false;
      line.stable = undefined;
      line.reported = undefined;
    }
  }
}

function gpioError(e: unknown, context: string): LockerError {
  if (e instanceof LockerError && e.code === ErrorCodes.GPIO_ERROR) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LockerError(ErrorCodes.GPIO_ERROR, `${context}: ${message}`, {}, { cause: e });
}
