// A real clock that a scenario can move forward by hand: timers and sleeps run on real time
// (the simulated doors and boards need them), while now() and monotonic() carry an offset the
// test adds with jump(). Budgets that refill over hours are tested without waiting for hours.
import { SystemClock, type Clock, type TimerHandle } from '../../kernel/clock.js';

export class OffsetClock implements Clock {
  private readonly real = new SystemClock();
  private offsetMs = 0;

  /** Moves now() and monotonic() forward by ms (never backwards). */
  jump(ms: number): void {
    if (ms < 0) throw new RangeError('an OffsetClock only moves forward');
    this.offsetMs += ms;
  }

  now(): number {
    return this.real.now() + this.offsetMs;
  }
  monotonic(): number {
    return this.real.monotonic() + this.offsetMs;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.real.setTimeout(fn, ms);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.real.setInterval(fn, ms);
  }
  sleep(ms: number): Promise<void> {
    return this.real.sleep(ms);
  }
}
