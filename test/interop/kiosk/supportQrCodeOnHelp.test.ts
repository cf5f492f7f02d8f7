// Issue 11, flow 3: the help screen shows each support line with the QR code of its link
// (`support.qrUrl`), drawn by lockerd as SVG under /api/info, with the link in words beside it.
// The test decodes the drawn modules and compares them with the same encoder's modules for the
// link shown beside it. A courier's help shows the courier's carrier's line. Both languages.
import qrcode from 'qrcode-generator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { QR_MARGIN } from '../../../src/kiosk/supportQr.js';
import { demoConfigInput } from '../../support/demoLocker.js';
import { KioskHarness } from '../../support/kioskHarness.js';

const carriers = (demoConfigInput().carriers as Record<string, unknown>[]).map((c) =>
  c.id === 'swiftpost' ? { ...c, support: { phone: '+44 20 7946 0123', qrUrl: 'https://help.swiftpost.example/locker?id=demo-locker-1' } } : c,
);

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('supportQrCodeOnHelp', { overrides: { support: { phone: '+44 20 7946 0000', qrUrl: 'tel:+442079460000' }, carriers } });
});
afterAll(async () => {
  await h?.close();
});

/** The dark modules the SVG draws, as "row,column" (its path has one 1×1 square per dark module). */
function drawnModules(svg: string): { count: number; dark: Set<string> } {
  const count = Number(/data-modules="(\d+)"/.exec(svg)?.[1]);
  const dark = new Set<string>();
  for (const m of svg.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) dark.add(`${Number(m[2]) - QR_MARGIN},${Number(m[1]) - QR_MARGIN}`);
  return { count, dark };
}

function expectedModules(url: string): { count: number; dark: Set<string> } {
  const qr = qrcode(0, 'M');
  qr.addData(url, 'Byte');
  qr.make();
  const count = qr.getModuleCount();
  const dark = new Set<string>();
  for (let r = 0; r < count; r++) for (let c = 0; c < count; c++) if (qr.isDark(r, c)) dark.add(`${r},${c}`);
  return { count, dark };
}

/** Every QR code on the screen: drawn (loaded), and holding exactly the link written beside it. */
async function checkQrCodes(expected: string[]): Promise<void> {
  const figures = await h.page.locator('.qr-figure').all();
  const urls: string[] = [];
  for (const f of figures) {
    const img = f.locator('img.qr');
    await img.waitFor();
    expect(await img.evaluate((el) => (el as unknown as { complete: boolean }).complete && (el as unknown as { naturalWidth: number }).naturalWidth > 0)).toBe(true);
    const url = (await f.locator('.qr-url').textContent()) ?? '';
    urls.push(url);
    const res = await fetch(`${h.lockerd.url}${await img.getAttribute('src')}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const drawn = drawnModules(await res.text());
    const want = expectedModules(url);
    expect(drawn.count).toBe(want.count);
    expect(drawn.dark).toEqual(want.dark);
  }
  expect(urls.sort()).toEqual([...expected].sort());
}

it('English: help from the pickup keypad draws each line’s QR code with its link beside it', async () => {
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.tapText('Help');
  await h.waitForScreen('help');
  await checkQrCodes(['tel:+442079460000', 'https://help.swiftpost.example/locker?id=demo-locker-1']);
  const text = await h.visibleText();
  expect(text).toContain('Scan with your phone:');
  expect(text).toContain('Call +44 20 7946 0123');
  await h.screenshot('help-qr-en');
  await h.tapText('Home');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});

it("Chinese: a courier's help shows the courier's carrier's line, or the locker's", async () => {
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await h.scan(await h.demo.mintCourierBadge('swiftpost', 'c-5'));
  await h.waitForScreen('menu');
  await h.tapText('帮助');
  await h.waitForScreen('help');
  await checkQrCodes(['https://help.swiftpost.example/locker?id=demo-locker-1']);
  let text = await h.visibleText();
  expect(text).toContain('请用手机扫描：');
  expect(text).toContain('SwiftPost');
  expect(text).not.toContain('+44 20 7946 0000');
  await h.screenshot('help-qr-courier-zh');
  await h.tapText('返回');
  await h.waitForScreen('menu');
  await h.tapText('退出登录');
  await h.waitForScreen('home');

  // ParcelGo has no line of its own: its courier is shown the locker's.
  await h.scan(await h.demo.mintCourierBadge('parcelgo', 'c-6'));
  await h.waitForScreen('menu');
  await h.tapText('帮助');
  await h.waitForScreen('help');
  await checkQrCodes(['tel:+442079460000']);
  text = await h.visibleText();
  expect(text).toContain('本快递柜');
  expect(text).not.toContain('SwiftPost');
  expect(h.pageErrors).toEqual([]);
});

it('draws only configured links: a line without one, or no line, is 404', async () => {
  for (const who of ['parcelgo', 'nobody', 'x'.repeat(300)]) {
    const res = await fetch(`${h.lockerd.url}/api/info/support-qr/${who}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  }
  // Drawn once and kept: the same bytes again.
  const first = await fetch(`${h.lockerd.url}/api/info/support-qr/locker`);
  expect(first.status).toBe(200);
  expect(first.headers.get('content-security-policy')).toContain("default-src 'self'");
  const a = await first.text();
  expect(drawnModules(a).dark).toEqual(expectedModules('tel:+442079460000').dark);
  const b = await (await fetch(`${h.lockerd.url}/api/info/support-qr/locker`)).text();
  expect(b).toBe(a);
});
