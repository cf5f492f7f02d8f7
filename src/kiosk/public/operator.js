// Operator service mode: the compartment grid with live states and faults, one door opened
// with a reason, in and out of service, a test of all doors, and the recent alarms.
import { t, language } from './i18n.js';
import { view, button, item, span } from './ui.js';
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
    if (c.fault) b.append(span(c.fault, 'tile-fault'));
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
      c.fault ? t('operator.fault', { fault: c.fault }) : '',
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
  const select = (id) => {
    selected = id;
    showingAlarms = false;
    v.r.log.hidden = true;
    v.r.message.textContent = '';
    renderGrid();
    renderDetail();
  };
  const update = (c) => {
    const i = compartments.findIndex((x) => x.id === c.id);
    if (i >= 0) compartments[i] = { ...compartments[i], ...c };
    renderGrid();
    renderDetail();
  };
  const fail = (e) => {
    if (e.handled) return;
    v.r.message.textContent = t('operator.failed', { code: e.code });
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
    v.r.message.textContent = '';
    v.r.logList.replaceChildren(...rows);
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
      update(r.compartment);
    } catch (e) {
      fail(e);
    }
  };
  v.r.test.onclick = async () => {
    v.r.test.disabled = true;
    showLog(t('operator.testDoors'), [item('row', span(t('operator.testing')))]);
    try {
      const { results } = await app.authed('POST', '/api/operator/test-doors');
      showLog(
        t('operator.testDoors'),
        results.map((r) => {
          const id = typeof r.compartment === 'string' ? r.compartment : r.compartment.id;
          return item(r.ok ? 'row ok' : 'row bad', span(t(r.ok ? 'operator.testOk' : 'operator.testFailed', { door: id, code: r.code ?? '' })));
        }),
      );
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
      if (ev.type === 'compartment') update(ev.compartment);
      else if (ev.type === 'door') update({ id: ev.compartment, door: ev.door });
      else if (ev.type === 'alarm' && showingAlarms) alarms();
    },
  };
}

export const operatorScreens = { operator };
