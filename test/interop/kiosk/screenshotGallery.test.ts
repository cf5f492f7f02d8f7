// The screenshot gallery of docs/kiosk.md: every kiosk screen in English and Chinese, landscape
// (1280x800) and portrait (800x1280), written to docs/img/kiosk/<screen>-<language>-<orientation>.png.
// One walk through the flows; at each screen the language is switched through the header menu
// (the screen redraws in place) and the viewport turned. Bounded: one pass, no waiting on time.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { KioskHarness } from '../../support/kioskHarness.js';

const outDir = join(packageRoot(), 'docs', 'img', 'kiosk');
const orientations = [
  { name: 'landscape', width: 1280, height: 800 },
  { name: 'portrait', width: 800, height: 1280 },
] as const;
const written: string[] = [];

let h: KioskHarness;
beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  h = await KioskHarness.start('screenshotGallery', { overrides: { codes: { length: 8, burst: 10, refillPerHour: 6 }, doors: { openTimeoutMs: 800, jamRetries: 0 } } });
});
afterAll(async () => {
  await h?.close();
});

async function setLanguage(lang: string): Promise<void> {
  if ((await h.attributes('html', 'lang'))[0] === lang) return;
  await h.tap('#language-button');
  await h.tap(`#language-menu .lang[lang="${lang}"]`);
  await h.waitForLanguage(lang);
}

/** Saves the screen shown in both languages and both orientations, ending in English landscape. */
async function shots(name: string, screen = name): Promise<void> {
  for (const lang of ['en', 'zh-Hans']) {
    await setLanguage(lang);
    await h.waitForScreen(screen);
    for (const o of orientations) {
      await h.page.setViewportSize({ width: o.width, height: o.height });
      await h.page.waitForTimeout(100);
      const file = join(outDir, `${name}-${lang}-${o.name}.png`);
      await h.page.screenshot({ path: file });
      written.push(file);
    }
  }
  await h.page.setViewportSize({ width: 1280, height: 800 });
  await setLanguage('en');
  await h.waitForScreen(screen);
}

it('writes every screen in both languages and orientations', async () => {
  const parcel = await h.storeParcel('SP-GAL-0001', 'M');
  const jammed = await h.storeParcel('SP-GAL-0002', 'S');
  await shots('home');

  await h.tap('[data-ref="collect"]');
  await shots('code');
  await h.typeOnKeypad('13572468');
  await shots('wrong-code');
  await h.tapText('Home');

  await h.sim(`compartments/${jammed.compartment}/jam`);
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(jammed.code);
  await h.waitForScreen('door-failed', 20_000);
  await shots('door-failed');
  await h.sim(`compartments/${jammed.compartment}/unjam`);
  await h.tapText('Home');

  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await h.waitForDoor(parcel.compartment, true);
  await shots('door-open');
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await shots('thanks');
  await h.tapText('Done');
  await h.waitForScreen('home');

  await h.tap('[data-ref="courier"]');
  await shots('login');
  await h.tapText('Back');
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-1', ['deposit', 'collect']));
  await shots('menu');
  await h.tap('[data-ref="deposit"]');
  await h.waitForScreen('waybill');
  await shots('waybill');
  await h.typeOnKeyboard('SP-GAL-0003');
  await h.tapText('Next');
  await shots('size');
  await h.tap('[data-size="S"]');
  await h.waitForScreen('deposit-door');
  const door = await h.text('.door-badge strong');
  await h.waitForDoor(door, true);
  await shots('deposit-door');
  await h.sim(`compartments/${door}/put`);
  await h.sim(`compartments/${door}/close`);
  await h.waitForScreen('stored');
  await shots('stored');
  await h.tapText('Finish');
  await h.waitForScreen('menu');
  await h.tap('[data-ref="collect"]');
  await shots('collections');
  await h.tapText('Back');
  await h.waitForScreen('menu');
  await h.tapText('Log out');
  await h.waitForScreen('home');

  await h.scan(await h.demo.mintOperatorBadge('ops-1'));
  await h.waitForScreen('operator');
  await h.page.waitForSelector('.tile');
  await h.tap(`.tile[data-compartment="${jammed.compartment}"]`);
  await shots('operator');
  await h.tapText('Log out');
  await h.waitForScreen('home');

  expect(written.length).toBe(14 * 4);
  expect(h.pageErrors).toEqual([]);
});
