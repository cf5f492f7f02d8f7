// Issue 11, flows 2 and 5 together in real Chromium: a group's one code extends the pickup time
// of all of its parcels at the kiosk ("All 2 of your parcels have 48 more hours"), with the
// door shut; the second time, in Simplified Chinese, the screen says these parcels were already
// extended and nothing changed. A group whose carrier offers no extension is told so, in both
// languages.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { type DepositJson, KioskHarness, until } from '../../support/kioskHarness.js';

const catalogue = (lang: string): Record<string, string> =>
  JSON.parse(readFileSync(join(packageRoot(), 'src', 'kiosk', 'public', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;
const zh = catalogue('zh-Hans');

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('extendAGroupsPickup');
});
afterAll(async () => {
  await h?.close();
});

/** Announces the waybills as one group of `carrier`, a courier stores each; returns the doors and the one code. */
async function storeGroup(carrier: string, group: string, waybills: string[]): Promise<{ doors: string[]; code: string }> {
  for (const waybill of waybills) await h.api('POST', `/sim/carriers/${carrier}/reservations`, { waybill, size: 'S', group });
  const token = await h.courierToken(carrier);
  const doors: string[] = [];
  let code = '';
  for (const waybill of waybills) {
    const { deposit } = await h.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
    await h.waitForDoor(deposit.compartment.id, true);
    await h.sim(`compartments/${deposit.compartment.id}/put`);
    await h.sim(`compartments/${deposit.compartment.id}/close`);
    await h.waitForDeposit(token, deposit.id, 'stored');
    if (!code) {
      await until(async () => (await h.deposit(token, deposit.id)).pickupCode !== undefined, 10_000, 'the group code');
      code = (await h.deposit(token, deposit.id)).pickupCode ?? '';
    }
    doors.push(deposit.compartment.id);
  }
  await h.api('POST', '/api/courier/logout', {}, token);
  return { doors, code };
}

async function extendWith(code: string, extendLabel: string): Promise<void> {
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.tapText(extendLabel);
  await h.waitForScreen('code');
  await h.typeOnKeypad(code);
}

it("extends every parcel of a group with its one code in English, and refuses the second time in Chinese", async () => {
  const g = await storeGroup('swiftpost', 'rcpt-kiosk', ['SP-GEXT-K1', 'SP-GEXT-K2']);
  await extendWith(g.code, 'Extend pickup time');
  await h.waitForScreen('extended');
  expect(await h.visibleText()).toContain('All 2 of your parcels have 48 more hours. Collect them by:');
  expect(await h.visibleText()).not.toContain(g.code);
  await h.screenshot('group-extended-en');
  for (const d of g.doors) expect((await h.simLock(d)).doorOpen).toBe(false);
  await h.tapText('Done');
  await h.waitForScreen('home');

  await h.tapText('简体中文');
  await h.waitForLanguage('zh-Hans');
  await extendWith(g.code, zh['extend.button'] ?? '');
  await h.waitForScreen('extend-refused');
  expect(await h.visibleText()).toContain(zh['extend.usedGroup']);
  await h.screenshot('group-extend-refused-zh');
  await h.tapText(zh['common.home'] ?? '');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});

it('says in both languages when the carrier of a group offers no longer pickup time', async () => {
  const g = await storeGroup('parcelgo', 'rcpt-none', ['PG-GEXT-K1', 'PG-GEXT-K2']);
  await h.reload();
  await extendWith(g.code, 'Extend pickup time');
  await h.waitForScreen('extend-refused');
  expect(await h.visibleText()).toContain('The carrier of these parcels does not offer a longer pickup time.');
  await h.tapText('Home');
  await h.waitForScreen('home');
  await h.tapText('简体中文');
  await h.waitForLanguage('zh-Hans');
  await extendWith(g.code, zh['extend.button'] ?? '');
  await h.waitForScreen('extend-refused');
  expect(await h.visibleText()).toContain(zh['extend.notOfferedGroup']);
  await h.screenshot('group-extend-not-offered-zh');
  expect(h.pageErrors).toEqual([]);
});
