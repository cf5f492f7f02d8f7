// The simulator's clock control (issue 11, flow 9): lockerd on --sim reads the wall clock through
// SimClock, which the panel moves forward to show expiry and collection. Only the wall clock
// moves; monotonic time (lockouts, timers) does not, and nothing moves it back.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { SimClock, SIM_CLOCK_MAX_STEP_MS } from '../../../sim/simClock.js';

describe('SimClock', () => {
  it('adds the panel offset to the wall clock only', async () => {
    const inner = new ManualClock(Date.UTC(2026, 5, 1));
    const clock = new SimClock(inner);
    expect(clock.now()).toBe(inner.now());
    clock.advance(3 * 3_600_000);
    expect(clock.now()).toBe(inner.now() + 3 * 3_600_000);
    expect(clock.monotonic()).toBe(inner.monotonic());
    expect(clock.offsetMs).toBe(3 * 3_600_000);
    await inner.advance(1_000);
    expect(clock.now()).toBe(Date.UTC(2026, 5, 1) + 1_000 + 3 * 3_600_000);
  });

  it('runs timers on the inner clock', async () => {
    const inner = new ManualClock();
    const clock = new SimClock(inner);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 500);
    clock.advance(60_000);
    expect(fired).toEqual([]);
    await inner.advance(500);
    expect(fired).toEqual([inner.now() + 60_000]);
  });

  it('refuses a step back, a zero step, and one beyond the bound', () => {
    const clock = new SimClock(new ManualClock());
    expect(() => clock.advance(-1)).toThrow(/INPUT_INVALID|forward/);
    expect(() => clock.advance(0)).toThrow();
    expect(() => clock.advance(Number.NaN)).toThrow();
    expect(() => clock.advance(SIM_CLOCK_MAX_STEP_MS + 1)).toThrow();
    expect(clock.offsetMs).toBe(0);
  });
});
