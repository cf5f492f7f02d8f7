// Repeated wrong codes empty the keypad budget: the screen counts the tries left, then shows the
// lockout with a live countdown to the next try, also to the next person who asks for the keypad.
// One try grows back every 10 minutes, so the refill during the test is a few seconds at most.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('lockedOutCountdown', { overrides: { codes: { length: 8, burst: 3, refillPerHour: 6 } } });
});
afterAll(async () => {
  await h?.close();
});

const seconds = (text: string): number => {
  const m = /(\d+):(\d\d)/.exec(text);
  if (!m) throw new Error(`no countdown in "${text}"`);
  return Number(m[1]) * 60 + Number(m[2]);
};

it('locks out after three wrong codes and counts down', async () => {
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad('24681357');
  await h.waitForScreen('wrong-code');
  expect(await h.text('h1')).toBe('This code did not work');
  expect(await h.text('.big')).toBe('2 tries left');
  await h.screenshot('wrong-code');

  await h.tapText('Try again');
  await h.waitForScreen('code');
  await h.typeOnKeypad('13572468');
  await h.waitForScreen('wrong-code');
  expect(await h.text('.big')).toBe('1 try left');

  await h.tapText('Try again');
  await h.waitForScreen('code');
  await h.typeOnKeypad('11223344');
  await h.waitForScreen('locked-out');
  expect(await h.text('h1')).toBe('Too many wrong codes');
  const first = await h.text('.big');
  expect(first).toMatch(/^You can try again in (10:00|9:[1-5][0-9])$/);
  await h.screenshot('locked-out');

  await h.page.waitForTimeout(2_500);
  const later = await h.text('.big');
  expect(seconds(later)).toBeLessThanOrEqual(seconds(first) - 2);
  expect(seconds(later)).toBeGreaterThan(20);
  await h.screenshot('locked-out-later');

  const lock = await h.api<{ lockedOut: boolean; retryAfterMs: number }>('GET', '/api/lockout');
  expect(lock.lockedOut).toBe(true);

  // The next person asking for the keypad sees the same lockout, not the keypad.
  await h.tapText('Home');
  await h.waitForScreen('home');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('locked-out');
  expect(seconds(await h.text('.big'))).toBeLessThanOrEqual(seconds(later));
  expect(h.pageErrors).toEqual([]);
});
