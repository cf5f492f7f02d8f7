// Guessing codes: the keypad budget is a token bucket (codes.burst tries, codes.refillPerHour
// regained per hour). With no try left every typed code is refused (429 with Retry-After, an
// alarm to the operator, at most one an hour); a restart of lockerd gives nothing back; a right
// code refunds nothing; only time refills the bucket, never beyond the burst.
import { afterEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, LockerHarness, seqGaps } from '../support/lockerHarness.js';
import { OffsetClock } from '../support/offsetClock.js';

const codes = { length: 10, burst: 5, refillPerHour: 60 };
const TRY_MS = 60_000;

interface Lockout {
  lockedOut: boolean;
  retryAfterMs: number;
  failuresLeft: number;
}

/** A well-formed code that is not the real one. */
function wrongCode(real: string, i: number): string {
  const c = String(1_000_000_000 + i * 123_456_789).slice(0, 10);
  return c === real ? String(9_999_999_999 - i) : c;
}

describe('code brute force lockout survives a restart', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
  });

  it('refuses typed codes once the burst is spent, stays refused across a restart, and refills only with time', async () => {
    const clock = new OffsetClock();
    h = await LockerHarness.start({ overrides: { codes }, clock });
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
    expect(tripped.status).toBe(429);
    expect(errorCode(tripped)).toBe('CODE_LOCKED_OUT');
    expect(tripped.headers.get('retry-after')).toBe(String(TRY_MS / 1000));
    expect(errorContext(tripped).retryAfterMs).toBeGreaterThan(TRY_MS - 1_000);
    expect(errorContext(tripped).retryAfterMs).toBeLessThanOrEqual(TRY_MS);
    const alarms = h.read.events('alarm.code_lockout');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ stream: 'op', carrier: null, data: { burst: 5, refillPerHour: 60 } });

    // Even the right code is refused while empty, and the door stays shut.
    const rightButLocked = await h.pickup(code);
    expect(rightButLocked.status).toBe(429);
    expect(Number(rightButLocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(h.simLock(compartment).doorOpen).toBe(false);
    expect(h.read.parcelByWaybill('SP-BF-1')?.state).toBe('stored');

    // Power off and on again on the same data folder: the downtime is not credited.
    clock.jump(10 * 60_000);
    h = await h.restart({ codes });
    const after = await h.api<Lockout>('GET', '/api/lockout');
    expect(after.body.lockedOut).toBe(true);
    expect(after.body.failuresLeft).toBe(0);
    expect(after.body.retryAfterMs).toBeGreaterThan(TRY_MS - 5_000);
    const stillLocked = await h.pickup(code);
    expect(stillLocked.status).toBe(429);
    expect(errorCode(stillLocked)).toBe('CODE_LOCKED_OUT');
    expect(h.simLock(compartment).doorOpen).toBe(false);
    // No second alarm for attempts made while empty.
    expect(h.read.events('alarm.code_lockout')).toHaveLength(1);

    // One refill interval later one try is back, and the right code opens the door.
    clock.jump(TRY_MS);
    expect((await h.api<Lockout>('GET', '/api/lockout')).body).toMatchObject({ lockedOut: false, failuresLeft: 1 });
    const ok = await h.pickup(code);
    expect(ok.status).toBe(200);
    expect(ok.body.compartment.id).toBe(compartment);
    expect(h.read.parcelByWaybill('SP-BF-1')?.state).toBe('picked_up');
    h.take(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');
    // The right code refunded nothing: still one try, not five.
    expect((await h.api<Lockout>('GET', '/api/lockout')).body.failuresLeft).toBe(1);

    // A steady attacker gets one guess per interval and no second alarm within the hour.
    for (let i = 6; i <= 8; i++) {
      expect((await h.pickup(wrongCode(code, i))).status).toBe(429);
      clock.jump(TRY_MS);
    }
    expect(h.read.events('alarm.code_lockout')).toHaveLength(1);
    // A long quiet time refills to the burst only.
    clock.jump(24 * 3_600_000);
    expect((await h.api<Lockout>('GET', '/api/lockout')).body).toEqual({ lockedOut: false, retryAfterMs: 0, failuresLeft: 5 });
    for (let i = 9; i <= 12; i++) expect((await h.pickup(wrongCode(code, i))).status).toBe(404);
    expect((await h.pickup(wrongCode(code, 13))).status).toBe(429);
    expect(h.read.events('alarm.code_lockout')).toHaveLength(2);
    expect(h.read.keypadBudget()?.tokens ?? 1).toBeLessThan(1);
    expect(h.read.eventTypes('op')).toEqual(['alarm.code_lockout', 'alarm.code_lockout']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });
});
