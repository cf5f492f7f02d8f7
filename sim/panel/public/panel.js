// The simulator panel: the simulated locker as lockerd sees it on /sim/state, kept live by
// /sim/events, with the person's and the faults' buttons. Every button is one /sim/* call.

const $ = (id) => document.getElementById(id);
let state = { locks: [], boards: [], scanner: { plugged: true } };
const codes = [];

async function call(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data.error ?? {};
    log('error', `${path}: ${e.code ?? res.status} ${e.message ?? ''}`);
    throw new Error(e.code ?? String(res.status));
  }
  return data;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  e.append(...children);
  return e;
}

function act(label, path, title) {
  const b = el('button', { textContent: label, title: title ?? '' });
  b.addEventListener('click', () => call(path).then(refresh, () => {}));
  return b;
}

function where(p) {
  return p ? `${p.bus}/${p.board}/${p.lock}` : '';
}

function lockButtons(id, l) {
  const buttons = el(
    'div',
    { className: 'actions' },
    act('Close', `/sim/compartments/${id}/close`, 'the person closes the door'),
    act('Put', `/sim/compartments/${id}/put`, 'put a parcel in (door must be open)'),
    act('Take', `/sim/compartments/${id}/take`, 'take the parcel out (door must be open)'),
    l.jammed ? act('Unjam', `/sim/compartments/${id}/unjam`) : act('Jam', `/sim/compartments/${id}/jam`, 'the latch will not release'),
    act('Force', `/sim/compartments/${id}/force-open`, 'pull the door open without an unlock'),
    act('Bounce', `/sim/compartments/${id}/bounce`, 'next unlock: opens and re-latches at once'),
  );
  for (const b of buttons.children) {
    if ((b.textContent === 'Close' || b.textContent === 'Put' || b.textContent === 'Take') && !l.doorOpen) b.disabled = true;
    if (b.textContent === 'Force' && l.doorOpen) b.disabled = true;
  }
  return buttons;
}

/** The compartment's LED (hardware.indicator), where it has one. */
function ledFlag(id) {
  const leds = state.indicator?.leds ?? {};
  if (!(id in leds)) return [];
  return [el('span', { className: `flag led ${leds[id] ? 'lit' : ''}`, textContent: leds[id] ? 'LED on' : 'LED off' })];
}

/** One compartment: lockerd's own view (from its API) beside the world's (door, latch, item). */
function card(c) {
  const l = c.world ?? { doorOpen: false, latched: true, itemPresent: false, jammed: false };
  const id = encodeURIComponent(c.id);
  const world = el(
    'div',
    { className: 'flags' },
    el('span', { className: 'who', textContent: 'world' }),
    el('span', { className: `flag ${l.doorOpen ? 'open' : ''}`, textContent: l.doorOpen ? 'open' : 'closed' }),
    el('span', { className: 'flag', textContent: l.latched ? 'latched' : 'unlatched' }),
    el('span', { className: `flag ${l.itemPresent ? 'item' : ''}`, textContent: l.itemPresent ? 'parcel' : 'empty' }),
    ...(l.jammed ? [el('span', { className: 'flag bad', textContent: 'jammed' })] : []),
    ...ledFlag(c.id),
  );
  const p = c.parcel;
  const mine = el(
    'div',
    { className: 'flags' },
    el('span', { className: 'who', textContent: 'lockerd' }),
    el('span', { className: `flag state-${c.state}`, textContent: c.state.replaceAll('_', ' ') }),
    ...(c.fault ? [el('span', { className: 'flag bad', textContent: c.fault })] : []),
    ...(p ? [el('span', { className: `flag parcel-${p.state}`, textContent: `${p.waybill} ${p.state.replace('_', ' ')}` })] : []),
  );
  return el(
    'article',
    { className: `lock ${l.doorOpen ? 'is-open' : ''} ${l.jammed ? 'is-jammed' : ''}` },
    el('h3', {}, el('span', { textContent: c.id }), el('small', { textContent: `${c.size}${c.accessible ? ' · low' : ''} · c${c.column} r${c.row}` })),
    mine,
    world,
    lockButtons(id, l),
  );
}

function renderLocks() {
  // Cabinet order: one column per layout column, its doors top to bottom (the server sorts).
  const columns = new Map();
  for (const c of state.compartments ?? []) {
    if (!columns.has(c.column)) columns.set(c.column, []);
    const a = card(c);
    a.dataset.compartment = c.id;
    columns.get(c.column).push(a);
  }
  $('locks').replaceChildren(...[...columns.values()].map((cards) => el('div', { className: 'cabinet-column' }, ...cards)));
}

