// Courier screens: login, the deposit loop (waybill, size, open door, stored) and the
// collection of expired parcels and drop-offs, one door at a time.
import { post } from './api.js';
import { t } from './i18n.js';
import { view, button, keyboard, keypad, edit, item, span, errorText } from './ui.js';
import { notice } from './consumer.js';
import { showMap, soundCue } from './map.js';

const loginErrors = { BADGE_INVALID: 'courier.badgeInvalid', BADGE_EXPIRED: 'courier.badgeExpired', BADGE_REVOKED: 'courier.badgeRevoked', PIN_INVALID: 'courier.pinInvalid', PIN_LOCKED_OUT: 'courier.pinLockedOut', NOT_PERMITTED: 'courier.badgeInvalid' };

function login(app, { error }) {
  const v = view('login');
  const values = { carrier: '', courierId: '', pin: '' };
  let field = 'carrier';
  const fields = [...v.el.querySelectorAll('[data-field]')];
  const render = () => {
    for (const f of fields) {
      const name = f.dataset.field;
      f.classList.toggle('active', name === field);
      f.querySelector('output').textContent = name === 'pin' ? '\u2022'.repeat(values.pin.length) : values[name];
    }
  };
  for (const f of fields) f.onclick = () => ((field = f.dataset.field), render());
  // The carrier is chosen from the locker's carriers by name (issue 11, defect 6); the
  // keyboard then types the courier ID, the PIN has its own keypad: no field to switch to.
  const carriers = app.info.carriers ?? [];
  const chips = carriers.map((c) => {
    const b = button(c.name, () => {
      values.carrier = c.id;
      for (const x of chips) x.setAttribute('aria-pressed', String(x === b));
      if (field === 'carrier') field = 'courierId';
      render();
    }, 'chip carrier');
    b.dataset.carrier = c.id;
    b.setAttribute('aria-pressed', 'false');
    return b;
  });
  v.r.carriers.append(...chips);
  // A locker told no carriers (none configured) falls back to typing the carrier's id.
  v.el.querySelector('[data-field="carrier"]').hidden = carriers.length > 0;
  if (carriers.length === 1) chips[0]?.click();
  else if (carriers.length > 1) field = 'courierId';
  const pin = keypad(v.r.pinPad, {
    max: 16,
    onChange(value) {
      values.pin = value;
      render();
    },
  });
  const keyboardKey = (k) => {
    if (k === 'Enter') return submit();
    values.courierId = edit(values.courierId, k);
    render();
  };
  if (error) v.r.message.textContent = loginErrors[error] ? t(loginErrors[error]) : errorText(error);
  const submit = async () => {
    if (!values.carrier || !values.courierId || !values.pin) return;
    const nav = app.nav;
    try {
      const r = await post('/api/courier/login', values);
      app.session = { role: 'courier', token: r.token, who: r.courier, stored: 0 };
      app.go('menu');
    } catch (e) {
      if (app.nav === nav) v.r.message.textContent = loginErrors[e.code] ? t(loginErrors[e.code]) : errorText(e.code);
    }
  };
  const onKey = (k) => {
    if (k === 'Enter') return submit();
    if (k === 'Tab') field = { carrier: 'courierId', courierId: 'pin', pin: carriers.length ? 'courierId' : 'carrier' }[field];
    else if (field === 'pin') pin.press(k);
    else values[field] = edit(values[field], k);
    render();
  };
  keyboard(v.r.keyboard, { onKey: keyboardKey });
  v.r.login.onclick = submit;
  v.r.back.onclick = () => app.go('home');
  render();
  return { el: v.el, onKey, scan: 'login' };
}

function menu(app) {
  const v = view('menu');
  const who = app.session.who;
  v.r.title.textContent = t('courier.menuTitle', { carrier: who.carrier });
  v.r.deposit.hidden = !who.permissions.includes('deposit');
  v.r.collect.hidden = !who.permissions.includes('collect');
  v.r.deposit.onclick = () => app.go('waybill');
  v.r.collect.onclick = () => app.go('collections');
  v.r.logout.onclick = () => app.logout();
  // Help for the courier: the line of the courier's own carrier (else the locker's).
  v.r.logout.before(button(t('help.button'), () => app.go('help', { carrier: who.carrier }), 'secondary'));
  return { el: v.el, homeButton: false };
}

