// Issue 9, finding 8: lockouts and budgets run on monotonic time, so a wall-clock step neither
// freezes a keypad lockout nor hands out tries; a step is detected and recorded (clock.jumped).
import { afterEach, describe, expect, it } from 'vitest';
import { ClockJumpDetector, ManualClock } from '../../../kernel/clock.js';
import { ErrorCodes } from '../../../kernel/errors.js';
import { CLOCK_CHECK_MS } from '../../../src/domain/locker.js';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

const HOUR = 3_600_000;
/** Ten digits, never issued by the seeded fixture's deposits below. */
const WRONG = ['0000000001', '0000000002', '0000000003', '0000000004', '0000000005', '0000000006', '0000000007', '0000000008', '0000000009', '0000000010'];

async function lockOut(h: DomainLocker): Promise<number> {
  for (const code of WRONG) await h.locker.pickup(code).catch(() => undefined);
  const l = h.locker.lockout();
  expect(l.lockedOut).toBe(true);
  return l.retryAfterMs;
}

describe('clock jumps', () => {
  let h: DomainLocker | undefined;
  afterEach(async () => {
    await h?.stop();
    h = undefined;
  });

  it('the manual clock keeps wall and monotonic time apart: a wall step moves no timer', async () => {
    const clock = new ManualClock();
    let fired = 0;
    clock.setTimeout(() => fired++, 1_000);
    const mono = clock.monotonic();
    clock.stepWall(-HOUR);
    expect(clock.monotonic()).toBe(mono);
    await clock.advance(1_000);
    expect(fired).toBe(1);
    expect(clock.monotonic()).toBe(mono + 1_000);
  });

  it('a wall clock stepped back 1 h during a keypad lockout does not freeze it', async () => {
    h = await domainLocker();
    const retryAfterMs = await lockOut(h);
    h.clock.stepWall(-HOUR);
    await expect(h.locker.pickup('0000000011')).rejects.toMatchObject({ code: ErrorCodes.CODE_LOCKED_OUT });
    await h.clock.advance(retryAfterMs);
    expect(h.locker.lockout()).toMatchObject({ lockedOut: false, failuresLeft: 1 });
  });

  it('a wall clock stepped forward 1 h during a keypad lockout hands out no tries', async () => {
    h = await domainLocker();
    const retryAfterMs = await lockOut(h);
    h.clock.stepWall(HOUR);
    expect(h.locker.lockout()).toMatchObject({ lockedOut: true });
    await expect(h.locker.pickup('0000000011')).rejects.toMatchObject({ code: ErrorCodes.CODE_LOCKED_OUT });
    expect(h.locker.lockout().retryAfterMs).toBeLessThanOrEqual(retryAfterMs);
    expect(h.locker.lockout().retryAfterMs).toBeGreaterThan(0);
  });

  it('a wall-clock step is detected and recorded once as clock.jumped; slow drift is not', async () => {
    h = await domainLocker();
    h.locker.startTimers();
    await h.clock.advance(CLOCK_CHECK_MS);
    expect(h.events('clock.jumped')).toEqual([]);
    h.clock.stepWall(-HOUR);
    await h.clock.advance(CLOCK_CHECK_MS);
    await h.clock.advance(CLOCK_CHECK_MS);
    const jumps = h.events('clock.jumped');
    expect(jumps).toHaveLength(1);
    expect(jumps[0]?.data.stepMs).toBe(-HOUR);
    expect(h.store.auditActions()).toContain('clock.jumped');
    h.clock.stepWall(1_000);
    await h.clock.advance(CLOCK_CHECK_MS);
    expect(h.events('clock.jumped')).toHaveLength(1);
    h.clock.stepWall(2 * HOUR);
    await h.clock.advance(CLOCK_CHECK_MS);
    expect(h.events('clock.jumped').map((e) => e.data.stepMs)).toEqual([-HOUR, 2 * HOUR]);
  });

  it('the detector measures the step against the monotonic time that passed', () => {
    const clock = new ManualClock();
    const d = new ClockJumpDetector(clock, 2_000);
    clock.stepWall(-1_999);
    expect(d.check()).toBeUndefined();
    clock.stepWall(5_000);
    expect(d.check()).toMatchObject({ stepMs: 5_000, wallAt: clock.now() });
  });
});
