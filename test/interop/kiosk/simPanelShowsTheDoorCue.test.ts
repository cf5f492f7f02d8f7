// Issue 11, flow 1 on the simulator panel in real Chromium: the demo locker's indicator
// (deploy/examples/lockerd.sim.json, `hardware.indicator` on simulated lines) shows on the
// panel: the open door's card says "LED on" while the door is open and "LED off" once it is
// closed, and the buzzer pill counts the beeps.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Page } from 'playwright-core';
import { KioskHarness, until } from '../../support/kioskHarness.js';

let h: KioskHarness;
let panel: Page;
const errors: string[] = [];
beforeAll(async () => {
  h = await KioskHarness.start('simPanelShowsTheDoorCue');
  panel = await h.openSimPanel(errors);
});
afterAll(async () => {
  await h?.close();
});

const led = (id: string) => panel.locator(`[data-compartment="${id}"] .flag.led`).innerText();
const beeps = async (): Promise<number> => Number(/(\d+) beeps/.exec(await panel.locator('#buzzer').innerText())?.[1] ?? NaN);

it("a door opened at the kiosk lights its LED on the panel and beeps; closing it puts the LED out", async () => {
  const parcel = await h.storeParcel('SP-CUE-PANEL');
  await until(async () => (await led(parcel.compartment)) === 'LED off', 10_000, 'the deposit LED off');
  const before = await beeps();
  expect(before).toBeGreaterThanOrEqual(1);

  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await until(async () => (await led(parcel.compartment)) === 'LED on', 10_000, 'the LED on');
  expect(await panel.locator(`[data-compartment="${parcel.compartment}"] .flag.led.lit`).count()).toBe(1);
  await until(async () => (await beeps()) === before + 1, 10_000, 'one more beep');

  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await until(async () => (await led(parcel.compartment)) === 'LED off', 10_000, 'the LED off');
  expect(await panel.locator('.flag.led.lit').count()).toBe(0);
  expect(errors).toEqual([]);
});