function waybill(app, { message }) {
  const v = view('waybill');
  let value = '';
  const render = () => {
    v.r.value.textContent = value;
    v.r.next.disabled = !value;
  };
  const next = () => value && app.go('size', { waybill: value });
  const onKey = (k) => {
    if (k === 'Enter') return next();
    value = edit(value, k);
    render();
  };
  keyboard(v.r.keyboard, { upper: true, onKey });
  if (message) v.r.message.textContent = message;
  if (app.session.stored) v.r.count.textContent = t('deposit.count', { n: app.session.stored });
  v.r.next.onclick = next;
  v.r.finish.onclick = () => app.go('menu');
  render();
  return {
    el: v.el,
    onKey,
    // A waybill scanned here comes from lockerd, to this courier's session only.
    scan: 'waybill',
    onWaybill: (text) => {
      value = text.trim();
      next();
    },
  };
}

const depositErrors = {
  LATCH_JAMMED: ['size', 'deposit.jammed'],
  BOARD_SILENT: ['size', 'deposit.jammed'],
  NO_COMPARTMENT_FREE: ['size', 'deposit.noneFree'],
  COMPARTMENT_UNAVAILABLE: ['size', 'deposit.noneFree'],
  WAYBILL_DUPLICATE: ['waybill', 'deposit.duplicate'],
  RESERVATION_UNKNOWN: ['waybill', 'deposit.unknown'],
  ADHOC_NOT_ALLOWED: ['waybill', 'deposit.unknown'],
  INPUT_INVALID: ['waybill', 'deposit.invalid'],
};

/** Runs a deposit request that ends with a door open, or explains why not. */
async function openDoor(app, request, waybill, extra = {}) {
  app.go('busy');
  try {
    const { deposit } = await request();
    app.go('deposit-door', { deposit, ...extra });
  } catch (e) {
    if (e.handled) return;
    const [screen, key] = depositErrors[e.code] ?? ['size', null];
    app.go(screen, { waybill, resize: extra.resize, message: key ? t(key) : errorText(e.code) });
  }
}

const cm = (mm) => String(Math.round(mm) / 10);

function size(app, { waybill, resize, message }) {
  const v = view('size');
  const sizes = app.info.sizes;
  let accessible = false;
  v.r.title.textContent = t(resize ? 'size.largerTitle' : 'size.title');
  v.r.waybill.textContent = t('deposit.waybillIs', { waybill });
  if (message) v.r.message.textContent = message;
  const offered = resize ? sizes.slice(sizes.indexOf(resize.size) + 1) : sizes;
  for (const s of offered) {
    const b = button('', () => choose(s), 'size-button');
    b.dataset.size = s;
    b.append(span(s, 'size-code'), span(t(`size.${s}`), 'size-name'));
    v.r.sizes.append(b);
  }
  if (!offered.length) v.r.message.textContent = t('size.noLarger');
  // How many of each size are free now (issue 11, flow 7); a size with none cannot be chosen.
  app
    .authed('GET', '/api/courier/sizes')
    .then(({ sizes: counts }) => {
      for (const c of counts) {
        const b = v.r.sizes.querySelector(`[data-size="${c.size}"]`);
        if (!b) continue;
        // Inner dimensions from the layout (layout.sizes), in centimetres, where configured.
        if (c.inner) b.append(span(t('size.inner', { w: cm(c.inner.widthMm), h: cm(c.inner.heightMm), d: cm(c.inner.depthMm) }), 'size-inner'));
        b.append(span(t('size.free', { n: c.free }), 'size-free'));
        b.dataset.free = String(c.free);
      }
    })
    .catch(() => {});
  v.r.accessible.hidden = Boolean(resize);
  v.r.accessible.onclick = () => {
    accessible = !accessible;
    v.r.accessible.setAttribute('aria-pressed', String(accessible));
  };
  const choose = (s) =>
    resize
      ? openDoor(app, () => app.authed('POST', `/api/courier/deposits/${resize.id}/wrong-size`, { size: s }), waybill, { resize, emptyOld: resize.compartment.id, oldOpen: resize.compartment.door !== 'closed' })
      : openDoor(app, () => app.authed('POST', '/api/courier/deposits', accessible ? { waybill, size: s, accessible } : { waybill, size: s }), waybill);
  v.r.actions.append(
    resize
      ? button(t('common.back'), () => app.go('deposit-door', { deposit: resize }), 'secondary')
      : button(t('common.cancel'), () => app.go('waybill'), 'secondary'),
  );
  return { el: v.el };
}

