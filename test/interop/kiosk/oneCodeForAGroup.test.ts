// Issue 11, flow 2 in real Chromium: the carrier groups parcels for one recipient (`group` in
// the reservation) and one typed code opens every door in turn: the map and "Parcel 1 of 3",
// then "Next door (2 of 3)" after each door closes (1 tap per extra door). In Chinese, a member
// whose door fails is named and the same code opens the other one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { type DepositJson, KioskHarness, until } from '../../support/kioskHarness.js';

const catalogue = (lang: string): Record<string, string> =>
  JSON.parse(readFileSync(join(packageRoot(), 'src', 'kiosk', 'public', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;
const zh = catalogue('zh-Hans');
const fill = (text: string | undefined, values: Record<string, string | number>): string =>
  (text ?? '').replace(/\{(\w+)\}/g, (_, k: string) => String(values[k] ?? ''));

let h: KioskHarness;
let taps = 0;
beforeAll(async () => {
  // An 8-digit code, as in tapsPerTask.test.ts: pickup <= 9 typed taps, plus 1 per extra door.
  h = await KioskHarness.start('oneCodeForAGroup', { overrides: { codes: { length: 8, burst: 10, refillPerHour: 6 } } });
});
afterAll(async () => {
  await h?.close();
});

const tap = async (selector: string): Promise<void> => {
  taps += 1;
  await h.tap(selector);
};

/** Announces the waybills as one group, then a courier stores each; returns the doors and the one code. */
async function storeGroup(group: string, waybills: string[]): Promise<{ doors: string[]; code: string }> {
  for (const waybill of waybills) await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', group });
  const token = await h.courierToken();
  const doors: string[] = [];
  const codes: string[] = [];
  for (const waybill of waybills) {
    const { deposit } = await h.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
    await h.waitForDoor(deposit.compartment.id, true);
    await h.sim(`compartments/${deposit.compartment.id}/put`);
    await h.sim(`compartments/${deposit.compartment.id}/close`);
    const stored = await h.waitForDeposit(token, deposit.id, 'stored');
    // The first member's code shows once it is recorded; the others have none of their own.
    if (doors.length === 0) await until(async () => (await h.deposit(token, deposit.id)).pickupCode !== undefined, 10_000, 'the group code');
    const code = (await h.deposit(token, deposit.id)).pickupCode;
    if (code) codes.push(code);
    doors.push(stored.compartment.id);
  }
  await h.api('POST', '/api/courier/logout', {}, token);
  expect(codes).toHaveLength(1);
  return { doors, code: codes[0] ?? '' };
}

async function takeAndClose(door: string): Promise<void> {
  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/take`);
  await h.sim(`compartments/${door}/close`);
  await h.waitForScreen('thanks');
}

it('one typed code opens three doors in turn, one tap per extra door', async () => {
  const g = await storeGroup('household-7', ['SP-GRP-1', 'SP-GRP-2', 'SP-GRP-3']);
  taps = 0;
  await tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  for (const d of g.code) await tap(`.keypad [data-key="${d}"]`);
  for (const [i, door] of g.doors.entries()) {
    await h.waitForScreen('door-open');
    expect(await h.text('.door-badge strong')).toBe(door);
    expect(await h.text('[data-ref="note"]')).toContain(`Parcel ${i + 1} of 3 for this code.`);
    expect(await h.text('.cabinet-map .cell.open')).toBe(door);
    expect(await h.visibleText()).not.toContain(g.code);
    if (i === 0) await h.screenshot('group-door-open');
    await takeAndClose(door);
    if (i < 2) {
      expect(await h.text('[data-ref="nextDoor"]')).toBe(`Next door (${i + 2} of 3)`);
      if (i === 0) await h.screenshot('group-next-door');
      await tap('[data-ref="nextDoor"]');
    }
  }
  // The last door: no "Next door", the usual thank-you.
  expect(await h.page.locator('[data-ref="nextDoor"]').count()).toBe(0);
  expect(taps).toBeLessThanOrEqual(9 + 2);
  console.log(`grouped pickup of 3 parcels: ${taps} taps (code length ${g.code.length})`);
  await h.tapText('Done');
  await h.waitForScreen('home');
  expect((await h.compartments()).filter((c) => g.doors.includes(c.id)).map((c) => c.state)).toEqual(['free', 'free', 'free']);
  expect(h.pageErrors).toEqual([]);
});

it('in Chinese, a member whose door fails is named and the same code opens the other', async () => {
  const g = await storeGroup('household-8', ['SP-GRP-4', 'SP-GRP-5']);
  const [jammed = '', other = ''] = g.doors;
  await h.sim(`compartments/${jammed}/jam`);
  await h.tap('.lang[lang="zh-Hans"]');
  await h.waitForLanguage('zh-Hans');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(g.code);
  await h.waitForScreen('door-failed', 20_000);
  expect(await h.text('h1')).toBe(fill(zh['jam.door'], { door: jammed }));
  await h.tapText(zh['common.tryAgain'] ?? '');
  await h.waitForScreen('door-open');
  expect(await h.text('.door-badge strong')).toBe(other);
  const note = await h.text('[data-ref="note"]');
  expect(note).toContain(fill(zh['group.progress'], { n: 1, total: 2 }));
  expect(note).toContain(fill(zh['group.skipped.out_of_service'], { door: jammed }));
  await h.screenshot('group-door-skipped-zh');
  await takeAndClose(other);
  expect(await h.page.locator('[data-ref="nextDoor"]').count()).toBe(0);
  await h.tapText(zh['common.done'] ?? '');
  await h.waitForScreen('home');
  expect(h.pageErrors).toEqual([]);
});
