// The simulated physical locker: latches, doors, item sensors, the scanner and the person in
// front of it. Board simulators (byte level), simulated GPIO and the simulator panel all read
// and act on this one model, so every view of the locker agrees.
//
// Physics: an energised, healthy latch releases after its energise time and the door springs
// open. The door stays open until the simulated person closes it, which latches it again.
// Item sensors follow parcels put in or taken out (only through an open door).
import { type Clock } from '../kernel/clock.js';

export interface SimPosition {
  bus: string;
  board: number;
  lock: number;
}

export function positionKey(p: SimPosition): string {
  return `${p.bus}/${p.board}/${p.lock}`;
}

export interface SimLockState {
  position: SimPosition;
  latched: boolean;
  doorOpen: boolean;
  itemPresent: boolean;
  jammed: boolean;
  /** Next unlock makes the door open and re-latch before a normal poll sees it. */
  bounceNext: boolean;
}

export type SimWorldEvent =
  | { type: 'lock'; state: SimLockState; cause: 'unlock' | 'close' | 'force' | 'item' | 'fault' | 'bounce' }
  | { type: 'board'; bus: string; board: number; silent: boolean }
  | { type: 'bus-fault'; bus: string; fault: BusFault | undefined }
  | { type: 'scanner'; plugged: boolean }
  | { type: 'scan'; bytes: Uint8Array }
  /** The buzzer or a compartment LED switched (the simulated indicator, sim/gpio/simIndicator.ts). */
  | { type: 'indicator'; indicator: SimIndicatorState };

/** What the locker's buzzer and compartment LEDs show now; `beeps` counts the buzzer's sounds since start. */
export interface SimIndicatorState {
  buzzer: boolean;
  beeps: number;
  /** Compartment id -> LED lit. Only compartments with an LED appear. */
  leds: Record<string, boolean>;
}

/** Corruption applied by a board simulator to its next replies. */
export type BusFault = { kind: 'garble' | 'truncate'; remaining: number };

export type SimWorldListener = (event: SimWorldEvent) => void;

/** The physical state that survives a power cut of the controller (doors, parcels, faults). */
export interface SimWorldSnapshot {
  locks: Omit<SimLockState, 'bounceNext'>[];
  silentBoards: string[];
  scannerPlugged: boolean;
}

export class SimWorld {
  private readonly locks = new Map<string, SimLockState>();
  private readonly silent = new Set<string>();
  private readonly busFaults = new Map<string, BusFault>();
  private readonly listeners = new Set<SimWorldListener>();
  private scannerPlugged = true;
  /** The indicator is not kept across a power cut: a restarted controller starts it dark. */
  private readonly indicatorState: SimIndicatorState = { buzzer: false, beeps: 0, leds: {} };
  /** How long a bouncing door stays open before it re-latches: just longer than the fast poll. */
  bounceMs = 150;

  constructor(
    private readonly clock: Clock,
    positions: SimPosition[],
  ) {
    for (const position of positions) this.addLock(position);
  }

  addLock(position: SimPosition): void {
    this.locks.set(positionKey(position), {
      position: { ...position },
      latched: true,
      doorOpen: false,
      itemPresent: false,
      jammed: false,
      bounceNext: false,
    });
  }

