// Owns the doors: maps compartments to bus positions, keeps the last reading of every door,
// runs at most one door session per compartment, and turns bus events into locker facts
// (door opened/closed, forced open, board silent/back). Everything else asks it.
import { type LockBus, type LockBusEvent, type LockReading } from '../../hal/types.js';
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes, toLockerError } from '../../kernel/errors.js';
import { type FailurePolicy, reportingPolicy } from '../../kernel/failurePolicy.js';
import { type Logger } from '../logger.js';
import { type DoorSessionSettings } from './doorSession.js';
import { DoorRunner, type DoorOutcome } from './doorRunner.js';
import { type Live } from './liveSettings.js';

export interface DoorPosition {
  id: string;
  bus: string;
  board: number;
  lock: number;
}

export interface DoorState {
  /** undefined until the board has answered once. */
  open: boolean | undefined;
  itemPresent?: boolean;
}

export type DoorControllerEvent =
  | { type: 'door'; compartment: string; open: boolean; itemPresent?: boolean; sessionId?: string }
  | { type: 'forced_open'; compartment: string }
  | { type: 'board_silent'; bus: string; board: number; compartments: string[]; code: string; message: string }
  | { type: 'board_back'; bus: string; board: number; compartments: string[] }
  | { type: 'transport'; bus: string; connected: boolean; message?: string }
  /** Every door of a board read open at start (a polarity set the wrong way, most likely). */
  | { type: 'all_doors_open'; bus: string; board: number; compartments: string[] }
  /** The unlock frame of a session went out (written, or acknowledged by boards that reply). */
  | { type: 'unlock_sent'; compartment: string; sessionId: string };

export function doorOpenFrom(reading: LockReading): boolean {
  return reading.doorOpen ?? !reading.latched;
}

const key = (bus: string, board: number, lock: number): string => `${bus}/${board}/${lock}`;

export class DoorController {
  private byPosition = new Map<string, string>();
  private positions = new Map<string, DoorPosition>();
  private readonly doors = new Map<string, DoorState>();
  private readonly runners = new Map<string, DoorRunner>();
  private readonly silent = new Set<string>();
  private readonly disconnected = new Set<string>();
  private readonly listeners = new Set<(e: DoorControllerEvent) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  /**
   * Compartments whose last session energised the latch and ended unresolved (the line never
   * came back in time): lockerd opened that door itself, so a later movement is not forced.
   * Released when an operator settles the inspection (or at boot from the uncertain sessions).
   */
  private readonly unresolved = new Map<string, string>();
  /** Outcomes arrive from bus events and timers: a callback's throw goes here, never to the event loop. */
  private failures: FailurePolicy = reportingPolicy((path, err) => this.logger.error({ path, err }, 'background path failed'));

  constructor(
    private readonly buses: ReadonlyMap<string, LockBus>,
    private readonly clock: Clock,
    /** Read when a session starts: a session keeps the timings it started with. */
    private readonly settings: Live<DoorSessionSettings>,
    private readonly logger: Logger,
  ) {}

  /** The composition root's failure policy (src/composition/backgroundFailures.ts). */
  setFailurePolicy(failures: FailurePolicy): void {
    this.failures = failures;
  }

  /** Door sessions running now (unlocking, waiting for the door, or open). */
  sessionsInFlight(): number {
    return this.runners.size;
  }

  setLayout(positions: DoorPosition[]): void {
    this.positions = new Map(positions.map((p) => [p.id, p]));
    this.byPosition = new Map(positions.map((p) => [key(p.bus, p.board, p.lock), p.id]));
  }

