// The kiosk's screen router: one screen at a time, live events routed to it, idle timeout
// back to home, and the courier or operator session the screens act for.
import { call, get, post, listen } from './api.js';
import { language, loadLanguage, t, translate } from './i18n.js';
import { view, button, codeFromScan } from './ui.js';
import { consumerScreens, submitCode } from './consumer.js';
import { courierScreens } from './courier.js';
import { operatorScreens } from './operator.js';

const main = document.getElementById('screen');
const homeButton = document.getElementById('home-button');
const status = document.getElementById('status');
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
    current?.leave?.();
    app.nav += 1;
    const screen = screens[name](app, params);
    screen.name = name;
    screen.params = params;
    screen.el.dataset.screen = name;
    current = screen;
    main.replaceChildren(screen.el);
    homeButton.hidden = screen.homeButton === false || name === 'home';
    bumpIdle();
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
    document.title = t('app.title');
    if (current) app.go(current.name, current.params);
  },

  /** A scan on a screen that does not expect one: a code opens a pickup, anything else is a badge. */
  scanAnywhere(text) {
    const code = codeFromScan(text);
    if (code && !app.session) return submitCode(app, 'pickup', code);
    return badgeLogin(text);
  },
};

async function badgeLogin(badge) {
  app.go('busy', { title: 'courier.checking' });
  const nav = app.nav;
  let failure;
  try {
    const r = await post('/api/courier/login', { badge });
    app.session = { role: 'courier', token: r.token, who: r.courier, stored: 0 };
    return app.go('menu');
  } catch (e) {
    failure = e;
  }
  if (failure.status === 401 && failure.code !== 'BADGE_EXPIRED' && failure.code !== 'BADGE_REVOKED') {
    try {
      const r = await post('/api/operator/login', { badge });
      app.session = { role: 'operator', token: r.token, who: r.operator };
      return app.go('operator');
    } catch (e) {
      if (e.code === 'BADGE_EXPIRED' || e.code === 'BADGE_REVOKED') failure = e;
    }
  }
  if (app.nav === nav) app.go('login', { error: failure.code });
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
  return { el: v.el, onScan: app.scanAnywhere };
}

function busy(app, { title }) {
  const v = view('busy');
  if (title) v.r.title.textContent = t(title);
  return { el: v.el, homeButton: false };
}

const screens = { home, busy, ...consumerScreens, ...courierScreens, ...operatorScreens };

function bumpIdle() {
  clearTimeout(idleTimer);
  if (!current || (current.name === 'home' && language() === app.defaultLanguage && !app.session)) return;
  // An open door keeps its screen longer: the person is busy with the parcel, not the screen.
  const ms = app.info.screenIdleMs * (current.idle === 'door' ? 5 : 1);
  idleTimer = setTimeout(idleOut, ms);
}

async function idleOut() {
  if (app.session) app.logout();
  if (language() !== app.defaultLanguage) await app.setLanguage(app.defaultLanguage);
  app.go('home');
}

function onEvent(ev) {
  if (ev.type === 'scan') {
    bumpIdle();
    if (current?.onScan) current.onScan(String(ev.text));
    return;
  }
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
  translate(document.querySelector('header'));
  document.title = t('app.title');
  document.getElementById('locker-name').textContent = app.info.name ?? '';
  homeButton.onclick = () => (app.session?.role === 'courier' ? app.go('menu') : app.session ? app.go('operator') : app.go('home'));
  document.addEventListener('pointerdown', bumpIdle, { capture: true });
  document.addEventListener('keydown', (e) => {
    bumpIdle();
    if (current?.onKey && !e.ctrlKey && !e.altKey && !e.metaKey) current.onKey(e.key);
  });
  // Long presses on a touchscreen would open the browser's menu.
  document.addEventListener('contextmenu', (e) => e.preventDefault());
  listen('/api/events', onEvent, (connected) => {
    status.hidden = connected;
    // A restarted lockerd may serve a newer kiosk: load it, unless someone is mid-way.
    if (connected && health.bootId)
      get('/api/health')
        .catch((e) => e.body ?? {})
        .then((h) => {
          if (h.bootId && h.bootId !== health.bootId) reloadAtHome = true;
          if (reloadAtHome && current?.name === 'home') location.reload();
        });
  });
  app.go('home');
  document.body.dataset.ready = 'true';
  performance.mark('kiosk-home');
}

boot();
