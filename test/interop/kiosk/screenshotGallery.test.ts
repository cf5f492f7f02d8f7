// The screenshot gallery of docs/kiosk.md: every kiosk screen, and the states of a screen a
// person meets (the language menu, large text, each kind of refused code, the map, "Next door",
// the drop-off's bigger door, service mode's details, settle, clear stuck and the door test
// report), in English and Chinese, landscape (1280x800) and portrait (800x1280), written to
// docs/img/kiosk/<picture>-<language>-<orientation>.png.
//
// One walk through the flows of the demo locker as shipped (its own 8-digit codes; only the
// board and door timings are shortened, so doors open and a jam is named quickly). At each picture the language is
// switched through the header menu (the screen redraws in place), a state the redraw clears
// is set up again, and the viewport turned. The test fails when a screen the kiosk defines
// (app.js `screenNames`) has no picture, so a new screen needs its place in the gallery.
// Bounded: one pass, waits on events, never on time.
import Database from 'better-sqlite3';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { databasePathOf } from '../../../src/store/databaseIdentity.js';
import { KioskHarness, until, type DepositJson } from '../../support/kioskHarness.js';
import { fastDemoHardware } from '../../support/lockerHarness.js';

const outDir = join(packageRoot(), 'docs', 'img', 'kiosk');
const languages = ['en', 'zh-Hans'] as const;
const orientations = [
  { name: 'landscape', width: 1280, height: 800 },
  { name: 'portrait', width: 800, height: 1280 },
] as const;

/** Picture name -> the data-screen it showed. */
const pictures = new Map<string, string>();

