// Consumer screens: pickup and drop-off by code (keypad or scanner), the open door, and
// every way it can end: thank you, wrong code, locked out, door did not open.
import { get, post } from './api.js';
import { t } from './i18n.js';
import { view, keypad, button, formatClock, errorText } from './ui.js';
import { showMap, soundCue } from './map.js';
import { contactCard, contactFor, dropoffExtras, pickupExtras, reportAction, submitExtend } from './flows.js';
import { dropoffActions } from './dropoffDoor.js';

const endpoint = { pickup: '/api/pickup', dropoff: '/api/dropoff' };

export async function submitCode(app, mode, code) {
  app.go('busy');
  const nav = app.nav;
  try {
    const opened = await post(endpoint[mode], mode === 'dropoff' && app.lowAsked ? { code, accessible: true } : { code });
    // The door is physically open: show it even if the screen moved on meanwhile.
    app.go('door-open', { mode, opened, code });
  } catch (e) {
    if (app.nav === nav) await codeFailed(app, mode, code, e);
  }
}

/** A code that opened nothing; code is null when it was scanned (the page never sees it). */
export async function codeFailed(app, mode, code, e) {
  // What the server knows about a code it refused (issue 11, defect 2) gets its own words.
  const reason = reasons[e.context?.reason];
  if (e.code === 'CODE_UNKNOWN' && reason) return app.go('wrong-code', { mode, reason, left: e.context.failuresLeft });
  switch (e.code) {
    case 'CODE_LOCKED_OUT':
      return app.go('locked-out', { mode, ms: e.context.retryAfterMs ?? 60_000 });
    case 'LATCH_JAMMED':
    case 'BOARD_SILENT':
      return app.go('door-failed', {
        mode,
        code,
        door: typeof e.context?.compartment === 'string' ? e.context.compartment : undefined,
        carrier: typeof e.context?.carrier === 'string' ? e.context.carrier : undefined,
      });
    case 'CODE_EXPIRED':
      return app.go('wrong-code', { mode, expired: true });
    case 'CODE_UNKNOWN':
    case 'CODE_MALFORMED':
    case 'RESERVATION_UNKNOWN':
    case 'NOT_FOUND':
    case 'INPUT_INVALID': {
      if (typeof e.context.failuresLeft === 'number') return app.go('wrong-code', { mode, left: e.context.failuresLeft });
      const nav = app.nav;
      const lock = await get('/api/lockout').catch(() => null);
      if (app.nav !== nav) return;
      if (lock?.lockedOut) return app.go('locked-out', { mode, ms: lock.retryAfterMs });
      return app.go('wrong-code', { mode, left: lock?.failuresLeft });
    }
    default:
      return app.go('error', { mode, code: e.code });
  }
}

/** context.reason of a refused code (src/domain/locker.ts, codeVault.ts) -> catalogue prefix. */
const reasons = {
  pickup_code: 'pickupCode',
  pickup_token: 'pickupCode',
  dropoff_code: 'dropoffCode',
  already_collected: 'collected',
  not_delivered: 'notDelivered',
  token_unknown: 'tokenUnknown',
};

function codeScreen(app, { mode }) {
  const v = view('code');
  const len = app.info.codeLength;
  v.r.title.textContent = t(`${mode}.title`);
  const boxes = [];
  for (let i = 0; i < len; i++) boxes.push(v.r.boxes.appendChild(document.createElement('span')));
  const render = (value) =>
    boxes.forEach((b, i) => {
      b.textContent = value[i] ?? '';
      b.className = i < value.length ? 'box filled' : i === value.length ? 'box next' : 'box';
    });
  const pad = keypad(v.r.pad, {
    max: len,
    onChange(value) {
      render(value);
      if (value.length < len) return;
      if (mode === 'extend') submitExtend(app, value);
      else submitCode(app, mode, value);
    },
  });
  render('');
  const scanHint = () => {
    v.r.scanHint.textContent = app.scanner === 'connected' ? t(`${mode}.scanHint`) : '';
  };
  scanHint();
  v.r.back.onclick = () => app.go('home');
  if (mode === 'pickup') v.r.back.after(...pickupExtras(app));
  if (mode === 'dropoff') v.r.back.after(...dropoffExtras(app));
  const nav = app.nav;
  get('/api/lockout')
    .then((l) => {
      if (l.lockedOut && app.nav === nav) app.go('locked-out', { mode, ms: l.retryAfterMs });
    })
    .catch(() => {});
  return {
    el: v.el,
    // lockerd reads a scan here as this screen's code (or a courier's badge).
    scan: mode === 'extend' ? 'none' : mode,
    onKey: pad.press,
    onScanner: scanHint,
  };
}

