// Attack (issue 7, finding 4): a stranger at the kiosk guesses a courier's PIN through
// POST /api/courier/login. On the old code 600 wrong PINs went through at 21.5 per second and
// then the right PIN was accepted, with no alarm and no log line. Rule: a persisted budget per
// courier and per locker (it survives a restart), an operator alarm, a log line without the
// PIN, and PINs of at least 6 digits (a shorter one is refused without a hash but still counts).
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO_COURIER_ID, DEMO_COURIER_PIN } from '../../src/composition/demoKeys.js';
import { hashPin } from '../../src/credentials/pin.js';
import { createLogger } from '../../src/logger.js';
import { seededRandom } from '../../kernel/random.js';
import { errorCode, LockerHarness } from '../support/lockerHarness.js';
import { OffsetClock } from '../support/offsetClock.js';

const CARRIER = 'swiftpost';
const COURIER = DEMO_COURIER_ID;

function lineCapture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('courier PIN guessing is budgeted', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
  });

  it('the demo PIN and every newly hashed PIN have at least 6 digits', async () => {
    expect(DEMO_COURIER_PIN).toMatch(/^[0-9]{6,}$/);
    await expect(hashPin('2468', seededRandom(1), { N: 1024, r: 8, p: 1 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(hashPin('24681', seededRandom(1), { N: 1024, r: 8, p: 1 })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('concurrent wrong PINs cannot overspend the budget (a try is taken before the slow hash)', async () => {
    h = await LockerHarness.start();
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => h!.api('POST', '/api/courier/login', { carrier: CARRIER, courierId: COURIER, pin: String(300_000 + i) })));
    const checked = replies.filter((r) => r.status === 401).length;
    expect(checked).toBeLessThanOrEqual(h.config.courierPins.perCourier.burst);
    expect(replies.filter((r) => r.status === 429).length).toBe(60 - checked);
  });

  it('600 wrong PINs cannot happen; the lockout survives a restart and refuses the right PIN; it raises an alarm and logs without the PIN', async () => {
    const clock = new OffsetClock();
    const log = lineCapture();
    h = await LockerHarness.start({ clock, logger: createLogger({ level: 'info', destination: log.stream }) });
    const login = (pin: string, courierId = COURIER) => h!.api('POST', '/api/courier/login', { carrier: CARRIER, courierId, pin });

    let accepted = 0;
    let refusedAt: number | undefined;
    const tried: string[] = [];
    for (let i = 0; i < 600; i++) {
      // Every third guess is a short one: it is refused but still costs.
      const pin = i % 3 === 2 ? String(1000 + i) : String(100_000 + i * 37);
      if (pin === DEMO_COURIER_PIN) continue;
      tried.push(pin);
      const r = await login(pin);
      if (r.status === 429) {
        expect(errorCode(r)).toBe('PIN_LOCKED_OUT');
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        refusedAt = i;
        break;
      }
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('PIN_INVALID');
      accepted++;
    }
    expect(refusedAt, 'no limit: 600 wrong PINs were checked').toBeDefined();
    expect(accepted).toBeLessThanOrEqual(h.config.courierPins.perCourier.burst);

    // The right PIN is refused while the budget is empty.
    const rightButLocked = await login(DEMO_COURIER_PIN);
    expect(rightButLocked.status).toBe(429);
    expect(errorCode(rightButLocked)).toBe('PIN_LOCKED_OUT');

    const alarms = h.read.events('alarm.pin_lockout');
    expect(alarms.length).toBeGreaterThanOrEqual(1);
    expect(alarms[0]).toMatchObject({ stream: 'op', carrier: null, data: { scope: 'courier', carrier: CARRIER, courierId: COURIER } });

    // Power off and on again on the same data folder: still locked, the right PIN still refused.
    h = await h.restart();
    const afterRestart = await login(DEMO_COURIER_PIN);
    expect(afterRestart.status).toBe(429);
    expect(errorCode(afterRestart)).toBe('PIN_LOCKED_OUT');

    // Spreading guesses over other courier ids (known or not) only drains the locker-wide budget.
    let lockerWide = 0;
    for (let i = 0; i < 200; i++) {
      const r = await login(String(200_000 + i), `nobody-${i}`);
      if (r.status === 429) break;
      lockerWide++;
    }
    expect(lockerWide).toBeLessThanOrEqual(h.config.courierPins.perLocker.burst);

    // Wrong PINs were logged, never the PIN itself.
    const text = log.lines.join('\n');
    expect(text).toMatch(/courier PIN/);
    for (const pin of [...tried, DEMO_COURIER_PIN]) expect(text).not.toContain(`"${pin}"`);
    expect(text).not.toContain(DEMO_COURIER_PIN);

    // Time, and only time, gives tries back: a day later the right PIN logs in.
    clock.jump(24 * 3_600_000);
    const later = await login(DEMO_COURIER_PIN);
    expect(later.status).toBe(200);
  });
});
