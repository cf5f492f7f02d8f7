// A parcel for someone in a wheelchair: the courier asks for a low (accessible) compartment,
// and the door that opens is one of the low ones, which the screen says.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('courierAsksForLowCompartment');
});
afterAll(async () => {
  await h?.close();
});

it('opens a low door when the courier asks for one', async () => {
  const low = (await h.compartments()).filter((c) => c.accessible).map((c) => c.id);
  expect(low.length).toBeGreaterThan(0);

  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-21'));
  await h.waitForScreen('menu');
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');
  await h.scan('SP-LOW-0001');
  await h.waitForScreen('size');
  await h.tap('[data-ref="accessible"]');
  expect(await h.attributes('[data-ref="accessible"]', 'aria-pressed')).toEqual(['true']);
  await h.screenshot('low-compartment-asked');
  await h.tap('[data-size="S"]');
  await h.waitForScreen('deposit-door');
  const door = await h.text('.door-badge strong');
  expect(low).toContain(door);
  expect(await h.visibleText()).toContain('This is a low compartment, within reach from a wheelchair.');
  await h.screenshot('low-door-open');

  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/put`);
  await h.sim(`compartments/${door}/close`);
  await h.waitForScreen('stored');
  expect(h.pageErrors).toEqual([]);
});
