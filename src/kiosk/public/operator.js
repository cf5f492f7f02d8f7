// Operator service mode: the compartment grid with live states and faults, one door opened
// with a reason, in and out of service, a test of all doors, and the recent alarms.
import { t, language } from './i18n.js';
import { view, button, item, span, errorText, faultName } from './ui.js';
import { settlePanel } from './settle.js';

const reasons = ['inspection', 'cleaning', 'stuck', 'repair'];

/** Alarm types come as 'alarm.latch_jammed'; one without a catalogue entry shows as it is. */
function alarmName(type) {
  const key = `alarm.${String(type).replace(/^alarm\./, '')}`;
  const name = t(key);
  return name === key ? type : name;
}

function operator(app) {
  const v = view('operator');
  let compartments = [];
  let selected = null;
  let reason = reasons[0];
  let showingAlarms = false;
  // Compartments in inspection: open, look, close, then mark empty or occupied (settle.js).
  const settle = settlePanel(app, { onSettled: (c) => update({ ...c, fault: c.fault ?? null }), onError: (e) => fail(e) });
  v.r.detail.append(settle.el);

  const tile = (c) => {
    const b = document.createElement('button');
    b.className = 'tile';
    b.dataset.compartment = c.id;
    b.dataset.state = c.state;
    b.dataset.door = c.door;
    if (c.fault) b.dataset.fault = 'true';
    b.setAttribute('aria-pressed', String(c.id === selected));
    const head = document.createElement('span');
    head.className = 'tile-head';
    head.append(span(c.id, 'tile-id'), span(`${c.size}${c.accessible ? ' \u267f' : ''}`, 'tile-size'));
    b.append(head, span(t(`state.${c.state}`), 'tile-state'));
    // A closed door is the normal case; only an open or unknown door is worth a line.
    if (c.door !== 'closed') b.append(span(t(`doorState.${c.door}`), 'tile-door'));
    if (c.fault) b.append(span(faultName(c.fault), 'tile-fault'));
    b.onclick = () => select(c.id);
    return b;
  };
  const place = () => {
    const spots = new Set(compartments.map((c) => `${c.column}/${c.row}`));
    const placed = spots.size === compartments.length;
    return (c, el) => {
      if (placed) el.style.gridArea = `${c.row} / ${c.column}`;
      return el;
    };
  };
  const renderGrid = () => {
    const at = place();
    v.r.grid.replaceChildren(...compartments.map((c) => at(c, tile(c))));
  };
  let shownSettle = '';
  const renderDetail = () => {
    const c = compartments.find((x) => x.id === selected);
    v.r.detail.hidden = !c;
    if (!c) shownSettle = '';
    v.r.pick.hidden = Boolean(c) || showingAlarms;
    if (!c) return;
    v.r.selTitle.textContent = t('operator.compartment', { door: c.id });
    v.r.selInfo.textContent = [
      t('deposit.doorInfo', { size: c.size, column: c.column, row: c.row }),
      t(`state.${c.state}`),
      t(`doorState.${c.door}`),
      c.fault ? t('operator.fault', { fault: faultName(c.fault) }) : '',
    ]
      .filter(Boolean)
      .join(' \u00b7 ');
    v.r.reasons.replaceChildren(
      ...reasons.map((r) => {
        const b = button(t(`reason.${r}`), () => ((reason = r), renderDetail()), 'chip');
        b.setAttribute('aria-pressed', String(r === reason));
        return b;
      }),
    );
    v.r.service.textContent = t(c.state === 'out_of_service' ? 'operator.putInService' : 'operator.takeOutOfService');
    if (shownSettle !== `${c.id}/${c.fault}`) {
      shownSettle = `${c.id}/${c.fault}`;
      settle.show(c);
    }
  };
  /** What is in the compartment and its last door events (issue 11, flow 8). */
  const time = (ms) => new Date(ms).toLocaleTimeString(language(), { hour: 'numeric', minute: '2-digit' });
  const carrierName = (id) => (app.info.carriers ?? []).find((c) => c.id === id)?.name ?? id;
  const loadDetails = async (id) => {
    v.r.details.replaceChildren();
    try {
      const d = await app.authed('GET', `/api/operator/compartments/${encodeURIComponent(id)}`);
      if (selected !== id) return;
      const lines = d.parcels.map((p) => {
        const line = document.createElement('p');
        line.className = 'parcel-line';
        line.textContent = t('operator.parcel', { state: t(`parcelState.${p.state}`), carrier: carrierName(p.carrier), since: p.since ? time(p.since) : '?' });
        return line;
      });
      if (!lines.length) lines.push(Object.assign(document.createElement('p'), { className: 'parcel-line hint', textContent: t('operator.empty') }));
      const events = document.createElement('ul');
      events.className = 'list compact';
      events.append(
        ...d.doorEvents.map((e) =>
          item('row door-event', span(time(e.startedAt), 'time'), span(t(`purpose.${e.purpose}`) === `purpose.${e.purpose}` ? e.purpose : t(`purpose.${e.purpose}`)), span(e.state === 'in_flight' ? t('operator.inFlight') : e.outcome ? outcomeName(e.outcome) : '')),
        ),
      );
      const head = Object.assign(document.createElement('p'), { className: 'hint', textContent: t('operator.doorEvents') });
      // A session whose runner is gone, or a hold no placement owns (issue 11, flow 8).
      const extra = [];
      if (d.stuck) {
        const note = Object.assign(document.createElement('p'), { className: 'hint', textContent: t('operator.stuck') });
        const clear = button(t('operator.clearStuck'), () => clearStuck(id), 'secondary');
        clear.dataset.ref = 'clearStuck';
        extra.push(note, clear);
      }
      v.r.details.replaceChildren(...lines, head, events, ...extra);
    } catch (e) {
      fail(e);
    }
  };
  const clearStuck = async (id) => {
    try {
      const r = await app.authed('POST', `/api/operator/compartments/${encodeURIComponent(id)}/clear-stuck`, { reason: t(`reason.${reason}`) });
      update(r.compartment, true);
      v.r.message.textContent = t('operator.stuckCleared', { door: id });
      v.r.message.dataset.kind = 'ok';
      if (selected === id) loadDetails(id);
    } catch (e) {
      fail(e);
    }
  };
  const outcomeName = (o) => {
    const key = `outcome.${o}`;
    return t(key) !== key ? t(key) : o === o.toUpperCase() ? faultName(o) : o;
  };
  const select = (id) => {
    selected = id;
    loadDetails(id);
    showingAlarms = false;
    v.r.log.hidden = true;
    v.r.message.textContent = '';
    renderGrid();
    renderDetail();
  };
  /** whole: c is a full view (a compartment event, a reply), so a fault it lacks is gone. */
  const update = (c, whole = false) => {
    const i = compartments.findIndex((x) => x.id === c.id);
    if (i >= 0) compartments[i] = whole ? c : { ...compartments[i], ...c };
    renderGrid();
    renderDetail();
  };
  const fail = (e) => {
    if (e.handled) return;
    v.r.message.textContent = errorText(e.code);
    v.r.message.dataset.code = e.code;
    v.r.message.dataset.kind = 'error';
  };
  const load = async () => {
    try {
      compartments = (await app.authed('GET', '/api/operator/compartments')).compartments;
      renderGrid();
      renderDetail();
    } catch (e) {
      fail(e);
    }
  };
  const showLog = (title, rows) => {
    selected = null;
    renderGrid();
    renderDetail();
    v.r.pick.hidden = true;
    v.r.log.hidden = false;
    v.r.logTitle.textContent = title;
    v.r.log.querySelector('[data-ref="report"]')?.remove();
    v.r.message.textContent = '';
    v.r.logList.replaceChildren(...rows);
  };
  /** The full door test report: every compartment, tested or why not, and a summary line. */
  const showReport = (results) => {
    const byId = new Map(results.map((r) => [typeof r.compartment === 'string' ? r.compartment : r.compartment.id, r]));
    const rows = compartments.map((c) => {
      const r = byId.get(c.id);
      if (!r) return item('row skipped', span(t('operator.testSkipped', { door: c.id, state: c.fault ? faultName(c.fault) : t(`state.${c.state}`) })));
      return item(r.ok ? 'row ok' : 'row bad', span(t(r.ok ? 'operator.testOk' : 'operator.testFailed', { door: c.id, code: r.ok ? '' : errorText(r.code) })));
    });
    const ok = results.filter((r) => r.ok).length;
    showLog(t('operator.testDoors'), rows);
    const summary = document.createElement('p');
    summary.className = 'lead report';
    summary.dataset.ref = 'report';
    summary.textContent = t('operator.testSummary', { ok, bad: results.length - ok, skipped: compartments.length - byId.size });
    v.r.logTitle.after(summary);
  };
  const alarmRow = (a) =>
    item(
      'row',
      span(a.ts ? new Date(a.ts).toLocaleTimeString(language()) : '', 'time'),
      span(alarmName(a.type), 'alarm-type'),
      span(a.compartment ?? '', 'tile-id'),
    );
  const alarms = async () => {
    try {
      const list = (await app.authed('GET', '/api/operator/alarms')).alarms;
      showingAlarms = true;
      showLog(t('operator.alarms'), list.length ? list.map(alarmRow) : [item('row', span(t('operator.noAlarms')))]);
    } catch (e) {
      fail(e);
    }
  };

  v.r.open.onclick = async () => {
    const id = selected;
    try {
      await app.authed('POST', `/api/operator/compartments/${encodeURIComponent(id)}/open`, { reason });
      v.r.message.textContent = t('operator.opened', { door: id });
      v.r.message.dataset.kind = 'ok';
    } catch (e) {
      fail(e);
      // A door that did not open may have taken its compartment out of service.
      load();
    }
  };
  v.r.service.onclick = async () => {
    const c = compartments.find((x) => x.id === selected);
    if (!c) return;
    try {
      const r = await app.authed('POST', `/api/operator/compartments/${encodeURIComponent(c.id)}/service`, {
        inService: c.state === 'out_of_service',
        reason,
      });
      update(r.compartment, true);
    } catch (e) {
      fail(e);
    }
  };
  v.r.test.onclick = async () => {
    v.r.test.disabled = true;
    showLog(t('operator.testDoors'), [item('row', span(t('operator.testing')))]);
    try {
      const { results } = await app.authed('POST', '/api/operator/test-doors');
      showReport(results);
    } catch (e) {
      fail(e);
    }
    v.r.test.disabled = false;
  };
  v.r.alarms.onclick = alarms;
  v.r.logout.onclick = () => app.logout();
  load();
  return {
    el: v.el,
    homeButton: false,
    /** @param {import('../clientTypes.js').KioskEvent} ev */
    onEvent(ev) {
      if (ev.type === 'compartment') update(ev.compartment, true);
      // A jammed latch or a silent board changes a compartment without a compartment event.
      else if (ev.type === 'alarm' && ev.alarm?.compartment && !showingAlarms) load();
      else if (ev.type === 'door') update({ id: ev.compartment, door: ev.door });
      else if (ev.type === 'alarm' && showingAlarms) alarms();
    },
  };
}

export const operatorScreens = { operator };