function renderCarriers() {
  const list = state.carriers ?? [];
  $('carriers').replaceChildren(...list.map((c) => el('li', {}, el('b', { textContent: c.name }), ` ${c.id} · pickup within ${c.dwellHours} h`)));
  const select = document.querySelector('#reserve [name=carrier]');
  const chosen = select.value || localStorage.getItem('sim.carrier') || '';
  select.replaceChildren(...list.map((c) => el('option', { value: c.id, textContent: c.name })));
  if (list.some((c) => c.id === chosen)) select.value = chosen;
}

function renderClock() {
  const c = state.clock ?? { now: Date.now(), offsetMs: 0, movable: false };
  const hours = Math.round(c.offsetMs / 360_000) / 10;
  $('clock').textContent = `${new Date(c.now).toLocaleString()}${hours ? ` (+${hours} h)` : ''}`;
  for (const b of document.querySelectorAll('[data-hours], #clock-advance')) b.disabled = !c.movable;
}

/** Moves lockerd's clock on (sim only): parcels past their time expire at once. */
function advance(hours) {
  if (hours > 0) call('/sim/clock/advance', { hours }).then(refresh, () => {});
}

function renderBoards() {
  const rows = state.boards.map((b) =>
    el(
      'div',
      { className: `board ${b.silent ? 'bad' : ''}` },
      el('span', { textContent: `${b.bus} board ${b.board}${b.silent ? ' (silent)' : ''}` }),
      b.silent ? act('Restore', `/sim/boards/${encodeURIComponent(b.bus)}/${b.board}/restore`) : act('Silence', `/sim/boards/${encodeURIComponent(b.bus)}/${b.board}/silence`),
    ),
  );
  const buses = [...new Set(state.boards.map((b) => b.bus))].map((bus) => {
    const count = el('input', { type: 'number', min: 1, max: 50, value: 3, className: 'count', title: 'replies to corrupt' });
    const fault = (kind) => {
      const b = el('button', { textContent: kind });
      b.addEventListener('click', () => call(`/sim/buses/${encodeURIComponent(bus)}/${kind}`, { count: Number(count.value) || 1 }).then(refresh, () => {}));
      return b;
    };
    return el('div', { className: 'board' }, el('span', { textContent: `${bus} replies` }), count, fault('garble'), fault('truncate'));
  });
  $('boards').replaceChildren(...rows, ...buses);
  const buzzer = state.indicator;
  $('buzzer').textContent = buzzer ? `${buzzer.buzzer ? 'sounding' : 'quiet'} · ${buzzer.beeps} beeps` : 'none';
  $('buzzer').className = `pill ${buzzer?.buzzer ? 'ok' : ''}`;
  const plugged = state.scanner?.plugged !== false;
  $('scanner').textContent = plugged ? 'plugged in' : 'unplugged';
  $('scanner').className = `pill ${plugged ? 'ok' : 'bad'}`;
}

function renderCodes() {
  const known = new Set(codes.map((c) => `${c.carrier}/${c.waybill}`));
  for (const c of state.revealedCodes ?? []) if (!known.has(`${c.carrier}/${c.waybill}`)) codes.push(c);
  $('codes').replaceChildren(
    ...codes.map((c) => {
      // A click scans the code at the kiosk: home reads it as a pickup, the drop-off screen as a drop-off.
      const code = c.code ? el('button', { className: 'code', textContent: c.code, title: 'scan it at the kiosk' }) : el('b', { textContent: '(chosen at deposit)' });
      if (c.code) {
        code.dataset.code = c.code;
        code.addEventListener('click', () => call('/sim/scanner/scan', { text: c.code }).catch(() => {}));
      }
      return el('li', {}, code, ` ${c.kind} ${c.waybill} · ${c.carrier}`);
    }),
  );
}

let pending = 0;
async function refresh() {
  clearTimeout(pending);
  try {
    const res = await fetch('/sim/state', { cache: 'no-store' });
    state = await res.json();
    renderLocks();
    renderBoards();
    renderCodes();
    renderCarriers();
    renderClock();
  } catch {
    $('link').textContent = 'lockerd not reachable';
  }
}
const refreshSoon = () => {
  clearTimeout(pending);
  pending = setTimeout(refresh, 50);
};

