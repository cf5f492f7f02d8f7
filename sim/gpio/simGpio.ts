// Simulated GPIO lines wired to the simulated locker (SimWorld). A relay output held active
// for the lock's energise time releases the latch (`world.energise`); a door reed input reads
// the world's door and notifies watchers when it changes. Pins that are not wired to a lock
// behave as plain lines (buzzer, LEDs, spare inputs a test sets by hand).
//
// It also keeps what a test wants to check about the electrics: a log of relay switching,
// the largest number of relays energised at once, contact bounce and line faults on demand.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type GpioBusOptions as GpioBusConfig } from '../../hal/options.js';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type GpioEdge, type GpioInput, type GpioOutput, type GpioPort, type GpioValue } from '../../hal/gpio/gpioPort.js';
import { positionKey, type SimPosition, type SimWorld } from '../world.js';

export interface SimGpioRelay {
  pin: number;
  position: SimPosition;
  /** How long the relay must stay active before the latch releases. */
  energiseMs: number;
}

export interface SimGpioDoor {
  pin: number;
  position: SimPosition;
  /** Level the reed switch gives while the door is shut. */
  closedValue: GpioValue;
}

export interface SimGpioWiring {
  relays?: SimGpioRelay[];
  doors?: SimGpioDoor[];
}

export interface RelaySwitching {
  pin: number;
  on: boolean;
  at: number;
}

interface OutputState {
  value: GpioValue;
  activeLow: boolean;
  since: number;
  hold: TimerHandle | undefined;
  released: boolean;
}

interface InputState {
  edge: GpioEdge;
  watchers: Set<(value: GpioValue) => void>;
  /** Last level reported to watchers, to notify only on a change. */
  reported: GpioValue;
}

export class SimGpio implements GpioPort {
  private readonly relays = new Map<number, SimGpioRelay>();
  private readonly doors = new Map<number, SimGpioDoor>();
  private readonly outputs = new Map<number, OutputState>();
  private readonly inputs = new Map<number, InputState>();
  /** Levels of unwired inputs, and a bouncing contact's momentary level over a wired one. */
  private readonly forced = new Map<number, GpioValue>();
  private readonly faults = new Map<number, 'read' | 'write'>();
  private readonly energised = new Set<number>();
  private readonly unsubscribe: () => void;
  readonly relayLog: RelaySwitching[] = [];
  private readonly outputListeners = new Set<(pin: number, value: GpioValue) => void>();
  maxRelaysEnergised = 0;

  constructor(
    private readonly world: SimWorld,
    private readonly clock: Clock,
    wiring: SimGpioWiring = {},
  ) {
    for (const r of wiring.relays ?? []) this.relays.set(r.pin, r);
    for (const d of wiring.doors ?? []) this.doors.set(d.pin, d);
    this.unsubscribe = world.on((event) => {
      if (event.type !== 'lock') return;
      const key = positionKey(event.state.position);
      for (const [pin, door] of this.doors) if (positionKey(door.position) === key) this.notify(pin);
    });
  }

  /** Wires the relays and reed switches of a GPIO bus as its configuration describes them. */
  static forBus(world: SimWorld, clock: Clock, bus: GpioBusConfig): SimGpio {
    const position = (lock: number): SimPosition => ({ bus: bus.id, board: 0, lock });
    return new SimGpio(world, clock, {
      relays: bus.locks.map((l) => ({ pin: l.relayPin, position: position(l.lock), energiseMs: l.energiseMs })),
      doors: bus.locks.flatMap((l) => (l.doorPin === undefined ? [] : [{ pin: l.doorPin, position: position(l.lock), closedValue: l.doorClosedValue }])),
    });
  }

  async openOutput(pin: number, activeLow: boolean): Promise<GpioOutput> {
    this.claim(pin);
    const state: OutputState = { value: 0, activeLow, since: this.clock.monotonic(), hold: undefined, released: false };
    this.outputs.set(pin, state);
    return {
      pin,
      read: async () => {
        this.check(pin, 'read');
        return state.value;
      },
      write: async (value) => {
        this.check(pin, 'write');
        this.setOutput(pin, state, value);
      },
      close: async () => {
        if (this.outputs.get(pin) !== state) return;
        this.setOutput(pin, state, 0);
        this.outputs.delete(pin);
      },
    };
  }

  async openInput(pin: number, edge: GpioEdge): Promise<GpioInput> {
    this.claim(pin);
    const state: InputState = { edge, watchers: new Set(), reported: this.level(pin) };
    this.inputs.set(pin, state);
    return {
      pin,
      read: async () => {
        this.check(pin, 'read');
        return this.level(pin);
      },
      watch: (cb) => {
        state.watchers.add(cb);
        return () => state.watchers.delete(cb);
      },
      close: async () => {
        if (this.inputs.get(pin) !== state) return;
        state.watchers.clear();
        this.inputs.delete(pin);
      },
    };
  }

