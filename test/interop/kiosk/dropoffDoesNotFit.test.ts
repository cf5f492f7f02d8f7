// Issue 11, flow 4 in real Chromium: a consumer's drop-off works like a courier's deposit. The
// return does not fit its door, so "Does not fit" opens a bigger one; the first door must be
// closed empty and is then free again. A second drop-off is cancelled: the door is closed empty,
// the code stays valid and the compartment is free. In Chinese too.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoHardwareWithItemSensors } from '../../support/demoLocker.js';
import { KioskHarness, until } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('dropoffDoesNotFit', { overrides: { hardware: demoHardwareWithItemSensors() } });
});
afterAll(async () => {
  await h?.close();
});

const sizeOrder = ['XS', 'S', 'M', 'L', 'XL'];
const doorOnScreen = () => h.text('.door-badge strong');

async function startDropoff(waybill: string, size = 'S'): Promise<{ code: string; door: string }> {
  const { code } = await h.api<{ code?: string }>('POST', '/sim/carriers/swiftpost/reservations', { waybill, size, kind: 'dropoff' });
  await h.tap('[data-ref="send"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(code ?? '');
  await h.waitForScreen('door-open');
  const door = await doorOnScreen();
  await h.waitForDoor(door, true);
  return { code: code ?? '', door };
}

it('"Does not fit" gives a bigger door and frees the first; cancel leaves the code valid', async () => {
  const sizeOf = async (id: string) => (await h.compartments()).find((c) => c.id === id)?.size ?? '';
  const { door: first } = await startDropoff('SP-RET-FIT1');
  await h.screenshot('dropoff-door-open');
  await h.tapText('Does not fit');
  await h.waitForScreen('door-open');
  await until(async () => (await doorOnScreen()) !== first, 10_000, 'a bigger door on screen');
  const bigger = await doorOnScreen();
  expect(sizeOrder.indexOf(await sizeOf(bigger))).toBeGreaterThan(sizeOrder.indexOf(await sizeOf(first)));
  expect(await h.visibleText()).toContain(`Close door ${first} empty.`);
  await h.screenshot('dropoff-bigger-door');
  await h.waitForDoor(bigger, true);
  await h.sim(`compartments/${first}/close`);
  // The reminder goes once the first door is shut.
  await until(async () => !(await h.visibleText()).includes(`Close door ${first} empty.`), 10_000, 'the reminder gone');
  await h.sim(`compartments/${bigger}/put`);
  await h.sim(`compartments/${bigger}/close`);
  await h.waitForScreen('thanks');
  const byId = new Map((await h.compartments()).map((c) => [c.id, c]));
  expect(byId.get(first)?.state).toBe('free');
  expect(byId.get(bigger)?.state).toBe('occupied');
  await h.tapText('Done');
  await h.waitForScreen('home');

  // Cancel, in Chinese: take the parcel back and close the door; the code still works later.
  await h.tapText('简体中文');
  await h.waitForLanguage('zh-Hans');
  const second = await startDropoff('SP-RET-FIT2');
  await h.sim(`compartments/${second.door}/put`);
  await h.tapText('取消寄件');
  await until(async () => (await h.visibleText()).includes('请取回包裹并关上柜门。'), 10_000, 'the cancel step');
  await h.screenshot('dropoff-cancelling-zh');
  await h.sim(`compartments/${second.door}/take`);
  await h.sim(`compartments/${second.door}/close`);
  await h.waitForScreen('home');
  expect((await h.compartments()).find((c) => c.id === second.door)?.state).toBe('free');

  // The same code opens a door again.
  await h.tap('[data-ref="send"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(second.code);
  await h.waitForScreen('door-open');
  expect(h.pageErrors).toEqual([]);
});