function depositDoor(app, { deposit, emptyOld, oldOpen = true, cancelling }) {
  const v = view('door');
  soundCue();
  let d = deposit;
  let settled = false;
  // The wrong-size door still to be closed empty (issue 11, defect 1): a reminder goes with "Stored".
  let oldDoorOpen = Boolean(emptyOld) && oldOpen;
  const render = () => {
    const c = d.compartment;
    const closedEmpty = d.state === 'open' && c.door === 'closed';
    v.r.door.textContent = c.id;
    showMap(v.r.map, c.id);
    v.r.title.textContent = t(closedEmpty ? 'deposit.closedTitle' : 'door.title', { door: c.id });
    v.r.where.textContent = t('deposit.doorInfo', { size: c.size, column: c.column, row: c.row });
    v.r.step.textContent = t(cancelling ? 'deposit.cancelStep' : 'deposit.putIn', { waybill: d.waybill });
    let note = '';
    if (closedEmpty) note = t('deposit.closedEmpty');
    else if (emptyOld) note = t('deposit.emptyOld', { door: emptyOld });
    else if (d.reassignedFrom) note = t('deposit.reassigned', { old: d.reassignedFrom, door: c.id });
    else if (c.accessible) note = t('door.low');
    v.r.note.textContent = note;
    v.r.actions.replaceChildren(
      ...(cancelling
        ? []
        : [
            button(t('deposit.wrongSize'), () => app.go('size', { waybill: d.waybill, resize: d }), 'secondary'),
            button(t('deposit.cancel'), cancel, 'secondary'),
          ]),
      // Closed but not stored: the door shut before the parcel was in (item sensors saw it empty).
      ...(closedEmpty ? [button(t('deposit.reopen'), reopen, 'primary')] : []),
    );
  };
  const cancel = async () => {
    try {
      d = (await app.authed('POST', `/api/courier/deposits/${d.id}/cancel`)).deposit;
      cancelling = true;
      render();
      settle(d);
    } catch (e) {
      if (!e.handled) v.r.note.textContent = errorText(e.code);
    }
  };
  const reopen = () => openDoor(app, () => app.authed('POST', `/api/courier/deposits/${d.id}/reopen`), d.waybill, { cancelling });
  const settle = (fresh) => {
    if (settled) return;
    d = fresh;
    if (d.state === 'stored') {
      settled = true;
      app.go('stored', { deposit: d, emptyOld: oldDoorOpen ? emptyOld : undefined });
    } else if (d.state === 'cancelled') {
      settled = true;
      app.go('waybill', { message: t('deposit.cancelled', { waybill: d.waybill }) });
    } else if (d.state === 'failed') {
      settled = true;
      app.go('size', { waybill: d.waybill, message: t('deposit.jammed') });
    } else render();
  };
  const refresh = () =>
    app.authed('GET', `/api/courier/deposits/${d.id}`).then(
      (r) => settle(r.deposit),
      // A cancelled deposit is forgotten by the locker once its door is closed.
      (e) => e.code === 'NOT_FOUND' && cancelling && settle({ ...d, state: 'cancelled' }),
    );
  // Events carry the deposit's new state; other changes make the screen read it back.
  const poll = setInterval(refresh, 1500);
  render();
  return {
    el: v.el,
    idle: 'door',
    homeButton: false,
    leave: () => clearInterval(poll),
    /** @param {import('../clientTypes.js').KioskEvent} ev */
    onEvent(ev) {
      if (ev.type === 'door' && emptyOld && ev.compartment === emptyOld) oldDoorOpen = ev.door === 'open';
      if (ev.type === 'deposit' && ev.deposit?.id === d.id) settle({ ...d, ...ev.deposit });
      else if (ev.type === 'door' && (ev.compartment === d.compartment.id || ev.compartment === emptyOld)) refresh();
    },
  };
}

function stored(app, { deposit, emptyOld }) {
  if (!app.session.counted?.has(deposit.id)) {
    app.session.stored += 1;
    (app.session.counted ??= new Set()).add(deposit.id);
  }
  const v = notice('ok', t('deposit.storedTitle'), t('deposit.stored', { waybill: deposit.waybill, door: deposit.compartment.id }), [
    button(t('deposit.nextParcel'), () => app.go('waybill'), 'primary'),
    button(t('deposit.finish'), () => app.go('menu'), 'secondary'),
  ]);
  // The old door of a wrong-size deposit is still open: say so until it closes.
  const reminder = oldDoorReminder(v, emptyOld);
  return {
    el: v.el,
    homeButton: false,
    idle: emptyOld ? 'door' : undefined,
    scan: 'waybill',
    onWaybill: (text) => app.go('size', { waybill: text.trim() }),
    /** @param {import('../clientTypes.js').KioskEvent} ev */
    onEvent(ev) {
      if (reminder && ev.type === 'door' && ev.compartment === emptyOld && ev.door === 'closed') reminder.hidden = true;
    },
  };
}