function doorOpen(app, { mode, opened, code, emptyOld }) {
  const c = opened.compartment;
  const v = view('door');
  v.r.door.textContent = c.id;
  v.r.title.textContent = t('door.title', { door: c.id });
  v.r.where.textContent = t('door.where', { column: c.column, row: c.row });
  v.r.step.textContent = t(`door.${mode}Step`);
  if (c.accessible) v.r.note.textContent = t('door.low');
  if (emptyOld) v.r.note.textContent = t('deposit.emptyOld', { door: emptyOld });
  // One code for several parcels (issue 11, flow 2): which one this is, and any door passed over.
  if (mode === 'pickup' && opened.group) v.r.note.textContent = [v.r.note.textContent, ...groupLines(opened.group)].filter(Boolean).join(' ');
  showMap(v.r.map, c.id);
  soundCue();
  // A drop-off's "Does not fit" and "Cancel" (dropoffDoor.js).
  const drop = { cancelling: false };
  if (mode === 'dropoff') dropoffActions(app, v, { opened, code, state: drop });
  let seenOpen = c.door === 'open';
  let doorOpen = c.door !== 'closed';
  let finished = false;
  const end = (state) => {
    if (finished) return;
    if (state === 'stored' || state === 'closed') app.go('thanks', { mode, opened, code });
    else if (state === 'failed' || state === 'did_not_open') app.go('door-failed', { mode, code, door: c.id, carrier: opened.parcel?.carrier ?? opened.deposit?.carrier });
    else if (state === 'cancelled') app.go('home');
    else return;
    finished = true;
  };
  // A drop-off is done when the locker has stored it, which the door closing normally means.
  // Only the starter's secret (from the reply that opened the door) can ask.
  const closed = () =>
    mode === 'dropoff'
      ? post(`/api/dropoff/${encodeURIComponent(opened.dropoffId)}/done`, {}, opened.secret).then((r) => end(r.state), () => end(drop.cancelling ? 'cancelled' : 'stored'))
      : end('closed');
  return {
    el: v.el,
    idle: 'door',
    // "Home" with the door still open asks first (issue 11, defect 5).
    confirmHome: () => !doorOpen || askBeforeLeaving(app, v, c.id),
    /** @param {import('../clientTypes.js').KioskEvent} ev */
    onEvent(ev) {
      if (mode === 'dropoff' && ev.type === 'deposit' && ev.deposit?.id === opened.dropoffId) end(ev.deposit.state);
      else if (ev.type === 'session' && ev.sessionId === opened.sessionId) {
        if (ev.state === 'opened') seenOpen = doorOpen = true;
        else if (ev.state === 'closed') {
          doorOpen = false;
          closed();
        }
        else if (ev.state === 'did_not_open' || ev.state === 'failed') end('did_not_open');
        else if (ev.state === 'left_open_alarm') {
          v.r.close.textContent = t('door.leftOpen');
          v.r.close.classList.add('alert');
        }
      } else if (ev.type === 'door' && ev.compartment === c.id) {
        doorOpen = ev.door === 'open';
        if (ev.door === 'open') seenOpen = true;
        else if (ev.door === 'closed' && seenOpen) closed();
      } else if (ev.type === 'door' && ev.compartment === emptyOld && ev.door === 'closed') v.r.note.textContent = '';
    },
  };
}

/** The shared layout of the screens that only say something and offer a way on. */
export function notice(kind, title, text, actions) {
  const v = view('notice');
  v.el.dataset.kind = kind;
  v.r.title.textContent = title;
  v.r.text.textContent = text;
  v.r.actions.append(...actions);
  return v;
}

const again = (app, mode) => button(t('common.tryAgain'), () => app.go('code', { mode }), 'primary');
const homeAction = (app) => button(t('common.home'), () => app.go('home'), 'secondary');

/** The other mode's button, for a code typed in the wrong place. */
const switchMode = (app, to) => button(t(to === 'pickup' ? 'home.collect' : 'home.send'), () => app.go('code', { mode: to }), 'primary');

function wrongCode(app, { mode, expired, left, reason }) {
  const other = reason === 'pickupCode' ? 'pickup' : reason === 'dropoffCode' ? 'dropoff' : null;
  const v = expired
    ? notice('error', t('expired.title'), t('expired.text'), [homeAction(app)])
    : reason
      ? notice('error', t(`wrong.${reason}.title`), t(`wrong.${reason}.text`), [other && other !== mode ? switchMode(app, other) : again(app, mode), homeAction(app)])
      : notice('error', t('wrong.title'), t(`wrong.${mode}Text`), [again(app, mode), homeAction(app)]);
  if (reason) v.el.dataset.reason = reason;
  if (typeof left === 'number' && !expired) v.r.extra.textContent = t(left === 1 ? 'wrong.oneTryLeft' : 'wrong.triesLeft', { n: left });
  return { el: v.el };
}

