// The kiosk's screen router: one screen at a time, live events routed to it, idle timeout
// back to home, and the courier or operator session the screens act for.
//
// Scans: the page never sees scanned text. It pairs once as the kiosk terminal and tells
// lockerd which screen it shows; lockerd reads each scan for that screen and sends the
// outcome (a door opened, a session, a waybill, a coded error) on the terminal's own stream.
import { call, get, post, listen, pair, terminalKey } from './api.js';
import { language, loadLanguage, t, translate } from './i18n.js';
import { view, button } from './ui.js';
import { consumerScreens, codeFailed } from './consumer.js';
import { courierScreens } from './courier.js';
import { operatorScreens } from './operator.js';
import { flowScreens } from './flows.js';

const main = document.getElementById('screen');
const homeButton = document.getElementById('home-button');
const status = document.getElementById('status');
const outOfService = document.getElementById('out-of-service');
const languageButton = document.getElementById('language-button');
const languageMenu = document.getElementById('language-menu');
const largeButton = document.getElementById('large-button');
const speechButton = document.getElementById('speech-button');

// Accessibility (issue 11, flow 6): large text with high contrast, and spoken prompts through
// the browser's speech synthesis where it has a voice for the language shown. Both reset on "Done".
const access = { large: false, speech: false };

function setLarge(on) {
  access.large = on;
  if (on) document.documentElement.dataset.large = 'true';
  else delete document.documentElement.dataset.large;
  largeButton.setAttribute('aria-pressed', String(on));
}

function setSpeech(on) {
  access.speech = on;
  speechButton.setAttribute('aria-pressed', String(on));
  if (!on) window.speechSynthesis?.cancel();
  else if (current) speakScreen(current.el);
}

/** A voice for the page's language, or none (then nothing is spoken). */
function voiceFor(lang) {
  const voices = window.speechSynthesis?.getVoices?.() ?? [];
  const base = lang.split('-')[0];
  return voices.find((v) => v.lang === lang) ?? voices.find((v) => v.lang.split(/[-_]/)[0] === base);
}

function speak(text) {
  const synth = window.speechSynthesis;
  if (!access.speech || !synth || !text || typeof SpeechSynthesisUtterance !== 'function') return;
  const voice = voiceFor(language());
  if (!voice) return;
  // Speech never stands in the way of a screen: an engine that throws is left silent.
  try {
    synth.cancel();
    const u = new SpeechSynthesisUtterance(text.slice(0, 300));
    u.lang = language();
    u.voice = voice;
    synth.speak(u);
  } catch {
    /* no speech */
  }
}

/** The screen's heading and its first instruction, as a person would read them first. */
function speakScreen(el) {
  const parts = [el.querySelector('h1')?.textContent, el.querySelector('.steps li, .lead')?.textContent].filter((x) => x && x.trim());
  speak(parts.join('. '));
}

// What /api/health says is wrong (issue 9): a lost bus or a store that refuses writes takes the
// whole locker out of service; a silent board only its compartments.
function showHealth(h) {
  const faults = Array.isArray(h?.faults) ? h.faults : [];
  if (h?.ok !== false || faults.length === 0) {
    outOfService.hidden = true;
    return;
  }
  const partly = faults.every((f) => f.code === 'BOARD_SILENT');
  const key = partly ? 'common.partlyOutOfService' : 'common.outOfService';
  // data-i18n: a change of language retranslates it with the rest of the header.
  outOfService.dataset.i18n = key;
  outOfService.textContent = t(key);
  outOfService.hidden = false;
}
let current = null;
let idleTimer = 0;
let reloadAtHome = false;

const app = {
  info: null,
  scanner: 'absent',
  defaultLanguage: 'en',
  /** Courier or operator session: { role, token, who }; null for consumers. */
  session: null,
  /** Bumped on every screen change, so a late reply can tell the person has moved on. */
  nav: 0,

  go(name, params = {}) {
    if (name === 'home' && reloadAtHome) return location.reload();
    closeLanguageMenu();
    current?.leave?.();
    app.nav += 1;
    const screen = screens[name](app, params);
    screen.name = name;
    screen.params = params;
    screen.el.dataset.screen = name;
    current = screen;
    main.replaceChildren(screen.el);
    if (access.speech) speakScreen(screen.el);
    homeButton.hidden = screen.homeButton === false || name === 'home';
    bumpIdle();
    reportScreen(screen);
  },

  /** Call with the session token; a session the server no longer accepts ends here. */
  async authed(method, path, body) {
    try {
      return await call(method, path, method === 'POST' ? (body ?? {}) : undefined, app.session?.token);
    } catch (e) {
      if (e.status === 401 && app.session) {
        app.session = null;
        app.go('home');
        e.handled = true;
      }
      throw e;
    }
  },

  async logout() {
    const s = app.session;
    app.session = null;
    if (s) post(`/api/${s.role}/logout`, {}, s.token).catch(() => {});
    app.go('home');
  },

  async setLanguage(code) {
    await loadLanguage(code);
    translate(document.querySelector('header'));
    translate(languageMenu);
    document.title = t('app.title');
    if (current) app.go(current.name, current.params);
  },

  /** "Done": back home in the locker's own language (issue 11, flow 6). */
  async done() {
    setLarge(false);
    setSpeech(false);
    if (language() !== app.defaultLanguage) await loadLanguage(app.defaultLanguage).then(() => translate(document.querySelector('header')));
    app.go('home');
  },
};