function oldDoorReminder(v, door) {
  if (!door) return null;
  const p = document.createElement('p');
  p.className = 'reminder alert';
  p.dataset.ref = 'reminder';
  p.setAttribute('role', 'alert');
  p.textContent = t('deposit.closeOldDoor', { door });
  v.r.extra.after(p);
  return p;
}

const skipReasons = ['label_unreadable', 'no_label', 'scanner_unavailable', 'parcel_not_there'];

function collections(app) {
  const v = view('collections');
  let items = [];
  let active = null;
  // "Open all" (issue 11, flow 7): one door at a time with the map, "next door" after each close.
  let all = false;
  const tried = new Set();
  // The collected parcel waiting for its scan (issue 11, flow 7): { parcelId, compartment }.
  // Its door already counts as collected; the scan or typed waybill is checked by lockerd.
  let confirming = null;
  let typed = '';
  let confirmedNote = '';
  const screen = {
    el: v.el,
    idle: 'door',
    homeButton: false,
    scan: 'none',
    onKey: (k) => {
      if (!confirming) return;
      if (k === 'Enter') return confirmTyped();
      typed = edit(typed, k);
      render();
    },
    // A scan on this screen is the waybill of the parcel being confirmed, read by lockerd.
    onConfirm: (ev) => (ev.state === 'ok' ? confirmed(ev.confirmation) : refused(ev.error ?? {})),
    /** @param {import('../clientTypes.js').KioskEvent} ev */
    onEvent(ev) {
      if (!active) return;
      const done =
        (ev.type === 'session' && ev.sessionId === active.sessionId && ['closed', 'did_not_open'].includes(ev.state)) ||
        (ev.type === 'door' && ev.compartment === active.compartment && ev.door === 'closed' && active.seenOpen);
      if (ev.type === 'door' && ev.compartment === active.compartment && ev.door === 'open') active.seenOpen = true;
      if (done) {
        active = null;
        load();
      }
    },
  };
  const setScan = () => {
    const mode = confirming ? 'collect' : 'none';
    if (screen.scan === mode && screen.scanParcel === confirming?.parcelId) return;
    screen.scan = mode;
    screen.scanParcel = confirming?.parcelId;
    app.rescan(screen);
  };
  const render = () => {
    v.r.empty.hidden = items.length > 0 || Boolean(confirming);
    if (!items.length) all = false;
    const pending = items.filter((it) => !tried.has(it.parcelId));
    const busy = Boolean(active) || Boolean(confirming);
    v.r.openAll.hidden = all || busy || items.length < 2;
    v.r.openAll.textContent = t('collect.openAll', { n: items.length });
    v.r.next.hidden = !all || busy || !pending.length;
    v.r.map.hidden = !active;
    if (active) showMap(v.r.map, active.compartment);
    if (active && !confirming) v.r.status.textContent = [confirmedNote, t('collect.closeDoor', { door: active.compartment })].filter(Boolean).join(' ');
    else if (active) v.r.status.textContent = t('collect.doorOpen', { door: active.compartment });
    else if (!v.r.status.dataset.error) v.r.status.textContent = confirmedNote;
    // While a parcel is confirmed the list (with its waybills) is put away: the label is read off the parcel.
    v.r.confirm.hidden = !confirming;
    v.r.list.hidden = Boolean(confirming);
    if (confirming) {
      v.r.confirmStep.textContent = t('collect.scanStep', { door: confirming.compartment });
      v.r.typed.textContent = typed;
      v.r.confirmTyped.disabled = !typed;
    }
    v.r.list.replaceChildren(
      ...items.map((it) => {
        const open = button(t('collect.open', { door: it.compartment.id }), () => openItem(it), 'primary');
        open.disabled = busy;
        return item(
          'row',
          span(it.waybill, 'waybill'),
          span(t(`collect.${it.kind}`), `tag tag-${it.kind}`),
          span(t('deposit.doorInfo', { size: it.compartment.size, column: it.compartment.column, row: it.compartment.row }), 'where'),
          open,
        );
      }),
    );
    setScan();
  };
  const load = async () => {
    try {
      const r = await app.authed('GET', '/api/courier/collections');
      items = r.items;
      // A collection opened earlier and not confirmed yet (the screen was left, the page reloaded).
      if (!confirming && r.unconfirmed?.length) startConfirm(r.unconfirmed[0]);
    } catch (e) {
      if (!e.handled) v.r.status.textContent = errorText(e.code);
    }
    render();
  };
  const startConfirm = (c) => {
    confirming = { parcelId: c.parcelId, compartment: c.compartment };
    typed = '';
    confirmedNote = '';
    v.r.confirmMessage.textContent = '';
    showReasons(false);
  };
  const confirmed = (c) => {
    if (!confirming || c?.parcelId !== confirming.parcelId) return;
    confirmedNote = t(`collect.confirmed.${c.by}`, { door: confirming.compartment });
    confirming = null;
    v.r.confirmMessage.textContent = '';
    delete v.r.status.dataset.error;
    render();
    if (!active) load();
  };
  const refused = (error) => {
    if (!confirming) return;
    const left = error.context?.triesLeft;
    const words = errorText(error.code);
    v.r.confirmMessage.textContent = typeof left === 'number' ? `${words} ${t(left === 1 ? 'wrong.oneTryLeft' : 'wrong.triesLeft', { n: left })}` : words;
    v.r.confirmMessage.dataset.code = String(error.code ?? '');
    // A collection nobody waits for any more (lapsed, or confirmed from elsewhere): nothing left to do here.
    if (error.code === 'NOT_FOUND' || (error.code === 'TRANSACTION_STATE' && error.context?.reason === 'confirmed')) {
      confirming = null;
      load();
    }
    render();
  };
  const send = async (body) => {
    const c = confirming;
    if (!c) return;
    try {
      const r = await app.authed('POST', `/api/courier/collections/${encodeURIComponent(c.parcelId)}/confirm`, body);
      confirmed(r.confirmation);
    } catch (e) {
      if (!e.handled) refused(e);
    }
  };
  const confirmTyped = () => {
    if (typed) send({ waybill: typed });
  };
  keyboard(v.r.keyboard, { upper: true, onKey: screen.onKey });
  v.r.confirmTyped.onclick = confirmTyped;
  // "Could not scan": the reasons take the keyboard's place (and back again).
  const showReasons = (on) => {
    v.r.reasons.hidden = !on;
    v.r.keyboard.hidden = on;
    v.r.confirmTyped.hidden = on;
    v.r.cannotScan.textContent = t(on ? 'collect.typeInstead' : 'collect.cannotScan');
  };
  v.r.cannotScan.onclick = () => showReasons(v.r.reasons.hidden);
  v.r.reasons.append(
    ...skipReasons.map((reason) => {
      const b = button(t(`collect.skip.${reason}`), () => send({ skip: reason }), 'secondary');
      b.dataset.reason = reason;
      return b;
    }),
  );
  const openItem = async (it) => {
    tried.add(it.parcelId);
    delete v.r.status.dataset.error;
    confirmedNote = '';
    try {
      const r = await app.authed('POST', `/api/courier/collections/${encodeURIComponent(it.parcelId)}/open`);
      active = { compartment: r.compartment.id, sessionId: r.sessionId, seenOpen: r.compartment.door === 'open' };
      // The door is open and the parcel collected: now its waybill, scanned or typed.
      startConfirm({ parcelId: it.parcelId, compartment: r.compartment.id });
      render();
    } catch (e) {
      if (e.handled) return;
      v.r.status.textContent = e.code === 'LATCH_JAMMED' || e.code === 'BOARD_SILENT' ? t('collect.jammed', { door: it.compartment.id }) : errorText(e.code);
      v.r.status.dataset.error = 'true';
      render();
    }
  };
  const openNext = () => {
    const it = items.find((x) => !tried.has(x.parcelId));
    if (it) openItem(it);
  };
  v.r.openAll.onclick = () => {
    all = true;
    tried.clear();
    openNext();
  };
  v.r.next.onclick = openNext;
  v.r.back.onclick = () => app.go('menu');
  load();
  return screen;
}

export const courierScreens = { login, menu, waybill, size, 'deposit-door': depositDoor, stored, collections };