  start(): void {
    for (const bus of this.buses.values()) this.unsubscribe.push(bus.on((e) => this.onBusEvent(e)));
  }

  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const r of this.runners.values()) r.dispose();
    this.runners.clear();
  }

  on(listener: (e: DoorControllerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  door(compartmentId: string): DoorState {
    return this.doors.get(compartmentId) ?? { open: undefined };
  }

  position(compartmentId: string): DoorPosition | undefined {
    return this.positions.get(compartmentId);
  }

  /** False while the compartment's board is silent or its bus is disconnected. */
  reachable(compartmentId: string): boolean {
    const p = this.positions.get(compartmentId);
    if (!p || !this.buses.has(p.bus)) return false;
    return !this.silent.has(`${p.bus}/${p.board}`) && !this.disconnected.has(p.bus);
  }

  busy(compartmentId: string): boolean {
    return this.runners.has(compartmentId);
  }

  activeSession(compartmentId: string): DoorRunner | undefined {
    return this.runners.get(compartmentId);
  }

  /** Starts a door session. Throws DOOR_BUSY, BOARD_SILENT or COMPARTMENT_UNAVAILABLE synchronously. */
  open(compartmentId: string, sessionId: string, onOutcome: (o: DoorOutcome, r: DoorRunner) => void): DoorRunner {
    const p = this.positions.get(compartmentId);
    const bus = p && this.buses.get(p.bus);
    if (!p || !bus) throw new LockerError(ErrorCodes.COMPARTMENT_UNAVAILABLE, `compartment ${compartmentId} is not in the layout`, { compartment: compartmentId });
    if (this.runners.has(compartmentId)) throw new LockerError(ErrorCodes.DOOR_BUSY, `door ${compartmentId} is already in use`, { compartment: compartmentId });
    if (this.disconnected.has(p.bus))
      throw new LockerError(ErrorCodes.BUS_DISCONNECTED, `the lock bus of compartment ${compartmentId} is disconnected`, { compartment: compartmentId, bus: p.bus });
    if (!this.reachable(compartmentId))
      throw new LockerError(ErrorCodes.BOARD_SILENT, `the board of compartment ${compartmentId} does not answer`, { compartment: compartmentId, bus: p.bus, board: p.board });
    const unlock = async (): Promise<void> => {
      try {
        await bus.unlock(p.board, p.lock);
      } catch (err) {
        // A lost line is named as such (not a jam, not a silent board).
        const le = toLockerError(err);
        if (le.code === ErrorCodes.TRANSPORT_ERROR) throw new LockerError(ErrorCodes.BUS_DISCONNECTED, le.detail, { ...le.context, compartment: compartmentId, bus: p.bus });
        throw le;
      }
      this.emit({ type: 'unlock_sent', compartment: compartmentId, sessionId });
    };
    const read = async (): Promise<{ open: boolean; itemPresent?: boolean }> => {
      const d = await this.readNow(compartmentId);
      return { open: d.open === true, ...(d.itemPresent !== undefined ? { itemPresent: d.itemPresent } : {}) };
    };
    // The caller's callback goes to the runner (guarded); the controller only hears when it ends.
    const runner = new DoorRunner(
      sessionId,
      compartmentId,
      unlock,
      this.clock,
      this.settings.get(),
      (o, r) => {
        if (o.type === 'uncertain' && o.door === 'unknown') this.unresolved.set(compartmentId, sessionId);
        // The caller's callback is guarded: a throw goes to the failure policy, never to the event loop.
        this.failures.run('door.outcome', () => onOutcome(o, r));
      },
      (r) => {
        if (this.runners.get(compartmentId) === r) this.runners.delete(compartmentId);
      },
      read,
    );
    this.unresolved.delete(compartmentId);
    this.runners.set(compartmentId, runner);
    runner.start();
    return runner;
  }

  /** A compartment whose unresolved session an operator settled (or one found uncertain at boot: hold). */
  holdUnresolved(compartmentId: string, sessionId: string): void {
    this.unresolved.set(compartmentId, sessionId);
  }

  releaseUnresolved(compartmentId: string): void {
    this.unresolved.delete(compartmentId);
  }

  /** Asks the board for the door's state now (used at boot to reconcile). */
  async readNow(compartmentId: string): Promise<DoorState> {
    const p = this.positions.get(compartmentId);
    const bus = p && this.buses.get(p.bus);
    if (!p || !bus) throw new LockerError(ErrorCodes.COMPARTMENT_UNAVAILABLE, `compartment ${compartmentId} is not in the layout`);
    const status = await bus.status(p.board);
    const reading = status.locks.find((l) => l.lock === p.lock);
    if (!reading) throw new LockerError(ErrorCodes.FRAME_INVALID, `board ${p.board} did not report lock ${p.lock}`);
    const state = { open: doorOpenFrom(reading), itemPresent: reading.itemPresent };
    this.doors.set(compartmentId, state);
    return state;
  }

  private onBusEvent(e: LockBusEvent): void {
    switch (e.type) {
      case 'reading': {
        const id = this.byPosition.get(key(e.bus, e.board, e.reading.lock));
        if (!id) return;
        const before = this.doors.get(id);
        const open = doorOpenFrom(e.reading);
        const now: DoorState = { open, itemPresent: e.reading.itemPresent };
        this.doors.set(id, now);
        const runner = this.runners.get(id);
        if (before?.open === open && before.itemPresent === now.itemPresent) return;
        const owner = runner?.id ?? this.unresolved.get(id);
        this.emit({ type: 'door', compartment: id, open, itemPresent: now.itemPresent, sessionId: owner });
        if (runner) runner.feed({ type: 'reading', reading: { open, itemPresent: now.itemPresent } });
        else if (owner !== undefined) {
          // The latch lockerd released before the line went: the door is not forced.
          if (open) this.logger.info({ compartment: id, session: owner }, 'a door of an unresolved session moved; it stays in inspection');
        } else if (open && before?.open === false) {
          this.logger.warn({ compartment: id }, 'door opened without an unlock');
          this.emit({ type: 'forced_open', compartment: id });
        }
        return;
      }
      case 'all-doors-open':
        this.emit({ type: 'all_doors_open', bus: e.bus, board: e.board, compartments: this.compartmentsOn(e.bus, e.board) });
        return;
      case 'board-silent':
        this.silent.add(`${e.bus}/${e.board}`);
        this.feedOn(e.bus, e.board, { type: 'transport_lost' });
        this.emit({ type: 'board_silent', bus: e.bus, board: e.board, compartments: this.compartmentsOn(e.bus, e.board), code: e.code, message: e.message });
        return;
      case 'board-back':
        this.silent.delete(`${e.bus}/${e.board}`);
        this.feedOn(e.bus, e.board, { type: 'transport_back' });
        this.emit({ type: 'board_back', bus: e.bus, board: e.board, compartments: this.compartmentsOn(e.bus, e.board) });
        return;
      case 'transport':
        if (e.connected) this.disconnected.delete(e.bus);
        else this.disconnected.add(e.bus);
        this.emit({ type: 'transport', bus: e.bus, connected: e.connected, message: e.message });
        // Sessions on this bus hear it last, after the alarm, so their outcome follows it.
        this.feedOn(e.bus, undefined, { type: e.connected ? 'transport_back' : 'transport_lost' });
        return;
    }
  }

  /** Tells the sessions on a bus (or one board of it) that their line went or came back. */
  private feedOn(bus: string, board: number | undefined, input: { type: 'transport_lost' } | { type: 'transport_back' }): void {
    for (const [id, runner] of [...this.runners]) {
      const p = this.positions.get(id);
      if (p && p.bus === bus && (board === undefined || p.board === board)) runner.feed(input);
    }
  }

  silentBoards(bus: string): number[] {
    return [...this.silent].filter((s) => s.startsWith(`${bus}/`)).map((s) => Number(s.slice(bus.length + 1)));
  }

  busConnected(bus: string): boolean {
    return !this.disconnected.has(bus);
  }

  private compartmentsOn(bus: string, board: number): string[] {
    return [...this.positions.values()].filter((p) => p.bus === bus && p.board === board).map((p) => p.id);
  }

  private emit(e: DoorControllerEvent): void {
    for (const l of this.listeners) {
      this.failures.run('door.event', () => l(e));
    }
  }
}
