// Guessing codes: after codes.maxFailures wrong codes the keypad locks (429 with Retry-After,
// an alarm to the operator); a restart of lockerd does not lift the lockout; once it has passed
// a right code works again, and the next lockout is longer.
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, LockerHarness, seqGaps, sleep } from '../support/lockerHarness.js';

const LOCKOUT_MS = 4_000;
const codes = { length: 8, maxFailures: 5, lockoutBaseMs: LOCKOUT_MS, lockoutMaxMs: 60_000, failureWindowMs: 3_600_000 };

interface Lockout {
  lockedOut: boolean;
  retryAfterMs: number;
  failuresLeft: number;
}

/** A well-formed code that is not the real one. */
function wrongCode(real: string, i: number): string {
  const c = String(10_000_000 + i * 1_234_567).slice(0, 8);
  return c === real ? String(99_999_999 - i) : c;
}

describe('code brute force lockout survives a restart', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
  });

  it('locks the keypad after five wrong codes, stays locked across a restart, and lets the right code in afterwards', async () => {
    h = await LockerHarness.start({ overrides: { codes } });
    const token = await h.courierLogin();
    const { code, compartment } = await h.deposit(token, 'SP-BF-1', 'S');

    for (let i = 1; i <= 4; i++) {
      const r = await h.pickup(wrongCode(code, i));
      expect(r.status).toBe(404);
      expect(errorCode(r)).toBe('CODE_UNKNOWN');
      expect(errorContext(r).failuresLeft).toBe(5 - i);
    }
    expect(h.read.events('alarm.code_lockout')).toEqual([]);

    const tripped = await h.pickup(wrongCode(code, 5));
    const trippedAt = Date.now();
    expect(tripped.status).toBe(429);
    expect(errorCode(tripped)).toBe('CODE_LOCKED_OUT');
    expect(tripped.headers.get('retry-after')).toBe(String(LOCKOUT_MS / 1000));
    expect(errorContext(tripped).retryAfterMs).toBeGreaterThan(LOCKOUT_MS - 500);
    expect(errorContext(tripped).retryAfterMs).toBeLessThanOrEqual(LOCKOUT_MS);
    const alarms = h.read.events('alarm.code_lockout');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ stream: 'op', carrier: null, data: { lockoutMs: LOCKOUT_MS, trips: 1 } });

    // Even the right code is refused while locked, and the door stays shut.
    const rightButLocked = await h.pickup(code);
    expect(rightButLocked.status).toBe(429);
    expect(Number(rightButLocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(h.simLock(compartment).doorOpen).toBe(false);
    expect(h.read.parcelByWaybill('SP-BF-1')?.state).toBe('stored');

    // Power off and on again on the same data folder.
    h = await h.restart({ codes });
    const sinceTrip = Date.now() - trippedAt;
    expect(sinceTrip, 'the restart took longer than the lockout; the check below would prove nothing').toBeLessThan(LOCKOUT_MS - 300);
    const after = await h.api<Lockout>('GET', '/api/lockout');
    expect(after.body.lockedOut).toBe(true);
    expect(after.body.failuresLeft).toBe(0);
    expect(after.body.retryAfterMs).toBeGreaterThan(0);
    expect(after.body.retryAfterMs).toBeLessThanOrEqual(LOCKOUT_MS - sinceTrip + 50);
    const stillLocked = await h.pickup(code);
    expect(stillLocked.status).toBe(429);
    expect(errorCode(stillLocked)).toBe('CODE_LOCKED_OUT');
    expect(stillLocked.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(h.simLock(compartment).doorOpen).toBe(false);
    // No second alarm for attempts made while locked.
    expect(h.read.events('alarm.code_lockout')).toHaveLength(1);

    await sleep(after.body.retryAfterMs + 100);
    expect((await h.api<Lockout>('GET', '/api/lockout')).body).toEqual({ lockedOut: false, retryAfterMs: 0, failuresLeft: 5 });
    const ok = await h.pickup(code);
    expect(ok.status).toBe(200);
    expect(ok.body.compartment.id).toBe(compartment);
    expect(h.read.parcelByWaybill('SP-BF-1')?.state).toBe('picked_up');
    h.take(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');

    // An attacker who comes back is locked out for longer (twice the base).
    for (let i = 6; i <= 9; i++) expect((await h.pickup(wrongCode(code, i))).status).toBe(404);
    const second = await h.pickup(wrongCode(code, 10));
    expect(second.status).toBe(429);
    expect(second.headers.get('retry-after')).toBe(String((2 * LOCKOUT_MS) / 1000));
    expect(h.read.events('alarm.code_lockout').map((e) => e.data.lockoutMs)).toEqual([LOCKOUT_MS, 2 * LOCKOUT_MS]);
    expect(h.read.attempts()).toMatchObject({ failures: 0, trips: 2 });
    expect(h.read.eventTypes('op')).toEqual(['alarm.code_lockout', 'alarm.code_lockout']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });
});