function lockedOut(app, { mode, ms }) {
  const until = Date.now() + ms;
  const v = notice('warn', t('locked.title'), t('locked.text'), [homeAction(app)]);
  const tick = () => {
    const left = until - Date.now();
    if (left <= 0) app.go('code', { mode });
    else v.r.extra.textContent = t('locked.wait', { time: formatClock(left) });
  };
  tick();
  const timer = setInterval(tick, 250);
  return { el: v.el, leave: () => clearInterval(timer) };
}

/** A reminder to close the door, with a choice to stay or to leave anyway; false: not yet. */
export function askBeforeLeaving(app, v, door) {
  if (v.el.querySelector('[data-ref="confirm"]')) return false;
  const box = document.createElement('div');
  box.className = 'confirm reminder';
  box.dataset.ref = 'confirm';
  box.setAttribute('role', 'alertdialog');
  const text = document.createElement('p');
  text.textContent = t('door.closeBeforeLeaving', { door });
  const actions = document.createElement('div');
  actions.className = 'actions';
  actions.append(
    button(t('door.stay'), () => box.remove(), 'primary'),
    button(t('door.leaveAnyway'), () => app.go('home'), 'secondary'),
  );
  box.append(text, actions);
  v.el.append(box);
  return false;
}

/**
 * "Door X did not open": the code is still valid, try again; the support contact of the carrier
 * who owns the parcel (its own line, else the locker's), with the QR code of its link (issue 11,
 * defect 4).
 */
function doorFailed(app, { mode, code, door, carrier }) {
  const v = notice('error', door ? t('jam.door', { door }) : t('jam.title'), t(`jam.${mode}Text`), [
    button(t('common.tryAgain'), () => (code ? submitCode(app, mode, code) : app.go('code', { mode })), 'primary'),
    homeAction(app),
  ]);
  const contact = contactFor(app, carrier);
  const phone = contact?.support.phone;
  v.r.extra.textContent = phone ? `${t('jam.tryAgain')} ${t('support.call', { contact: phone })}` : contact ? t('jam.tryAgain') : t('jam.help');
  v.r.extra.className = 'lead';
  if (contact) {
    const card = contactCard(contact, { phone: false });
    card.dataset.ref = 'support';
    v.r.extra.after(card);
  }
  return { el: v.el };
}

/** A grouped pickup's progress line and a line for each member that cannot open now. */
function groupLines(group) {
  return [
    t('group.progress', { n: group.position, total: group.total }),
    ...(group.skipped ?? []).map((m) => t(`group.skipped.${m.reason}`, { door: m.compartment ?? '' })),
  ];
}

function thanks(app, { mode, opened, code }) {
  const group = mode === 'pickup' ? opened.group : undefined;
  if (group && group.remaining > 0) {
    // The same code again opens the next door: one tap (a scanned code is scanned again).
    const next = button(t('group.next', { n: group.position + 1, total: group.total }), () => (code ? submitCode(app, 'pickup', code) : app.go('code', { mode: 'pickup' })), 'primary');
    next.dataset.ref = 'nextDoor';
    const v = notice('ok', t('thanks.title'), t('group.thanks'), [next, button(t('common.done'), () => app.done(), 'secondary'), ...reportAction(app, opened)]);
    return { el: v.el };
  }
  const v = notice('ok', t('thanks.title'), t(`thanks.${mode}`), [button(t('common.done'), () => app.done(), 'primary'), ...reportAction(app, opened)]);
  const timer = setTimeout(() => app.go('home'), 10_000);
  return { el: v.el, leave: () => clearTimeout(timer) };
}

function failure(app, { mode, code }) {
  // Every coded error has its own words (code.<CODE> in the catalogues; test/unit/kiosk/everyCodeHasWords.test.ts).
  const v = notice('error', t('error.title'), errorText(code), [again(app, mode ?? 'pickup'), homeAction(app)]);
  if (code) v.el.dataset.code = code;
  return { el: v.el };
}

export const consumerScreens = {
  code: codeScreen,
  'door-open': doorOpen,
  'wrong-code': wrongCode,
  'locked-out': lockedOut,
  'door-failed': doorFailed,
  thanks,
  error: failure,
};
