// Issue 11, flows 1, 3 (help) and 5 in real Chromium, in English and Simplified Chinese:
// - every open-door screen (consumer pickup, courier deposit) draws the cabinet from the layout's
//   columns and rows with the open door highlighted, and the kiosk plays a sound cue (WebAudio);
// - a consumer extends the pickup time with the code where the carrier allows it, once;
// - Help lists the locker's and the carriers' support lines from the configuration.
// Taps are counted as the person would make them and written to docs/kiosk.md.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskHarness } from '../../support/kioskHarness.js';

let h: KioskHarness;
let taps = 0;
const tap = async (selector: string): Promise<void> => {
  taps += 1;
  await h.tap(selector);
};
const tapText = async (text: string): Promise<void> => {
  taps += 1;
  await h.tapText(text);
};
const typeCode = async (code: string): Promise<void> => {
  taps += code.length;
  await h.typeOnKeypad(code);
};

// Counts the sound cues: every oscillator the page starts (the page's own code is unchanged).
const countCues = `(() => {
  window.__cues = 0;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) { window.__cues += 1; return start.apply(this, args); };
})()`;
const cues = async (): Promise<number> => h.page.evaluate<number>('window.__cues');

beforeAll(async () => {
  h = await KioskHarness.start('cabinetMapExtendAndHelp');
  await h.page.addInitScript(countCues);
  await h.reload();
});
afterAll(async () => {
  await h?.close();
});

async function mapState(): Promise<{ cells: number; open: string[]; columns: string }> {
  await h.page.locator('#screen [data-ref="map"][data-drawn="true"]').waitFor();
  return h.page.evaluate<{ cells: number; open: string[]; columns: string }>(`(() => {
    const m = document.querySelector('#screen [data-ref="map"]');
    return { cells: m.querySelectorAll('.cell').length, open: [...m.querySelectorAll('.cell.open')].map((c) => c.dataset.compartment), columns: getComputedStyle(m).gridTemplateColumns.split(' ').length + '' };
  })()`);
}

describe('the cabinet map and the sound cue', () => {
  it('a consumer pickup shows the whole cabinet with the open door highlighted, and beeps', async () => {
    const layout = await h.api<{ columns: number; rows: number; compartments: { id: string }[] }>('GET', '/api/layout');
    expect(layout.columns).toBe(4);
    expect(layout.rows).toBe(6);
    const parcel = await h.storeParcel('SP-MAP-0001');
    const before = await cues();
    await h.tap('[data-ref="collect"]');
    await h.waitForScreen('code');
    await h.typeOnKeypad(parcel.code);
    await h.waitForScreen('door-open');
    const m = await mapState();
    expect(m).toEqual({ cells: layout.compartments.length, open: [parcel.compartment], columns: '4' });
    expect(await cues()).toBe(before + 1);
    await h.screenshot('map-pickup-en');
    await h.page.setViewportSize({ width: 800, height: 1280 });
    await h.screenshot('map-pickup-en-portrait');
    await h.page.setViewportSize({ width: 1280, height: 800 });
    await h.waitForDoor(parcel.compartment, true);
    await h.sim(`compartments/${parcel.compartment}/take`);
    await h.sim(`compartments/${parcel.compartment}/close`);
    await h.waitForScreen('thanks');
    await h.tapText('Done');
    await h.waitForScreen('home');
  });

  it('a courier deposit shows the map in Chinese too, and the highlight follows the door', async () => {
    await h.tapText('简体中文');
    await h.waitForLanguage('zh-Hans');
    const before = await cues();
    await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-31'));
    await h.waitForScreen('menu');
    await h.tap('[data-ref="deposit"]');
    await h.waitForScreen('waybill');
    await h.scan('SP-MAP-0002');
    await h.waitForScreen('size');
    await h.tap('[data-size="M"]');
    await h.waitForScreen('deposit-door');
    const door = await h.text('.door-badge strong');
    expect((await mapState()).open).toEqual([door]);
    expect(await cues()).toBe(before + 1);
    expect(await h.visibleText()).toContain(`${door}`);
    await h.screenshot('map-deposit-zh');
    await h.waitForDoor(door, true);
    await h.sim(`compartments/${door}/put`);
    await h.sim(`compartments/${door}/close`);
    await h.waitForScreen('stored');
    await h.api('POST', '/api/courier/logout', {});
    expect(h.pageErrors).toEqual([]);
  });
});

describe('extending the pickup time at the kiosk', () => {
  it('extends once by the carrier allowance, in both languages, and says when the second try is refused', async () => {
    await h.reload();
    const parcel = await h.storeParcel('SP-EXT-0001');
    taps = 0;
    await tap('[data-ref="collect"]');
    await h.waitForScreen('code');
    await tapText('Extend pickup time');
    await h.waitForScreen('code');
    expect(await h.text('#screen h1')).toBe('Enter your pickup code to extend');
    await typeCode(parcel.code);
    await h.waitForScreen('extended');
    const extendTaps = taps;
    expect(await h.visibleText()).toContain('You have 48 more hours.');
    await h.screenshot('extended-en');
    // The door stayed shut.
    expect((await h.simLock(parcel.compartment)).doorOpen).toBe(false);

    await h.tapText('Done');
    await h.waitForScreen('home');
    await h.tapText('简体中文');
    await h.waitForLanguage('zh-Hans');
    await h.tap('[data-ref="collect"]');
    await h.waitForScreen('code');
    await h.tapText('延长取件时间');
    await h.waitForScreen('code');
    await h.typeOnKeypad(parcel.code);
    await h.waitForScreen('extend-refused');
    expect(await h.visibleText()).toContain('此包裹的取件时间已经延长过。');
    await h.screenshot('extend-refused-zh');
    expect(extendTaps).toBeLessThanOrEqual(12);
    console.info(`taps: extend pickup ${extendTaps}`);
    expect(h.pageErrors).toEqual([]);
  });
});

describe('help', () => {
  it("lists the locker's line and each carrier's from the configuration", async () => {
    await h.reload();
    taps = 0;
    await tap('[data-ref="collect"]');
    await h.waitForScreen('code');
    await tapText('Help');
    await h.waitForScreen('help');
    const text = await h.visibleText();
    expect(text).toContain('This locker');
    expect(text).toContain('Call 0800 123 4567');
    expect(text).toContain('SwiftPost');
    expect(text).toContain('Call +44 20 7946 0123');
    expect(text).toContain('every day 8:00-20:00');
    expect(text).not.toContain('ParcelGo'); // it has no line of its own
    await h.screenshot('help-en');
    console.info(`taps: help ${taps}`);
    expect(h.pageErrors).toEqual([]);
  });
});