  /** Stops following the world. */
  dispose(): void {
    this.unsubscribe();
    this.outputListeners.clear();
    for (const s of this.outputs.values()) s.hold?.cancel();
  }

  // ---- what a test looks at or does to the wiring ----

  /** Logical level of an output (1 = active), or undefined when the pin is not open as one. */
  outputValue(pin: number): GpioValue | undefined {
    return this.outputs.get(pin)?.value;
  }

  /** Physical level of an output pin, after active-low inversion. */
  outputLevel(pin: number): GpioValue | undefined {
    const s = this.outputs.get(pin);
    return s === undefined ? undefined : ((s.activeLow ? 1 - s.value : s.value) as GpioValue);
  }

  /** Called with the logical level (1 = active) whenever an output changes (the simulated indicator watches its lines). */
  onOutput(listener: (pin: number, value: GpioValue) => void): () => void {
    this.outputListeners.add(listener);
    return () => this.outputListeners.delete(listener);
  }

  /** Relays active right now. */
  energisedRelays(): number[] {
    return [...this.energised];
  }

  /** Sets the level of an input that is not wired to a door. */
  setInput(pin: number, value: GpioValue): void {
    this.forced.set(pin, value);
    this.notify(pin);
  }

  /**
   * Contact bounce on an input: `toggles` level flips `everyMs` apart starting from the
   * opposite of the true level, after which the line settles on the true level again.
   */
  chatter(pin: number, toggles: number, everyMs: number): void {
    const wired = this.doors.has(pin);
    const unwiredLevel = this.level(pin);
    const truth = (): GpioValue => (wired ? this.trueLevel(pin) : unwiredLevel);
    for (let i = 0; i < toggles; i++) {
      this.clock.setTimeout(() => {
        this.forced.set(pin, (i % 2 === 0 ? 1 - truth() : truth()) as GpioValue);
        this.notify(pin);
      }, i * everyMs);
    }
    this.clock.setTimeout(() => {
      if (wired) this.forced.delete(pin);
      else this.forced.set(pin, unwiredLevel);
      this.notify(pin);
    }, toggles * everyMs);
  }

  /** Makes reads or writes on a pin fail (a loose ribbon cable, a claimed line); undefined clears it. */
  setFault(pin: number, fault: 'read' | 'write' | undefined): void {
    if (fault === undefined) this.faults.delete(pin);
    else this.faults.set(pin, fault);
  }

  // ---- internals ----

  private claim(pin: number): void {
    if (this.outputs.has(pin) || this.inputs.has(pin)) {
      throw new LockerError(ErrorCodes.GPIO_ERROR, `pin ${pin} is already in use`, { pin });
    }
  }

  private check(pin: number, op: 'read' | 'write'): void {
    if (this.faults.get(pin) === op) throw new LockerError(ErrorCodes.GPIO_ERROR, `${op} pin ${pin} failed: EIO (simulated)`, { pin, op });
  }

  private setOutput(pin: number, state: OutputState, value: GpioValue): void {
    if (state.value === value) return;
    const now = this.clock.monotonic();
    const relay = this.relays.get(pin);
    state.value = value;
    for (const l of this.outputListeners) l(pin, value);
    if (!relay) return;
    this.relayLog.push({ pin, on: value === 1, at: now });
    if (value === 1) {
      state.since = now;
      state.released = false;
      this.energised.add(pin);
      this.maxRelaysEnergised = Math.max(this.maxRelaysEnergised, this.energised.size);
      state.hold = this.clock.setTimeout(() => this.release(relay, state), relay.energiseMs);
    } else {
      this.energised.delete(pin);
      state.hold?.cancel();
      state.hold = undefined;
      // Dropped in the same instant its hold time ended (timer order): it was held long enough.
      // A shorter pulse does not pull the latch in.
      if (now - state.since >= relay.energiseMs) this.release(relay, state);
    }
  }

  private release(relay: SimGpioRelay, state: OutputState): void {
    state.hold = undefined;
    if (state.released) return;
    state.released = true;
    // The latch has been pulled for its energise time: it lets go now.
    this.world.energise(relay.position, 0);
  }

  private trueLevel(pin: number): GpioValue {
    const door = this.doors.get(pin);
    if (!door) return this.forced.get(pin) ?? 0;
    const open = this.world.lock(door.position).doorOpen;
    return open ? ((1 - door.closedValue) as GpioValue) : door.closedValue;
  }

  private level(pin: number): GpioValue {
    return this.forced.get(pin) ?? this.trueLevel(pin);
  }

  private notify(pin: number): void {
    const input = this.inputs.get(pin);
    if (!input) return;
    const value = this.level(pin);
    if (value === input.reported) return;
    input.reported = value;
    const wanted = input.edge === 'both' || (input.edge === 'rising' && value === 1) || (input.edge === 'falling' && value === 0);
    if (!wanted) return;
    for (const cb of [...input.watchers]) cb(value);
  }
}
