// All simulated boards of one configured bus behind one byte stream: what the host writes
// reaches every board (RS-485 is a shared pair), and the boards' replies go out one after
// another with a small turnaround delay plus the time the bytes take at the line's baud rate,
// so a bus-wide status comes back board by board, as on real hardware. It plugs into the
// simulated serial binding (SimSerialDevice) or sits behind a pty (ptyBoardBridge).
import { busBaudRate } from '../../hal/buses/protocols.js';
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type SerialBusOptions as SerialBusConfig } from '../../hal/options.js';
import { type SimSerialDevice, type SimSerialRegistry } from '../serial/simBinding.js';
import { type SimPosition, type SimWorld } from '../world.js';
import { Generic8aSim } from './generic8aSim.js';
import { KerongCu16Sim } from './kerongCu16Sim.js';
import { KerongCu48Sim } from './kerongCu48Sim.js';
import { type SimBoard, type SimBoardOptions } from './simBoard.js';

export interface SimBusOptions {
  config: SerialBusConfig;
  world: SimWorld;
  clock: Clock;
  /** Board turnaround before a reply starts; real boards take a few milliseconds. */
  replyDelayMs?: number;
  /** The boards' line speed; defaults to the configured rate or the family's usual one. */
  baudRate?: number;
  /** Answer only when the host opened the port at `baudRate` (lets baud probing be tested). */
  strictBaud?: boolean;
  /** 8A boards: the reply header their firmware uses (0x80, or 0x8A on some). */
  g8aReplyHeader?: number;
}

export type SimBusTraffic = { direction: 'host' | 'board'; bytes: Uint8Array; at: number };

/** Every lock position of a bus config, for building the SimWorld. */
export function simPositions(config: SerialBusConfig): SimPosition[] {
  return config.boards.flatMap((b) => Array.from({ length: b.locks }, (_, i) => ({ bus: config.id, board: b.address, lock: i + 1 })));
}

/** The path a simulated bus is registered under in a SimSerialRegistry. */
export function simBusPath(busId: string): string {
  return `sim://${busId}`;
}

export class SimBus implements SimSerialDevice {
  readonly boards: readonly SimBoard[];
  readonly baudRate: number;
  private readonly clock: Clock;
  private readonly replyDelayMs: number;
  private readonly strictBaud: boolean;
  private readonly trafficListeners = new Set<(t: SimBusTraffic) => void>();
  private readonly inFlight = new Set<TimerHandle>();
  private send: ((bytes: Uint8Array) => void) | undefined;
  private hostBaud = 0;
  private lineFreeAt = 0;

  constructor(options: SimBusOptions) {
    this.clock = options.clock;
    this.replyDelayMs = options.replyDelayMs ?? 3;
    this.baudRate = options.baudRate ?? busBaudRate(options.config);
    this.strictBaud = options.strictBaud ?? false;
    const sorted = [...options.config.boards].sort((a, b) => a.address - b.address);
    this.boards = sorted.map((board) => {
      const boardOptions: SimBoardOptions = { bus: options.config.id, board, world: options.world, clock: options.clock, transmit: (bytes) => this.transmit(bytes) };
      switch (options.config.protocol) {
        case 'kerong-cu16':
          return new KerongCu16Sim(boardOptions);
        case 'kerong-cu48':
          return new KerongCu48Sim(boardOptions);
        case 'generic-8a':
          return new Generic8aSim({ ...boardOptions, replyHeader: options.g8aReplyHeader });
      }
    });
  }

  get connected(): boolean {
    return this.send !== undefined;
  }

  /** Every chunk on the line, both directions, for tests and the simulator panel. */
  onTraffic(listener: (t: SimBusTraffic) => void): () => void {
    this.trafficListeners.add(listener);
    return () => {
      this.trafficListeners.delete(listener);
    };
  }

  connect(send: (bytes: Uint8Array) => void, baudRate: number): boolean {
    this.send = send;
    this.hostBaud = baudRate;
    return true;
  }

  disconnect(): void {
    this.send = undefined;
    for (const t of this.inFlight) t.cancel();
    this.inFlight.clear();
    for (const b of this.boards) b.reset();
  }

  baudRateChanged(baudRate: number): void {
    this.hostBaud = baudRate;
  }

  receive(bytes: Uint8Array): void {
    this.notify({ direction: 'host', bytes, at: this.clock.monotonic() });
    // At the wrong speed the boards hear only framing errors: nothing they would act on.
    if (this.strictBaud && this.hostBaud !== this.baudRate) return;
    for (const board of this.boards) board.hear(bytes);
  }

  private transmit(bytes: Uint8Array): void {
    if (!this.send) return;
    const now = this.clock.monotonic();
    const start = Math.max(now + this.replyDelayMs, this.lineFreeAt);
    this.lineFreeAt = start + (bytes.length * 10 * 1000) / this.baudRate;
    const handle = this.clock.setTimeout(
      () => {
        this.inFlight.delete(handle);
        if (!this.send) return;
        this.notify({ direction: 'board', bytes, at: this.clock.monotonic() });
        this.send(bytes);
      },
      Math.max(0, this.lineFreeAt - now),
    );
    this.inFlight.add(handle);
  }

  private notify(t: SimBusTraffic): void {
    for (const l of this.trafficListeners) l(t);
  }
}

/** Builds the simulated boards of a bus and registers them; the driver then opens `path` at `baudRate`. */
export function attachSimBus(registry: SimSerialRegistry, options: SimBusOptions): { simBus: SimBus; path: string; baudRate: number } {
  const simBus = new SimBus(options);
  const path = simBusPath(options.config.id);
  registry.register(path, simBus);
  return { simBus, path, baudRate: simBus.baudRate };
}
