// Issue 11, defect 3: service mode names faults in words (in Chinese too), forgets the fault
// once the compartment is back in service, and shows the whole "Test all doors" report, every
// row reachable, in portrait as well.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('serviceModeSpeaksPlainly', { overrides: { doors: { openTimeoutMs: 800, jamRetries: 0 } } });
});
afterAll(async () => {
  await h?.close();
});

const tile = (id: string) => `.tile[data-compartment="${id}"]`;

it('names a jammed latch in words and clears it when back in service', async () => {
  const victim = (await h.compartments()).find((c) => c.state === 'free')?.id ?? '';
  await h.sim(`compartments/${victim}/jam`);
  await h.scan(await h.demo.mintOperatorBadge('ops-3'));
  await h.waitForScreen('operator');
  await h.tap(tile(victim));
  await h.tapText('Open the door');
  await h.page.waitForSelector(`${tile(victim)}[data-fault]`, { timeout: 20_000 });
  expect(await h.text(`${tile(victim)} .tile-fault`)).toBe('Latch jammed');
  expect(await h.text('[data-ref="selInfo"]')).toContain('Fault: Latch jammed');
  expect(await h.visibleText()).not.toContain('LATCH_JAMMED');
  await h.screenshot('fault-in-words');

  await h.tap('#language-button');
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await h.waitForScreen('operator');
  await h.page.waitForSelector(`${tile(victim)} .tile-fault`);
  expect(await h.text(`${tile(victim)} .tile-fault`)).toBe('门锁卡住');
  await h.screenshot('fault-in-chinese');
  await h.tap('#language-button');
  await h.tap('.lang[lang="en"]');
  await h.waitForLanguage('en');
  await h.waitForScreen('operator');

  await h.sim(`compartments/${victim}/unjam`);
  await h.tap(tile(victim));
  await h.tapText('Put back in service');
  await h.page.waitForSelector(`${tile(victim)}[data-state="free"]`);
  expect(await h.page.locator(`${tile(victim)} .tile-fault`).count()).toBe(0);
  expect(await h.text('[data-ref="selInfo"]')).not.toContain('Fault');
  expect(h.pageErrors).toEqual([]);
});

it('shows the whole door test report in portrait', async () => {
  await h.page.setViewportSize({ width: 800, height: 1280 });
  const all = await h.compartments();
  const free = all.filter((c) => c.state === 'free').map((c) => c.id);
  const closer = setInterval(() => {
    void h.attributes('.tile[data-door="open"]', 'data-compartment').then(async (open) => {
      for (const id of open) if (id) await h.sim(`compartments/${id}/close`).catch(() => undefined);
    }, () => undefined);
  }, 250);
  try {
    await h.tapText('Test all doors');
    await h.page.locator('[data-ref="report"]').waitFor({ timeout: 90_000 });
  } finally {
    clearInterval(closer);
  }
  // One row per compartment: tested ones and the skipped ones, with a summary.
  expect(await h.page.locator('[data-ref="logList"] .row').count()).toBe(all.length);
  expect(await h.text('[data-ref="report"]')).toBe(`${free.length} opened, 0 did not open, ${all.length - free.length} not tested`);
  const last = h.page.locator('[data-ref="logList"] .row').last();
  await last.scrollIntoViewIfNeeded();
  const box = await last.boundingBox();
  expect(box && box.y + box.height).toBeLessThanOrEqual(1280);
  expect(box && box.y).toBeGreaterThanOrEqual(0);
  await h.screenshot('door-test-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });
  expect(h.pageErrors).toEqual([]);
});
