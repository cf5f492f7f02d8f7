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

/** A clock that only moves when told to. Timers fire in time order during advance(). */
export class ManualClock implements Clock {
  private t: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
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
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.t = Math.max(this.t, next.at);
      if (next.every !== undefined) next.at += next.every;
      else this.timers.shift();
      next.fn();
      await flushMicrotasks();
    }
    this.t = end;
    await flushMicrotasks();
  }

  /** Sets the wall clock (e.g. NTP sync jump) without firing timers. */
  set(t: number): void {
    this.t = t;
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  private add(fn: () => void, ms: number, every?: number): TimerHandle {
    const timer: PendingTimer = { id: this.nextId++, at: this.t + Math.max(0, ms), fn, every };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((x) => x !== timer);
      },
    };
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