let h: KioskHarness;
beforeAll(async () => {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  // The demo as shipped, with quick boards and doors: pictures of doors, not of waiting for them.
  h = await KioskHarness.start('screenshotGallery', { overrides: { hardware: fastDemoHardware(), doors: { openTimeoutMs: 800, jamRetries: 0 } } });
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

interface ShotOptions {
  /** The data-screen shown (default: the picture's name). */
  screen?: string;
  /** Sets up, after each language switch, what the redraw cleared (a dialog, a selection). */
  prepare?: () => Promise<void>;
  /** Undoes prepare before the next language (a door closed, large text off). */
  after?: () => Promise<void>;
}

/** Saves the screen in both languages and both orientations, ending in English landscape. */
async function shots(name: string, o: ShotOptions = {}): Promise<void> {
  const screen = o.screen ?? name;
  for (const lang of languages) {
    await setLanguage(lang);
    await h.waitForScreen(screen);
    await o.prepare?.();
    for (const orientation of orientations) {
      // A screenshot takes a fresh frame, laid out for the new viewport.
      await h.page.setViewportSize({ width: orientation.width, height: orientation.height });
      await h.page.screenshot({ path: join(outDir, `${name}-${lang}-${orientation.name}.png`) });
    }
    pictures.set(name, (await h.currentScreen()) ?? '');
    await o.after?.();
  }
  await h.page.setViewportSize({ width: 1280, height: 800 });
  await setLanguage('en');
  await h.waitForScreen(screen);
}

async function typeCode(choice: 'collect' | 'send', code: string, screen: string): Promise<void> {
  await h.tap(`[data-ref="${choice}"]`);
  await h.waitForScreen('code');
  await h.typeOnKeypad(code);
  await h.waitForScreen(screen, 20_000);
}

async function home(label = 'Home'): Promise<void> {
  await h.tapText(label);
  await h.waitForScreen('home');
}

async function takeAndClose(door: string): Promise<void> {
  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/take`);
  await h.sim(`compartments/${door}/close`);
}

async function putAndClose(door: string): Promise<void> {
  await h.waitForDoor(door, true);
  await h.sim(`compartments/${door}/put`);
  await h.sim(`compartments/${door}/close`);
}

/** Parcels announced as one group and stored by a courier; the group's one code. */
async function storeGroup(group: string, waybills: string[]): Promise<string> {
  for (const waybill of waybills) await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill, size: 'S', group });
  const token = await h.courierToken('swiftpost', 'c-group');
  let code: string | undefined;
  for (const waybill of waybills) {
    const { deposit } = await h.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
    await putAndClose(deposit.compartment.id);
    await h.waitForDeposit(token, deposit.id, 'stored');
    if (code === undefined) await until(async () => (code = (await h.deposit(token, deposit.id)).pickupCode) !== undefined, 10_000, 'the group code');
  }
  await h.api('POST', '/api/courier/logout', {}, token);
  return code ?? '';
}

const doorShown = async (): Promise<string> => h.text('.door-badge strong');

it('writes every screen in both languages and orientations', { timeout: 240_000 }, async () => {
  const started = Date.now();
  const parcel = await h.storeParcel('SP-GAL-0001', 'M');
  const jammed = await h.storeParcel('SP-GAL-0002', 'S');
  const groupCode = await storeGroup('gal-group', ['SP-GAL-G1', 'SP-GAL-G2']);
  // Expires a few seconds from now, while the walk goes on: "expired" and the collection list.
  await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill: 'SP-GAL-EXP', size: 'S', dwellHours: 0.001 });
  const late = await h.storeParcel('SP-GAL-EXP', 'S');

  // ---- home, the language menu, large text
  await shots('home');
  await shots('language-menu', {
    screen: 'home',
    prepare: async () => {
      await h.tap('#language-button');
      await h.page.locator('#language-menu:not([hidden])').waitFor();
    },
    after: async () => {
      // The language already chosen closes the menu and changes nothing.
      await h.tap(`#language-menu .lang[lang="${(await h.attributes('html', 'lang'))[0] ?? 'en'}"]`);
      await h.page.locator('#language-menu').waitFor({ state: 'hidden' });
    },
  });

  // ---- the pickup keypad, help, extending the pickup time
  await h.tap('[data-ref="collect"]');
  await shots('code');
  const headingPx = async (): Promise<number> => Number.parseFloat(await h.page.evaluate<string>("getComputedStyle(document.querySelector('#screen h1')).fontSize"));
  await shots('large-text', {
    screen: 'code',
    prepare: async () => {
      // Large text is larger than the screen-scaled normal text, on this screen size too.
      const normal = await headingPx();
      await h.tap('#large-button');
      expect(await headingPx()).toBeGreaterThanOrEqual(normal * 1.2);
    },
    after: () => h.tap('#large-button'),
  });
  await h.tapText('Help');
  await shots('help');
  await home();
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.tapText('Extend pickup time');
  await shots('code-extend', { screen: 'code' });
  await h.typeOnKeypad(parcel.code);
  await shots('extended', { screen: 'extended' });
  await home('Done');
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.tapText('Extend pickup time');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await shots('extend-refused');
  await home();

  // ---- a pickup: opening the door, the door and map, "Home" with the door open, thanks, a report
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  await h.page.route((url) => url.pathname === '/api/pickup', async (route) => {
    await held;
    await route.continue();
  });
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.typeOnKeypad(parcel.code);
  await shots('busy');
  release();
  await h.page.unroute((url) => url.pathname === '/api/pickup');
  await h.waitForScreen('door-open');
  await h.waitForDoor(parcel.compartment, true);
  await shots('door-open');
  await shots('door-open-leave', {
    screen: 'door-open',
    prepare: async () => {
      await h.tap('#home-button');
      await h.page.locator('[data-ref="confirm"]').waitFor();
    },
  });
  await takeAndClose(parcel.compartment);
  await h.waitForScreen('thanks');
  await shots('thanks');
  await h.tapText('Report a problem');
  await shots('report');
  await h.tapText('The parcel is damaged');
  await shots('reported');
  await home('Done');

  // ---- one code for a group: the first door, then "Next door"
  await typeCode('collect', groupCode, 'door-open');
  const firstOfGroup = await doorShown();
  await h.waitForDoor(firstOfGroup, true);
  await shots('group-door-open', { screen: 'door-open' });
  await takeAndClose(firstOfGroup);
  await h.waitForScreen('thanks');
  await h.page.locator('[data-ref="nextDoor"]').waitFor();
  await shots('group-next-door', { screen: 'thanks' });
  await home('Done');

  // ---- the door did not open
  await h.sim(`compartments/${jammed.compartment}/jam`);
  await typeCode('collect', jammed.code, 'door-failed');
  await shots('door-failed');
  await h.sim(`compartments/${jammed.compartment}/unjam`);
  await home();

  // ---- drop-off: the keypad, the door, "does not fit" and the bigger door, thanks
  const reserve = async (waybill: string, size: string): Promise<string> =>
    (await h.api<{ code?: string }>('POST', '/sim/carriers/swiftpost/reservations', { waybill, size, kind: 'dropoff' })).code ?? '';
  const drop1 = await reserve('SP-GAL-RET1', 'S');
  const drop2 = await reserve('SP-GAL-RET2', 'XS');
  await h.tap('[data-ref="send"]');
  await shots('code-dropoff', { screen: 'code' });
  await h.typeOnKeypad(drop1);
  await h.waitForScreen('door-open');
  const dropDoor = await doorShown();
  await h.waitForDoor(dropDoor, true);
  await shots('dropoff-door', { screen: 'door-open' });
  await putAndClose(dropDoor);
  await h.waitForScreen('thanks');
  await shots('thanks-dropoff', { screen: 'thanks' });
  await home('Done');
  await typeCode('send', drop2, 'door-open');
  const smallDoor = await doorShown();
  await h.waitForDoor(smallDoor, true);
  await h.tapText('Does not fit');
  await until(async () => (await doorShown()) !== smallDoor, 10_000, 'the bigger door');
  const biggerDoor = await doorShown();
  await h.waitForDoor(biggerDoor, true);
  await shots('dropoff-bigger-door', { screen: 'door-open' });
  await h.sim(`compartments/${smallDoor}/close`);
  await putAndClose(biggerDoor);
  await h.waitForScreen('thanks');
  await home('Done');

  // ---- refused codes, each in its own words, then the lockout
  await typeCode('collect', '13572468', 'wrong-code');
  await shots('wrong-code');
  await home();
  await typeCode('send', groupCode, 'wrong-code');
  await shots('wrong-code-pickup-code', { screen: 'wrong-code' });
  await home();
  await typeCode('collect', await reserve('SP-GAL-RET3', 'S'), 'wrong-code');
  await shots('wrong-code-dropoff-code', { screen: 'wrong-code' });
  await home();
  await typeCode('collect', parcel.code, 'wrong-code');
  await shots('wrong-code-collected', { screen: 'wrong-code' });
  await home();
  await h.api('POST', '/sim/carriers/swiftpost/reservations', { waybill: 'SP-GAL-LATER', size: 'S', code: '24680135' });
  await typeCode('collect', '24680135', 'wrong-code');
  await shots('wrong-code-not-delivered', { screen: 'wrong-code' });
  await home();
  await h.tap('[data-ref="collect"]');
  await h.waitForScreen('code');
  await h.scan('LK2:AAAAAAAAAAAAAAAAAAAAAA');
  await shots('wrong-code-unknown-qr', { screen: 'wrong-code' });
  await home();
  const courier = await h.courierToken('swiftpost', 'c-gal');
  await until(async () => (await h.api<{ items: unknown[] }>('GET', '/api/courier/collections', undefined, courier)).items.length >= 3, 30_000, 'the parcel to expire');
  await typeCode('collect', late.code, 'wrong-code');
  await shots('expired', { screen: 'wrong-code' });
  await home();
  await h.page.route((url) => url.pathname === '/api/pickup', (route) => route.abort('connectionrefused'));
  await typeCode('collect', '11223344', 'error');
  await shots('error-offline', { screen: 'error' });
  await h.page.unroute((url) => url.pathname === '/api/pickup');
  await home();
  // A coded error from lockerd: an XL drop-off while both XL doors are out of service.
  const opToken = (await h.api<{ token: string }>('POST', '/api/operator/login', { badge: await h.demo.mintOperatorBadge('ops-2') })).token;
  const service = async (id: string, inService: boolean): Promise<void> => {
    await h.api('POST', `/api/operator/compartments/${id}/service`, { inService, reason: 'repair' }, opToken);
  };
  const xl = (await h.compartments()).filter((c) => c.size === 'XL').map((c) => c.id);
  for (const id of xl) await service(id, false);
  await typeCode('send', await reserve('SP-GAL-RET4', 'XL'), 'error');
  await h.page.locator('#screen > [data-code="NO_COMPARTMENT_FREE"]').waitFor();
  await shots('error', { screen: 'error' });
  for (const id of xl) await service(id, true);
  await home();
  // Empty the keypad budget (as a prankster would), then the next person opens the keypad.
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`${h.lockerd.url}/api/pickup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: `9${String(i).padStart(7, '0')}` }) });
    if (r.status === 429) break;
  }
  await h.tap('[data-ref="collect"]');
  await shots('locked-out');
  await home();

  // ---- courier: login, menu, a deposit, "does not fit", stored, the collection list and "Open all"
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
  const depositDoor = await doorShown();
  await h.waitForDoor(depositDoor, true);
  await shots('deposit-door');
  await putAndClose(depositDoor);
  await h.waitForScreen('stored');
  await shots('stored');
  await h.tapText('Next parcel');
  await h.waitForScreen('waybill');
  await h.scan('SP-GAL-0004');
  await h.waitForScreen('size');
  await h.tap('[data-size="XS"]');
  await h.waitForScreen('deposit-door');
  const tooSmall = await doorShown();
  await h.waitForDoor(tooSmall, true);
  await h.tapText('Does not fit');
  await shots('size-larger', { screen: 'size' });
  await h.tap('[data-size="M"]');
  await h.waitForScreen('deposit-door');
  const larger = await doorShown();
  await h.waitForDoor(larger, true);
  await shots('deposit-door-bigger', { screen: 'deposit-door' });
  // The new door closed first: "Stored" reminds to close the old one.
  await putAndClose(larger);
  await h.waitForScreen('stored');
  await h.page.locator('[data-ref="reminder"]').waitFor();
  await shots('stored-close-old', { screen: 'stored' });
  await h.sim(`compartments/${tooSmall}/close`);
  await h.tapText('Finish');
  await h.waitForScreen('menu');
  await h.tap('[data-ref="collect"]');
  await h.page.locator('[data-ref="openAll"]:not([hidden])').waitFor();
  await shots('collections');
  let opened = '';
  // Each parcel taken back is confirmed by its waybill (flow 7): the waybill of every collectable door.
  const collectable = (await h.api<{ items: { waybill: string; compartment: { id: string } }[] }>('GET', '/api/courier/collections', undefined, courier)).items;
  const waybillIn = (door: string): string => collectable.find((c) => c.compartment.id === door)?.waybill ?? '';
  await shots('collections-open-all', {
    screen: 'collections',
    prepare: async () => {
      await h.page.locator('[data-ref="openAll"]:not([hidden])').waitFor();
      await h.tap('[data-ref="openAll"]');
      await h.page.locator('[data-ref="map"]:not([hidden]) .cell.open').waitFor();
      opened = (await h.attributes('[data-ref="map"] .cell.open', 'data-compartment'))[0] ?? '';
      await h.waitForDoor(opened, true);
      await h.page.locator('[data-ref="confirm"]:not([hidden])').waitFor();
    },
    after: async () => {
      await h.scan(waybillIn(opened));
      await h.page.locator('[data-ref="confirm"]').waitFor({ state: 'hidden' });
      await takeAndClose(opened);
      await h.page.locator('[data-ref="map"]').waitFor({ state: 'hidden' });
    },
  });
  await h.tapText('Back');
  await h.waitForScreen('menu');
  await h.tapText('Log out');
  await h.waitForScreen('home');

  // ---- service mode: the grid, a compartment's details, settle an inspection, clear a stuck state, the door test
  const { deposit: inspect } = await h.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill: 'SP-GAL-INS', size: 'XS' }, courier);
  await h.waitForDoor(inspect.compartment.id, true);
  await h.sim(`compartments/${inspect.compartment.id}/put`);
  await h.api('POST', `/api/courier/deposits/${inspect.id}/cancel`, {}, courier);
  await h.sim(`compartments/${inspect.compartment.id}/close`);
  await h.waitForDeposit(courier, inspect.id, 'cancelled');
  const stuck = (await h.compartments()).find((c) => c.state === 'free' && c.door === 'closed')?.id ?? '';
  const db = new Database(databasePathOf(h.demo.config.dataDir));
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare("INSERT INTO door_sessions (id, compartment_id, purpose, state, actor, context, started_at) VALUES (?, ?, 'pickup', 'in_flight', 'consumer', '{}', ?)").run('01GALLERYSTUCKSESSION00000', stuck, Date.now());
  } finally {
    db.close();
  }

  await h.scan(await h.demo.mintOperatorBadge('ops-1'));
  await h.waitForScreen('operator');
  await h.page.waitForSelector('.tile');
  await shots('operator');
  const select = (id: string, ready: string) => async (): Promise<void> => {
    await h.page.waitForSelector(`.tile[data-compartment="${id}"]`);
    await h.tap(`.tile[data-compartment="${id}"]`);
    await h.page.locator(ready).first().waitFor();
  };
  await shots('operator-details', { screen: 'operator', prepare: select(jammed.compartment, '[data-ref="details"] .door-event') });
  await shots('operator-settle', { screen: 'operator', prepare: select(inspect.compartment.id, '[data-ref="settle"]:not([hidden]) .settle-info') });
  await shots('operator-clear-stuck', { screen: 'operator', prepare: select(stuck, '[data-ref="clearStuck"]') });
  await select(stuck, '[data-ref="clearStuck"]')();
  await h.tap('[data-ref="clearStuck"]');
  await h.page.locator('[data-ref="message"][data-kind="ok"]').waitFor();

  // The door test opens every free door: leave two free (the rest out of service, as for repair)
  // so the report shows each kind of row: opened, not tested and why.
  const free = (await h.compartments()).filter((c) => c.state === 'free' && c.id !== stuck);
  for (const c of free.slice(2)) await service(c.id, false);
  const closer = setInterval(() => {
    void h.attributes('.tile[data-door="open"]', 'data-compartment').then(async (open) => {
      for (const id of open) if (id) await h.sim(`compartments/${id}/close`).catch(() => undefined);
    }, () => undefined);
  }, 200);
  try {
    await shots('operator-test-report', {
      screen: 'operator',
      prepare: async () => {
        await h.page.waitForSelector('.tile');
        await h.tap('[data-ref="test"]');
        await h.page.locator('[data-ref="report"]').waitFor({ timeout: 60_000 });
        await h.page.waitForSelector('.tile[data-door="open"]', { state: 'detached' });
      },
    });
  } finally {
    clearInterval(closer);
  }
  await h.tapText('Log out');
  await h.waitForScreen('home');

  // Every screen the kiosk defines has its pictures (a new screen fails here until it has).
  const defined = (await h.page.evaluate('import("/app.js").then((m) => [...m.screenNames])')) as string[];
  expect(defined.length).toBeGreaterThan(10);
  const shown = new Set(pictures.values());
  expect(defined.filter((s) => !shown.has(s)), 'screens with no picture in the gallery').toEqual([]);
  // Every picture was written in both languages and both orientations, and nothing else is there.
  const expected = [...pictures.keys()].flatMap((p) => languages.flatMap((l) => orientations.map((o) => `${p}-${l}-${o.name}.png`)));
  expect((await readdir(outDir)).sort()).toEqual(expected.sort());
  console.log(`gallery: ${pictures.size} pictures, ${expected.length} files, ${Math.round((Date.now() - started) / 1000)} s (load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
  expect(h.pageErrors).toEqual([]);
});
