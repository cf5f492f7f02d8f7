// Issue 11, flow 3 in real Chromium: right after a pickup the consumer can report a problem.
// "The door closed too early" opens the same door once more (and only once); "the parcel is
// damaged" is reported in Chinese. The carrier's events are checked in the domain test
// (test/unit/domain/reportAProblem.test.ts); here the screens and the door.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('reportAProblemAfterPickup');
});
afterAll(async () => {
  await h?.close();
});

async function pickUp(code: string, compartment: string): Promise<void> {
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(code);
  await h.waitForScreen('door-open');
  await h.waitForDoor(compartment, true);
}

it('the door closed too early: one tap on the thanks screen and one on the reason open it again, once', async () => {
  const parcel = await h.storeParcel('SP-REP-0001');
  await pickUp(parcel.code, parcel.compartment);
  // Closed before the parcel was taken out.
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  let taps = 0;
  await h.tapText('Report a problem');
  taps += 1;
  await h.waitForScreen('report');
  await h.screenshot('report-en');
  await h.tapText('The door closed too early');
  taps += 1;
  await h.waitForScreen('door-open');
  expect(await h.text('.door-badge strong')).toBe(parcel.compartment);
  await h.waitForDoor(parcel.compartment, true);
  await h.screenshot('reopened-en');
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  // One more time only: no second report from this screen.
  expect(await h.visibleText()).not.toContain('Report a problem');
  expect(taps).toBe(2);
  console.info(`taps: reopen after the door closed too early ${taps}`);
  await h.tapText('Done');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});

it('a damaged parcel is reported in Chinese', async () => {
  const parcel = await h.storeParcel('SP-REP-0002');
  await h.tapText('简体中文');
  await h.waitForLanguage('zh-Hans');
  await pickUp(parcel.code, parcel.compartment);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.tapText('报告问题');
  await h.waitForScreen('report');
  await h.screenshot('report-zh');
  await h.tapText('包裹已损坏');
  await h.waitForScreen('reported');
  expect(await h.visibleText()).toContain('谢谢，我们已通知承运商');
  await h.screenshot('reported-zh');
  // The door stayed shut.
  expect((await h.simLock(parcel.compartment)).doorOpen).toBe(false);
  expect(h.pageErrors).toEqual([]);
});
