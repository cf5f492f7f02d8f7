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

function renderLocks() {
  const cards = state.locks.map((l) => {
    const id = encodeURIComponent(l.compartment);
    const flags = el(
      'div',
      { className: 'flags' },
      el('span', { className: `flag ${l.doorOpen ? 'open' : ''}`, textContent: l.doorOpen ? 'open' : 'closed' }),
      el('span', { className: 'flag', textContent: l.latched ? 'latched' : 'unlatched' }),
      el('span', { className: `flag ${l.itemPresent ? 'item' : ''}`, textContent: l.itemPresent ? 'parcel' : 'empty' }),
      ...(l.jammed ? [el('span', { className: 'flag bad', textContent: 'jammed' })] : []),
    );
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
    return el(
      'article',
      { className: `lock ${l.doorOpen ? 'is-open' : ''} ${l.jammed ? 'is-jammed' : ''}` },
      el('h3', {}, el('span', { textContent: l.compartment }), el('small', { textContent: where(l.position) })),
      flags,
      buttons,
    );
  });
  $('locks').replaceChildren(...cards);
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
  const plugged = state.scanner?.plugged !== false;
  $('scanner').textContent = plugged ? 'plugged in' : 'unplugged';
  $('scanner').className = `pill ${plugged ? 'ok' : 'bad'}`;
}

function renderCodes() {
  const known = new Set(codes.map((c) => `${c.carrier}/${c.waybill}`));
  for (const c of state.revealedCodes ?? []) if (!known.has(`${c.carrier}/${c.waybill}`)) codes.push(c);
  $('codes').replaceChildren(
    ...codes.map((c) => el('li', {}, el('b', { textContent: c.code ?? '(chosen at deposit)' }), ` ${c.kind} ${c.waybill} · ${c.carrier}`)),
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
  log(ev.type, describe(ev));
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
  const carrier = String(f.get('carrier')).trim();
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
document.querySelector('#reserve [name=carrier]').value = localStorage.getItem('sim.carrier') ?? '';
refresh();
