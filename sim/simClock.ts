// The simulator's clock (issue 11, flow 9): the wall clock of an inner clock plus an offset the
// sim panel moves forward (POST /sim/clock/advance), to show a parcel expiring and a courier
// collecting it without waiting days. Monotonic time and timers are the inner clock's, so
// lockouts and door timings are untouched; lockerd sees the step as a wall-clock jump, as it
// would an NTP step. Built only by startLockerd with --sim: no production path reaches it.
import { type Clock, type TimerHandle } from '../kernel/clock.js';
import { LockerError, ErrorCodes } from '../kernel/errors.js';

/** One step is at most 30 days: enough for any dwell time, bounded for a stranger's click. */
export const SIM_CLOCK_MAX_STEP_MS = 30 * 24 * 3_600_000;
/** And all steps together at most a year. */
export const SIM_CLOCK_MAX_OFFSET_MS = 366 * 24 * 3_600_000;

export class SimClock implements Clock {
  private offset = 0;

  constructor(private readonly inner: Clock) {}

  get offsetMs(): number {
    return this.offset;
  }

  /** Moves the wall clock forward by ms; never back. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms <= 0 || ms > SIM_CLOCK_MAX_STEP_MS)
      throw new LockerError(ErrorCodes.INPUT_INVALID, `the sim clock moves forward by 1 ms to ${SIM_CLOCK_MAX_STEP_MS / 3_600_000} h at a time`);
    if (this.offset + ms > SIM_CLOCK_MAX_OFFSET_MS) throw new LockerError(ErrorCodes.INPUT_INVALID, 'the sim clock is already a year ahead');
    this.offset += ms;
  }

  now(): number {
    return this.inner.now() + this.offset;
  }
  monotonic(): number {
    return this.inner.monotonic();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, ms);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.inner.setInterval(fn, ms);
  }
  sleep(ms: number): Promise<void> {
    return this.inner.sleep(ms);
  }
}
