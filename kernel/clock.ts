// Time as an injected service. Production uses SystemClock; tests use ManualClock and move
// time by hand, so no test depends on the machine's speed.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds, for measuring durations. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Resolves after ms on this clock. */
  sleep(ms: number): Promise<void>;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return performance.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}

interface PendingTimer {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * A clock that only moves when told to. Timers fire in time order during advance().
 *
 * It keeps the two clocks a real machine has apart: advance() moves both the wall clock and the
 * monotonic one (and fires timers, which run on monotonic time as Node's do); set() and
 * stepWall() move only the wall clock, as NTP or an operator does, so a test can step the wall
 * clock back or forward during a lockout and see that nothing measured on monotonic time moves.
 */
export class ManualClock implements Clock {
  private t: number;
  private mono: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
    this.mono = start;
  }

  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.mono;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.add(resolve, ms));
  }

  /** Moves time forward by ms, firing due timers in order (and the microtasks they queue). */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.moveTo(Math.max(this.mono, next.at));
      if (next.every !== undefined) next.at += next.every;
      else this.timers.shift();
      next.fn();
      await flushMicrotasks();
    }
    this.moveTo(end);
    await flushMicrotasks();
  }

  /** Sets the wall clock (e.g. an NTP step) without firing timers; monotonic time does not move. */
  set(t: number): void {
    this.t = t;
  }

  /** Steps the wall clock by ms (negative: back), like set(now() + ms). */
  stepWall(ms: number): void {
    this.t += ms;
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  private moveTo(mono: number): void {
    this.t += mono - this.mono;
    this.mono = mono;
  }

  private add(fn: () => void, ms: number, every?: number): TimerHandle {
    const timer: PendingTimer = { id: this.nextId++, at: this.mono + Math.max(0, ms), fn, every };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((x) => x !== timer);
      },
    };
  }
}

/** A wall-clock step: how far the wall clock moved beyond the monotonic time that passed. */
export interface ClockJump {
  /** Where the wall clock should have been (the last reading plus the monotonic time since). */
  expectedAt: number;
  /** Where it is. */
  wallAt: number;
  /** wallAt - expectedAt: negative for a step back. */
  stepMs: number;
}

/**
 * Detects wall-clock steps by comparing how far the wall clock moved with how far the
 * monotonic clock did since the last check. Drift below thresholdMs is not a jump (NTP slews).
 */
export class ClockJumpDetector {
  private lastWall: number;
  private lastMono: number;

  constructor(
    private readonly clock: Pick<Clock, 'now' | 'monotonic'>,
    readonly thresholdMs = 2_000,
  ) {
    this.lastWall = clock.now();
    this.lastMono = clock.monotonic();
  }

  check(): ClockJump | undefined {
    const wall = this.clock.now();
    const mono = this.clock.monotonic();
    const expectedAt = this.lastWall + (mono - this.lastMono);
    this.lastWall = wall;
    this.lastMono = mono;
    const stepMs = Math.round(wall - expectedAt);
    return Math.abs(stepMs) >= this.thresholdMs ? { expectedAt: Math.round(expectedAt), wallAt: wall, stepMs } : undefined;
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
