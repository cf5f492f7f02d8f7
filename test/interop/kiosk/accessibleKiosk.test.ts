// Issue 11, flow 6: a large-text / high-contrast mode; in portrait the keypad sits in the lower
// half of the screen; spoken prompts through speechSynthesis where a voice exists (stubbed in
// the page: the calls are recorded, in the screen's language); the language menu reachable from
// a screen deep in a flow, and both modes reset on "Done".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

// Runs in the page before its scripts: a speech engine with one voice per language, recording.
const speechStub = `(() => {
  window.__spoken = [];
  // Voices as the engine gives them: a real SpeechSynthesisVoice cannot be made, so the utterance's voice is stubbed too.
  const voices = [{ name: 'stub-en', lang: 'en-GB' }, { name: 'stub-zh', lang: 'zh-CN' }];
  const U = window.SpeechSynthesisUtterance;
  window.SpeechSynthesisUtterance = class extends (U || Object) { constructor(t) { super(t); this.text = t; } set voice(v) { this._v = v; } get voice() { return this._v; } };
  Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: {
    getVoices: () => voices,
    speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice && u.voice.name }),
    cancel: () => {},
    addEventListener: () => {},
  } });
})()`;

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('accessibleKiosk');
  await h.page.addInitScript(speechStub);
  await h.reload();
});
afterAll(async () => {
  await h?.close();
});

const spoken = () => h.page.evaluate<{ text: string; lang: string; voice: string }[]>('window.__spoken');

it('speaks, enlarges, keeps the keypad low in portrait and resets on Done', async () => {
  const parcel = await h.storeParcel('SP-A11Y-0001', 'S');
  await h.tap('#speech-button');
  await h.tap('#large-button');
  expect(await h.attributes('html', 'data-large')).toEqual(['true']);
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.page.locator('html[data-large="true"]').waitFor({ state: 'attached' });
  expect((await spoken()).map((s) => s.text)).toContain('Enter your pickup code');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('large-text-code');

  // Portrait: the keypad's top is in the lower half.
  await h.page.setViewportSize({ width: 800, height: 1280 });
  const pad = await h.page.locator('.keypad').boundingBox();
  expect(pad?.y ?? 0).toBeGreaterThanOrEqual(640);
  // The header stays one row: the locker's name gives way (one line, cut), the buttons keep their
  // words and icons.
  const bar = await h.page.locator('header.bar').boundingBox();
  expect(bar?.height ?? 999).toBeLessThanOrEqual(100);
  const globe = await h.page.locator('#language-button .bar-icon').boundingBox();
  expect(globe?.width ?? 0).toBeGreaterThanOrEqual(24);
  await h.screenshot('large-text-code-portrait');
  await h.page.setViewportSize({ width: 1280, height: 800 });

  // The language menu from the middle of a flow; prompts follow the language.
  await h.tap('#language-button');
  await h.tap('#language-menu .lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await h.waitForScreen('code');
  const zh = (await spoken()).at(-1);
  expect(zh?.lang).toBe('zh-Hans');
  expect(zh?.voice).toBe('stub-zh');

  await h.typeOnKeypad(parcel.code);
  await h.waitForScreen('door-open');
  await h.waitForDoor(parcel.compartment, true);
  await h.sim(`compartments/${parcel.compartment}/take`);
  await h.sim(`compartments/${parcel.compartment}/close`);
  await h.waitForScreen('thanks');
  await h.tapText('完成');
  await h.waitForScreen('home');
  await h.waitForLanguage('en');
  expect(await h.attributes('html', 'data-large')).toEqual([null]);
  expect(h.pageErrors).toEqual([]);
});