// The language choice, reachable from every screen through the header (issue 11, flow 6).
function openLanguageMenu() {
  const nav = languageMenu.querySelector('nav');
  nav.replaceChildren(
    ...app.info.languages.map((code) => {
      const b = button(
        t('languageName', null, code),
        () => {
          closeLanguageMenu();
          if (code !== language()) app.setLanguage(code);
        },
        'lang',
      );
      b.lang = code;
      b.setAttribute('aria-pressed', String(code === language()));
      return b;
    }),
  );
  languageMenu.hidden = false;
  languageButton.setAttribute('aria-expanded', 'true');
}

function closeLanguageMenu() {
  languageMenu.hidden = true;
  languageButton.setAttribute('aria-expanded', 'false');
}

// ---- the kiosk terminal: pairing and the screen lockerd reads scans for

const terminal = { key: null, paired: false, canPair: false, stop: null };
/** The screen the server should read scans for, and the last one it acknowledged. */
let wanted = null;
let acked = null;
let reporting = false;

function reportScreen(screen) {
  const mode = screen.scan ?? 'none';
  // A waybill (deposit) or a collected parcel's waybill (collect) is read for the courier's session.
  const token = mode === 'waybill' || mode === 'collect' ? app.session?.token : undefined;
  const parcel = mode === 'collect' ? screen.scanParcel : undefined;
  wanted = { key: `${mode}|${token ?? ''}|${parcel ?? ''}`, mode, token, parcel, el: screen.el };
  syncScreen();
}

/** A screen whose scan meaning changed while it shows (the collection list confirming a parcel). */
app.rescan = (screen) => {
  if (screen === current) reportScreen(screen);
};

function syncScreen() {
  if (reporting || !wanted) return;
  const w = wanted;
  if (!terminal.paired || w.key === acked) {
    w.el.dataset.synced = 'true';
    if (terminal.paired) w.el.dataset.scanMode = w.mode;
    return;
  }
  reporting = true;
  call('POST', '/api/kiosk/screen', w.parcel ? { screen: w.mode, parcel: w.parcel } : { screen: w.mode }, w.token)
    .then(
      () => {
        acked = w.key;
        if (wanted === w) w.el.dataset.scanMode = w.mode;
      },
      (e) => {
        acked = null;
        if (e.code === 'TERMINAL_NOT_PAIRED') repair();
      },
    )
    .finally(() => {
      reporting = false;
      if (wanted === w) w.el.dataset.synced = 'true';
      else syncScreen();
    });
}

let openStream = () => {};

async function repair() {
  if (!terminal.canPair) return;
  terminal.paired = false;
  if (await pair(terminal.key)) openStream();
}

/** What a scan did, for the screen that was showing (the server reads the next scan as 'none'). */
function onScanResult(ev) {
  acked = null;
  if (current) delete current.el.dataset.scanMode;
  bumpIdle();
  if (ev.action === 'confirm') {
    current?.onConfirm?.(ev);
    return syncScreen();
  }
  if (ev.action === 'waybill') {
    if (ev.state === 'ok') current?.onWaybill?.(String(ev.waybill));
    // Still on the same screen (a scan that is no waybill): the server reads the next one for it again.
    return syncScreen();
  }
  if (ev.state === 'busy') return app.go('busy', ev.action === 'login' ? { title: 'courier.checking' } : {});
  const error = ev.error ?? {};
  if (ev.action === 'login') {
    if (ev.state !== 'ok') return app.go('login', { error: error.code });
    app.session = ev.role === 'courier' ? { role: 'courier', token: ev.token, who: ev.courier, stored: 0 } : { role: 'operator', token: ev.token, who: ev.operator };
    return app.go(ev.role === 'courier' ? 'menu' : 'operator');
  }
  const mode = ev.action === 'dropoff' ? 'dropoff' : 'pickup';
  if (ev.state === 'ok') return app.go('door-open', { mode, opened: ev.opened });
  return codeFailed(app, mode, null, { code: error.code, context: error.context ?? {} });
}

function home(app) {
  const v = view('home');
  v.r.collect.onclick = () => app.go('code', { mode: 'pickup' });
  v.r.send.onclick = () => app.go('code', { mode: 'dropoff' });
  v.r.courier.onclick = () => app.go('login');
  for (const code of app.info.languages) {
    const b = button(t('languageName', null, code), () => app.setLanguage(code), 'lang');
    b.lang = code;
    b.setAttribute('aria-pressed', String(code === language()));
    v.r.languages.append(b);
  }
  return { el: v.el, scan: 'home' };
}

