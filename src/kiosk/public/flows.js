// Consumer screens added for issue 11: extending the pickup time with the code (flow 5) and
// the help screen with the operator's and the carriers' support lines (flow 3).
import { post } from './api.js';
import { language, t } from './i18n.js';
import { button } from './ui.js';
import { codeFailed, notice } from './consumer.js';

const homeAction = (app) => button(t('common.home'), () => app.go('home'), 'secondary');

/** The pickup code screen's code, sent to extend the pickup time instead of opening the door. */
export async function submitExtend(app, code) {
  app.go('busy', { title: 'extend.busy' });
  const nav = app.nav;
  try {
    const r = await post('/api/pickup/extend', { code });
    if (app.nav === nav) app.go('extended', r);
  } catch (e) {
    if (app.nav !== nav) return;
    if (e.code === 'EXTENSION_NOT_ALLOWED') app.go('extend-refused', { reason: e.context.reason, grouped: e.context.grouped === true });
    else codeFailed(app, 'pickup', code, e);
  }
}

/** A group's code extends every parcel of the group still here (`parcels`); `expiresAt` is the earliest new end. */
function extended(app, { expiresAt, hours, parcels }) {
  const when = new Intl.DateTimeFormat(language(), { dateStyle: 'full', timeStyle: 'short' }).format(new Date(expiresAt));
  const text = parcels > 1 ? t('extend.doneTextGroup', { hours, count: parcels }) : t('extend.doneText', { hours });
  const v = notice('ok', t('extend.doneTitle'), text, [button(t('common.done'), () => app.go('home'), 'primary')]);
  v.r.extra.textContent = when;
  return { el: v.el };
}

function extendRefused(app, { reason, grouped }) {
  const key = reason === 'used' ? 'extend.used' : 'extend.notOffered';
  const v = notice('warn', t('extend.refusedTitle'), t(grouped ? `${key}Group` : key), [homeAction(app)]);
  return { el: v.el };
}

/**
 * The support line for a carrier's parcel or a courier of that carrier: the carrier's own
 * (`carriers[].support`), else the locker's (`support`); null when neither is configured.
 */
export function contactFor(app, carrierId) {
  const dir = app.info.support ?? { carriers: [] };
  const own = carrierId ? dir.carriers.find((c) => c.id === carrierId) : undefined;
  if (own?.support) return { key: own.id, who: own.name, support: own.support };
  return dir.default ? { key: 'locker', who: t('help.locker'), support: dir.default } : null;
}

/** The QR code lockerd draws for the line's link (GET /api/info/support-qr/:who), with the link in words beside it. */
function qrFigure(key, url) {
  const figure = document.createElement('figure');
  figure.className = 'qr-figure';
  const img = document.createElement('img');
  img.className = 'qr';
  img.src = `/api/info/support-qr/${encodeURIComponent(key)}`;
  img.alt = t('support.qrAlt', { url });
  const caption = document.createElement('figcaption');
  const hint = document.createElement('span');
  hint.textContent = t('support.qrScan');
  const link = document.createElement('strong');
  link.className = 'qr-url';
  link.textContent = url;
  caption.append(hint, link);
  figure.append(img, caption);
  return figure;
}

/** One support contact: whose it is, the number (unless shown already), the hours, the QR code. */
export function contactCard(contact, { phone = true } = {}) {
  const card = document.createElement('div');
  card.className = 'support-card';
  const who = document.createElement('strong');
  who.textContent = contact.who;
  const line = document.createElement('p');
  line.append(who);
  const s = contact.support;
  if (phone && s.phone) line.append(document.createTextNode(` ${t('help.call', { phone: s.phone })}`));
  const hours = s.hours?.[language()];
  if (hours) line.append(document.createTextNode(` (${hours})`));
  card.append(line);
  if (s.qrUrl) card.append(qrFigure(contact.key, s.qrUrl));
  return card;
}

/** One line per support contact: whose it is, the number, the hours and the QR code. */
function contactLine(contact) {
  const li = document.createElement('li');
  li.className = 'row';
  li.append(contactCard(contact));
  return li;
}

/** Help: every line of the locker; for a carrier's parcel or courier, that carrier's line (else the locker's). */
/** @param {{ carrier?: string }} [params] */
function help(app, params) {
  const carrier = params?.carrier;
  const dir = app.info.support ?? { carriers: [] };
  const courier = app.session?.role === 'courier';
  const back = courier ? button(t('common.back'), () => app.go('menu'), 'secondary') : homeAction(app);
  const v = notice('info', t('help.title'), t('help.text'), [back]);
  const list = document.createElement('ul');
  list.className = 'list compact help-contacts';
  list.dataset.ref = 'support';
  if (carrier) {
    const contact = contactFor(app, carrier);
    if (contact) list.append(contactLine(contact));
  } else {
    if (dir.default) list.append(contactLine({ key: 'locker', who: t('help.locker'), support: dir.default }));
    for (const c of dir.carriers) if (c.support) list.append(contactLine({ key: c.id, who: c.name, support: c.support }));
  }
  if (!list.children.length) v.r.extra.textContent = t('help.none');
  v.r.text.after(list);
  return { el: v.el };
}

const problems = ['damaged', 'wrong_parcel', 'not_there', 'door_closed_early'];

/** Report a problem with the parcel just picked up (the pickup reply's handle, for a short while). */
function report(app, { opened }) {
  const send = async (problem) => {
    app.go('busy', { title: 'report.busy' });
    const nav = app.nav;
    try {
      const r = await post(`/api/pickup/${encodeURIComponent(opened.sessionId)}/report`, { problem }, opened.report);
      if (app.nav !== nav) return;
      if (r.reopened) app.go('door-open', { mode: 'pickup', opened: r.reopened });
      else app.go('reported', {});
    } catch (e) {
      if (app.nav === nav) app.go('reported', { failed: e.code, carrier: opened.parcel?.carrier });
    }
  };
  const v = notice('info', t('report.title'), t('report.text'), [...problems.map((p) => button(t(`report.${p}`), () => send(p), 'secondary')), homeAction(app)]);
  return { el: v.el };
}

function reported(app, { failed, carrier }) {
  const v = failed
    ? notice('error', t('report.failedTitle'), t('report.failedText'), [button(t('help.button'), () => app.go('help', { carrier }), 'primary'), homeAction(app)])
    : notice('ok', t('report.doneTitle'), t('report.doneText'), [button(t('common.done'), () => app.go('home'), 'primary')]);
  return { el: v.el };
}

/** The thanks screen's way to report a problem, while the pickup's handle holds. */
export const reportAction = (app, opened) => (opened?.report ? [button(t('report.button'), () => app.go('report', { opened }), 'secondary')] : []);

export const flowScreens = { report, reported, extended, 'extend-refused': extendRefused, help };

/** The buttons the pickup code screen offers besides "Back": extend the pickup time, help. */
export function pickupExtras(app) {
  return [button(t('extend.button'), () => app.go('code', { mode: 'extend' }), 'secondary'), button(t('help.button'), () => app.go('help'), 'secondary')];
}

/** The drop-off code screen's "I need a low compartment" toggle (issue 11, flow 4). */
export function dropoffExtras(app) {
  app.lowAsked = false;
  const b = button(t('dropoff.askLow'), () => {
    app.lowAsked = !app.lowAsked;
    b.setAttribute('aria-pressed', String(app.lowAsked));
  }, 'toggle');
  b.dataset.ref = 'askLow';
  b.setAttribute('aria-pressed', 'false');
  return [b];
}
