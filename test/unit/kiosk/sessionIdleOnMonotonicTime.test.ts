// Issue 9, finding 8: a kiosk log-in's idle timeout is a duration, measured on monotonic time.
// A wall clock stepped back must not keep a courier logged in on a shared screen, and one
// stepped forward must not log everybody out. The badge's own expiry stays a wall time.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { ErrorCodes } from '../../../kernel/errors.js';
import { seededRandom } from '../../../kernel/random.js';
import { SessionBook } from '../../../src/kiosk/sessions.js';

const IDLE_MS = 120_000;
const HOUR = 3_600_000;

function book(): { clock: ManualClock; sessions: SessionBook<string> } {
  const clock = new ManualClock();
  return { clock, sessions: new SessionBook<string>(clock, seededRandom('sessions'), IDLE_MS) };
}

describe('kiosk sessions idle out on monotonic time', () => {
  it('a wall clock stepped back 1 h does not keep an idle session alive', async () => {
    const { clock, sessions } = book();
    const { token } = sessions.open('courier-1', 'swiftpost/courier-1');
    clock.stepWall(-HOUR);
    await clock.advance(IDLE_MS + 1);
    expect(sessions.peek(token)).toBeUndefined();
    expect(() => sessions.get(`Bearer ${token}`)).toThrow(expect.objectContaining({ code: ErrorCodes.SESSION_EXPIRED }));
  });

  it('a wall clock stepped forward 1 h does not end a session in use', async () => {
    const { clock, sessions } = book();
    const { token } = sessions.open('courier-1', 'swiftpost/courier-1');
    await clock.advance(1_000);
    clock.stepWall(HOUR);
    expect(sessions.get(`Bearer ${token}`)).toBe('courier-1');
  });

  it('the badge expiry is a wall time: the session ends with it', () => {
    const { clock, sessions } = book();
    const { token } = sessions.open('courier-1', 'swiftpost/courier-1', clock.now() + 60_000);
    clock.stepWall(60_000);
    expect(() => sessions.get(`Bearer ${token}`)).toThrow(expect.objectContaining({ code: ErrorCodes.SESSION_EXPIRED }));
  });
});
