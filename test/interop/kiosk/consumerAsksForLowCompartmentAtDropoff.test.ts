// Issue 11, flow 4 in real Chromium: a consumer handing in a return asks for a low compartment
// on the drop-off keypad ("I need a low compartment") and gets a low door; in Chinese too.
// The taps are counted for docs/kiosk.md.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('consumerAsksForLowCompartmentAtDropoff');
});
afterAll(async () => {
  await h?.close();
});

async function dropOff(waybill: string, askLow: string | null): Promise<{ door: string; taps: number }> {
  const { code } = await h.api<{ code?: string }>('POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', kind: 'dropoff' });
  let taps = 0;
  await h.tap('[data-ref="send"]');
  taps += 1;
  await h.waitForScreen('code');
  if (askLow) {
    await h.tapText(askLow);
    taps += 1;
    expect(await h.attributes('[data-ref="askLow"]', 'aria-pressed')).toEqual(['true']);
  }
  await h.typeOnKeypad(code ?? '');
  taps += (code ?? '').length;
  await h.waitForScreen('door-open');
  const door = await h.text('.door-badge strong');
  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/put`);
  await h.sim(`compartments/${door}/close`);
  await h.waitForScreen('thanks');
  return { door, taps };
}

it('a drop-off gets a low door when the consumer asks, a non-low one otherwise', async () => {
  const low = (await h.compartments()).filter((c) => c.accessible).map((c) => c.id);
  expect(low.length).toBeGreaterThan(0);

  const plain = await dropOff('SP-RET-PLAIN', null);
  expect(low).not.toContain(plain.door);
  await h.tapText('Done');
  await h.waitForScreen('home');

  const asked = await dropOff('SP-RET-LOW1', 'I need a low compartment');
  expect(low).toContain(asked.door);
  await h.tapText('Done');
  await h.waitForScreen('home');

  await h.tapText('简体中文');
  await h.waitForLanguage('zh-Hans');
  const zh = await dropOff('SP-RET-LOW2', '我需要低位格口');
  expect(low).toContain(zh.door);
  console.info(`taps: drop-off ${plain.taps}, drop-off asking for a low compartment ${asked.taps} (the demo's 8-digit code)`);
  // Send + the 8 digits of the demo's drop-off code (the keypad submits at the last digit).
  expect(plain.taps).toBe(9);
  expect(asked.taps).toBe(10);
  expect(h.pageErrors).toEqual([]);
});
