// Attack (issue 7, finding 1): with one drop-off door held open, a stranger types wrong pickup
// codes and, before the keypad locks, the drop-off code that is already in progress. On the old
// code the drop-off code counted as a success and cleared the failure count, so the loop never
// locked out (19,999 guesses in 33 s). Rule: no code, badge or action refunds the budget;
// it refills only with time. Real runtime on the simulator, over HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, LockerHarness } from '../support/lockerHarness.js';

/** A well-formed code of the configured length that is neither of the real ones. */
function wrongCode(length: number, i: number, avoid: readonly string[]): string {
  for (let k = i; ; k += 7919) {
    const c = String(k).padStart(length, '0').slice(-length);
    if (!avoid.includes(c)) return c;
  }
}

describe('a drop-off code does not reset the wrong-code budget', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
  });

  it('locks the keypad when wrong pickup codes and an in-progress drop-off code alternate', async () => {
    h = await LockerHarness.start();
    const length = h.config.codes.length;
    const token = await h.courierLogin();
    const victim = await h.deposit(token, 'SP-VICTIM-1', 'S');
    const announced = await h.announce('parcelgo', { waybill: 'PG-LOOP-1', size: 'M', kind: 'dropoff' });
    const dropCode = announced.code ?? '';
    expect(dropCode).toHaveLength(length);

    // The attacker's own drop-off opens a door and stays in progress (door left open).
    const first = await h.api('POST', '/api/dropoff', { code: dropCode });
    expect(first.status).toBe(200);

    const avoid = [victim.code, dropCode];
    let guesses = 0;
    let lockedAt: number | undefined;
    for (let round = 0; round < 50 && lockedAt === undefined; round++) {
      for (let i = 0; i < 4; i++) {
        const r = await h.pickup(wrongCode(length, 1000 + guesses, avoid));
        guesses++;
        if (r.status === 429) {
          expect(errorCode(r)).toBe('CODE_LOCKED_OUT');
          lockedAt = guesses;
          break;
        }
        expect(errorCode(r)).toBe('CODE_UNKNOWN');
      }
      if (lockedAt !== undefined) break;
      // The in-progress drop-off code: refused as "already in progress", and it must not refund anything.
      const again = await h.api('POST', '/api/dropoff', { code: dropCode });
      expect(again.status === 409 || again.status === 429).toBe(true);
    }
    expect(lockedAt, 'the keypad never locked: the drop-off code keeps resetting the budget').toBeDefined();
    // Within the configured burst (plus the try that found the bucket empty).
    expect(lockedAt ?? Infinity).toBeLessThanOrEqual(h.config.codes.burst + 1);

    // Locked means locked for everyone typing, the victim's right code included, and the door stays shut.
    const victimTyped = await h.pickup(victim.code);
    expect(victimTyped.status).toBe(429);
    expect(h.simLock(victim.compartment).doorOpen).toBe(false);
    expect(h.read.parcelByWaybill('SP-VICTIM-1')?.state).toBe('stored');
    expect(h.read.events('alarm.code_lockout').length).toBeGreaterThanOrEqual(1);
  });
});