function busy(app, { title }) {
  const v = view('busy');
  if (title) v.r.title.textContent = t(title);
  return { el: v.el, homeButton: false };
}

const screens = { home, busy, ...consumerScreens, ...courierScreens, ...operatorScreens, ...flowScreens };

/** Every screen's name: the screenshot gallery checks it has pictures of each (docs/kiosk.md). */
export const screenNames = Object.freeze(Object.keys(screens));

function bumpIdle() {
  clearTimeout(idleTimer);
  if (!current || (current.name === 'home' && language() === app.defaultLanguage && !app.session)) return;
  // An open door keeps its screen longer: the person is busy with the parcel, not the screen.
  const ms = app.info.screenIdleMs * (current.idle === 'door' ? 5 : 1);
  idleTimer = window.setTimeout(idleOut, ms);
}

async function idleOut() {
  setLarge(false);
  setSpeech(false);
  if (app.session) app.logout();
  if (language() !== app.defaultLanguage) await app.setLanguage(app.defaultLanguage);
  app.go('home');
}

/** @param {import('../clientTypes.js').KioskEvent} ev */

function onEvent(ev) {
  if (ev.type === 'terminal') {
    if (ev.paired) {
      terminal.paired = true;
      // A restarted lockerd has forgotten the screen: tell it again.
      acked = null;
      syncScreen();
    } else if (terminal.paired || terminal.canPair) repair();
    return;
  }
  if (ev.type === 'scan-result') return onScanResult(ev);
  if (ev.type === 'scanner') {
    app.scanner = ev.connected ? 'connected' : 'disconnected';
    current?.onScanner?.();
  }
  current?.onEvent?.(ev);
}

async function boot() {
  for (;;) {
    try {
      app.info = await get('/api/info');
      break;
    } catch {
      status.hidden = false;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  const languages = app.info.languages?.length ? app.info.languages : ['en'];
  app.info.languages = languages;
  app.defaultLanguage = languages[0];
  // A degraded lockerd answers /api/health with 503 and the same body.
  const [, health] = await Promise.all([Promise.all(languages.map(loadLanguage)), get('/api/health').catch((e) => e.body ?? {})]);
  await loadLanguage(app.defaultLanguage);
  app.scanner = health.scanner ?? 'absent';
  showHealth(health);
  // Faults come and go without a page load: ask again every 15 s (one small request).
  setInterval(() => {
    get('/api/health')
      .catch((e) => e.body ?? {})
      .then(showHealth);
  }, 15_000);
  translate(document.querySelector('header'));
  document.title = t('app.title');
  document.getElementById('locker-name').textContent = app.info.name ?? '';
  homeButton.onclick = () => {
    if (current?.confirmHome && !current.confirmHome()) return;
    return app.session?.role === 'courier' ? app.go('menu') : app.session ? app.go('operator') : app.go('home');
  };
  largeButton.onclick = () => setLarge(!access.large);
  speechButton.onclick = () => setSpeech(!access.speech);
  languageButton.onclick = () => (languageMenu.hidden ? openLanguageMenu() : closeLanguageMenu());
  languageMenu.onclick = (e) => e.target === languageMenu && closeLanguageMenu();
  document.addEventListener('pointerdown', bumpIdle, { capture: true });
  document.addEventListener('keydown', (e) => {
    bumpIdle();
    if (current?.onKey && !e.ctrlKey && !e.altKey && !e.metaKey) current.onKey(e.key);
  });
  // Long presses on a touchscreen would open the browser's menu.
  document.addEventListener('contextmenu', (e) => e.preventDefault());
  terminal.key = terminalKey();
  // Demo mode (--sim) pairs without a key; a real locker only with the launcher's key.
  terminal.canPair = Boolean(terminal.key) || app.info.sim === true;
  if (terminal.canPair) terminal.paired = await pair(terminal.key);
  openStream = () => {
    terminal.stop?.();
    terminal.stop = listen('/api/events', onEvent, onConnection);
  };
  const onConnection = (connected) => {
    status.hidden = connected;
    // A restarted lockerd may serve a newer kiosk: load it, unless someone is mid-way.
    if (connected && health.bootId)
      get('/api/health')
        .catch((e) => e.body ?? {})
        .then((h) => {
          showHealth(h);
          if (h.bootId && h.bootId !== health.bootId) reloadAtHome = true;
          if (reloadAtHome && current?.name === 'home') location.reload();
        });
  };
  openStream();
  // The kiosk watchdog's heartbeat: sent only while this page's JavaScript runs, so a hung or
  // crashed tab goes silent and lockerd restarts the browser (docs/operations.md).
  setInterval(() => {
    if (terminal.paired) post('/api/kiosk/heartbeat', {}).catch((e) => e.code === 'TERMINAL_NOT_PAIRED' && repair());
  }, app.info.heartbeatMs ?? 5000);
  app.go('home');
  document.body.dataset.ready = 'true';
  performance.mark('kiosk-home');
}

boot();