  on(listener: SimWorldListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lock(p: SimPosition): SimLockState {
    const s = this.locks.get(positionKey(p));
    if (!s) throw new Error(`no simulated lock at ${positionKey(p)}`);
    return s;
  }

  hasLock(p: SimPosition): boolean {
    return this.locks.has(positionKey(p));
  }

  allLocks(): SimLockState[] {
    return [...this.locks.values()];
  }

  /** The locks of one board, in lock order. */
  boardLocks(bus: string, board: number): SimLockState[] {
    return this.allLocks()
      .filter((s) => s.position.bus === bus && s.position.board === board)
      .sort((a, b) => a.position.lock - b.position.lock);
  }

  snapshot(): SimWorldSnapshot {
    return {
      locks: this.allLocks().map(({ bounceNext: _b, ...rest }) => ({ ...rest, position: { ...rest.position } })),
      silentBoards: [...this.silent],
      scannerPlugged: this.scannerPlugged,
    };
  }

  /** Puts locks back as a snapshot describes them (positions unknown to this world are ignored). */
  restore(snap: SimWorldSnapshot): void {
    for (const l of snap.locks) {
      const s = this.locks.get(positionKey(l.position));
      if (!s) continue;
      Object.assign(s, { latched: l.latched, doorOpen: l.doorOpen, itemPresent: l.itemPresent, jammed: l.jammed });
    }
    this.silent.clear();
    for (const b of snap.silentBoards) this.silent.add(b);
    this.scannerPlugged = snap.scannerPlugged;
  }

  // ---- what the lock electronics do ----

  /** The board energises a latch. Called by board simulators and simulated GPIO relays. */
  energise(p: SimPosition, energiseMs: number): void {
    const s = this.lock(p);
    if (s.jammed || !s.latched) return;
    this.clock.setTimeout(() => {
      if (s.jammed || !s.latched) return;
      s.latched = false;
      s.doorOpen = true;
      this.emit({ type: 'lock', state: s, cause: 'unlock' });
      if (s.bounceNext) {
        s.bounceNext = false;
        this.clock.setTimeout(() => {
          s.latched = true;
          s.doorOpen = false;
          this.emit({ type: 'lock', state: s, cause: 'bounce' });
        }, this.bounceMs);
      }
    }, energiseMs);
  }

  // ---- what the person in front of the locker does ----

  closeDoor(p: SimPosition): void {
    const s = this.lock(p);
    if (!s.doorOpen) return;
    s.doorOpen = false;
    s.latched = true;
    this.emit({ type: 'lock', state: s, cause: 'close' });
  }

  /** Pulls a latched door open without an unlock (vandalism, a weak latch). */
  forceOpen(p: SimPosition): void {
    const s = this.lock(p);
    if (s.doorOpen) return;
    s.latched = false;
    s.doorOpen = true;
    this.emit({ type: 'lock', state: s, cause: 'force' });
  }

  putParcel(p: SimPosition): void {
    const s = this.lock(p);
    if (!s.doorOpen) throw new Error(`door ${positionKey(p)} is closed`);
    s.itemPresent = true;
    this.emit({ type: 'lock', state: s, cause: 'item' });
  }

  takeParcel(p: SimPosition): void {
    const s = this.lock(p);
    if (!s.doorOpen) throw new Error(`door ${positionKey(p)} is closed`);
    s.itemPresent = false;
    this.emit({ type: 'lock', state: s, cause: 'item' });
  }

  // ---- faults on demand ----

  setJammed(p: SimPosition, jammed: boolean): void {
    const s = this.lock(p);
    s.jammed = jammed;
    this.emit({ type: 'lock', state: s, cause: 'fault' });
  }

  bounceOnNextUnlock(p: SimPosition): void {
    this.lock(p).bounceNext = true;
  }

  setBoardSilent(bus: string, board: number, silent: boolean): void {
    const key = `${bus}/${board}`;
    if (silent) this.silent.add(key);
    else this.silent.delete(key);
    this.emit({ type: 'board', bus, board, silent });
  }

  isBoardSilent(bus: string, board: number): boolean {
    return this.silent.has(`${bus}/${board}`);
  }

  /** The next `count` replies on a bus come out garbled (bytes flipped) or truncated. */
  corruptReplies(bus: string, kind: BusFault['kind'], count = 1): void {
    const fault = { kind, remaining: count };
    this.busFaults.set(bus, fault);
    this.emit({ type: 'bus-fault', bus, fault });
  }

  /** Board simulators call this for each reply; returns the fault to apply to it, if any. */
  takeReplyFault(bus: string): BusFault['kind'] | undefined {
    const fault = this.busFaults.get(bus);
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) {
      this.busFaults.delete(bus);
      this.emit({ type: 'bus-fault', bus, fault: undefined });
    }
    return fault.kind;
  }

  // ---- the buzzer and the compartment LEDs ----

  indicator(): SimIndicatorState {
    return { ...this.indicatorState, leds: { ...this.indicatorState.leds } };
  }

  /** A compartment has an LED (dark until switched). */
  fitLed(compartment: string): void {
    this.indicatorState.leds[compartment] ??= false;
  }

  setBuzzer(on: boolean): void {
    if (this.indicatorState.buzzer === on) return;
    this.indicatorState.buzzer = on;
    if (on) this.indicatorState.beeps += 1;
    this.emit({ type: 'indicator', indicator: this.indicator() });
  }

  setLed(compartment: string, on: boolean): void {
    if (this.indicatorState.leds[compartment] === on) return;
    this.indicatorState.leds[compartment] = on;
    this.emit({ type: 'indicator', indicator: this.indicator() });
  }

  // ---- the barcode scanner ----

  get scannerIsPlugged(): boolean {
    return this.scannerPlugged;
  }

  setScannerPlugged(plugged: boolean): void {
    this.scannerPlugged = plugged;
    this.emit({ type: 'scanner', plugged });
  }

  /** A barcode is read: the scanner sends the text followed by CR. Ignored while unplugged. */
  scan(text: string, suffix = '\r'): void {
    this.scanBytes(new TextEncoder().encode(text + suffix));
  }

  /** Raw bytes from the scanner line (noise, partial frames). Ignored while unplugged. */
  scanBytes(bytes: Uint8Array): void {
    if (!this.scannerPlugged) return;
    this.emit({ type: 'scan', bytes });
  }

  private emit(event: SimWorldEvent): void {
    for (const l of this.listeners) l(event);
  }
}