function describe(ev) {
  switch (ev.type) {
    case 'lock': {
      const s = ev.state ?? ev;
      const name = ev.compartment ?? where(s.position);
      return `${name}: ${ev.cause}, door ${s.doorOpen ? 'open' : 'closed'}${s.itemPresent ? ', parcel inside' : ''}${s.jammed ? ', jammed' : ''}`;
    }
    case 'stored':
      return `${ev.waybill} stored in ${ev.compartment}`;
    case 'deposit':
      return `${ev.kind} ${ev.waybill} at ${ev.compartment}: ${ev.state}`;
    case 'compartment': {
      // The waybill that was there, for a door freed by a pickup or a collection.
      const was = (state.compartments ?? []).find((c) => c.id === ev.compartment)?.parcel;
      return `${ev.compartment} now ${ev.state.replaceAll('_', ' ')}${was && ev.state === 'free' ? ` (${was.waybill} taken out)` : ''}`;
    }
    case 'clock':
      return `clock moved on ${ev.hours} h (now +${Math.round(ev.offsetMs / 360_000) / 10} h)${ev.expired ? `, ${ev.expired} parcel(s) expired` : ''}`;
    case 'board':
      return `${ev.bus} board ${ev.board} ${ev.silent ? 'silent' : 'answers again'}`;
    case 'bus-fault':
      return `${ev.bus}: ${ev.fault ? `${ev.fault.kind} next ${ev.fault.remaining}` : 'replies clean'}`;
    case 'scanner':
      return `scanner ${ev.plugged ? 'plugged in' : 'unplugged'}`;
    case 'scan':
      return typeof ev.bytes === 'number' ? `scanner sent ${ev.bytes} bytes` : `scanned ${ev.text ?? ''}`;
    default:
      return JSON.stringify(ev);
  }
}

function log(type, text) {
  const list = $('events');
  list.prepend(el('li', { className: type === 'error' ? 'bad' : '' }, el('time', { textContent: new Date().toLocaleTimeString() }), el('b', { textContent: type }), ` ${text}`));
  while (list.children.length > 80) list.lastChild.remove();
}

function listen(url, onEvent) {
  const source = new EventSource(url);
  source.onmessage = (m) => {
    try {
      onEvent(JSON.parse(m.data));
    } catch {
      /* a keep-alive or a line that is not JSON */
    }
  };
  return source;
}

const sim = listen('/sim/events', (ev) => {
  // The buzzer and LEDs switch often (every beep): shown on the cards and the pill, not logged.
  if (ev.type !== 'indicator') log(ev.type, describe(ev));
  refreshSoon();
});
sim.onopen = () => {
  $('link').textContent = 'live';
  $('link').className = 'pill ok';
  refresh();
};
sim.onerror = () => {
  $('link').textContent = 'reconnecting…';
  $('link').className = 'pill bad';
};

// What the kiosk is told: door sessions, stored deposits and alarms.
listen('/api/events', (ev) => {
  if (ev.type === 'session') log('session', `${ev.compartment}: ${ev.state}`);
  else if (ev.type === 'deposit') log('deposit', `${ev.deposit.waybill ?? ev.deposit.id} in ${ev.deposit.compartment?.id ?? '?'}: ${ev.deposit.state}`);
  else if (ev.type === 'alarm') log('alarm', `${ev.alarm.type}${ev.alarm.compartment ? ` at ${ev.alarm.compartment}` : ''}`);
});

$('scan-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('scan-text').value;
  if (text) call('/sim/scanner/scan', { text }).then(() => ($('scan-text').value = ''), () => {});
});
for (const b of document.querySelectorAll('[data-scanner]')) {
  b.addEventListener('click', () => call(`/sim/scanner/${b.dataset.scanner}`).then(refresh, () => {}));
}
$('reserve').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const carrier = String(f.get('carrier') ?? '').trim();
  const body = { waybill: String(f.get('waybill')).trim(), size: f.get('size'), kind: f.get('kind') };
  if (f.get('code')) body.code = String(f.get('code')).trim();
  try {
    const r = await call(`/sim/carriers/${encodeURIComponent(carrier)}/reservations`, body);
    $('reserve-result').textContent = `announced: ${JSON.stringify(r)}`;
    codes.unshift({ carrier, kind: body.kind, waybill: body.waybill, code: r.code ?? body.code });
    renderCodes();
    localStorage.setItem('sim.carrier', carrier);
  } catch (err) {
    $('reserve-result').textContent = `refused: ${err.message}`;
  }
});
for (const b of document.querySelectorAll('[data-hours]')) b.addEventListener('click', () => advance(Number(b.dataset.hours)));
$('clock-advance').addEventListener('click', () => advance(Number($('clock-hours').value)));
refresh();
