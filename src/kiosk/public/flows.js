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

/** One line per support contact: whose it is, the number, the hours. */
function contactLine(name, s) {
  const li = document.createElement('li');
  li.className = 'row';
  const who = document.createElement('strong');
  who.textContent = name;
  li.append(who);
  if (s.phone) li.append(document.createTextNode(` ${t('help.call', { phone: s.phone })}`));
  if (s.qrUrl) li.append(document.createTextNode(` ${t('help.visit', { url: s.qrUrl })}`));
  const hours = s.hours?.[language()];
  if (hours) li.append(document.createTextNode(` (${hours})`));
  return li;
}

function help(app) {
  const dir = app.info.support ?? { carriers: [] };
  const v = notice('info', t('help.title'), t('help.text'), [homeAction(app)]);
  const list = document.createElement('ul');
  list.className = 'list compact help-contacts';
  if (dir.default) list.append(contactLine(t('help.locker'), dir.default));
  for (const c of dir.carriers) if (c.support) list.append(contactLine(c.name, c.support));
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
      if (app.nav === nav) app.go('reported', { failed: e.code });
    }
  };
  const v = notice('info', t('report.title'), t('report.text'), [...problems.map((p) => button(t(`report.${p}`), () => send(p), 'secondary')), homeAction(app)]);
  return { el: v.el };
}

function reported(app, { failed }) {
  const v = failed
    ? notice('error', t('report.failedTitle'), t('report.failedText'), [button(t('help.button'), () => app.go('help'), 'primary'), homeAction(app)])
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
