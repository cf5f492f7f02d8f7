// Issue 11, flow 7: the courier's size buttons show each size's inner dimensions from the
// layout (layout.sizes) beside the free count, in both languages.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('courierSizesShowInnerDimensions');
});
afterAll(async () => {
  await h?.close();
});

async function toSizeScreen(waybill: string): Promise<void> {
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-31'));
  await h.waitForScreen('menu');
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');
  await h.scan(waybill);
  await h.waitForScreen('size');
  await h.page.waitForSelector('.size-button[data-free] .size-inner');
}

it('shows width × height × depth in cm and the free count on each size button', async () => {
  const dims = h.demo.config.layout.sizes ?? {};
  expect(dims.S).toBeDefined();
  await toSizeScreen('SP-DIM-0001');
  const s = await h.text('[data-size="S"] .size-inner');
  expect(s).toBe(`${dims.S!.widthMm / 10} × ${dims.S!.heightMm / 10} × ${dims.S!.depthMm / 10} cm`);
  expect(await h.text('[data-size="S"] .size-free')).toMatch(/^\d+ free$/);
  expect(await h.text('[data-size="XL"] .size-inner')).toBe(`${dims.XL!.widthMm / 10} × ${dims.XL!.heightMm / 10} × ${dims.XL!.depthMm / 10} cm`);
  await h.screenshot('size-dimensions-en');
  expect(h.pageErrors).toEqual([]);
});

it('says it in Chinese too', async () => {
  await h.reload();
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await toSizeScreen('SP-DIM-0002');
  const m = h.demo.config.layout.sizes?.M;
  if (!m) throw new Error('the demo layout gives M no dimensions');
  expect(await h.text('[data-size="M"] .size-inner')).toBe(`内部 ${m.widthMm / 10} × ${m.heightMm / 10} × ${m.depthMm / 10} 厘米`);
  await h.screenshot('size-dimensions-zh');
  expect(h.pageErrors).toEqual([]);
});
