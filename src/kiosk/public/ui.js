// Building blocks shared by the screens: templates, buttons, the keypad and the keyboard.
import { t, translate } from './i18n.js';

/**
 * Clones <template id="t-name">, translates it and collects its data-ref elements.
 * @param {string} name
 * @returns {{ el: any, r: Record<string, any> }}
 */
export function view(name) {
  const template = /** @type {HTMLTemplateElement} */ (document.getElementById(`t-${name}`));
  const el = /** @type {HTMLElement} */ (template.content.firstElementChild.cloneNode(true));
  translate(el);
  /** @type {Record<string, any>} */
  const r = {};
  for (const x of /** @type {NodeListOf<HTMLElement>} */ (el.querySelectorAll('[data-ref]'))) r[x.dataset.ref] = x;
  return { el, r };
}

export function button(label, onClick, className = 'secondary') {
  const b = document.createElement('button');
  b.className = className;
  b.textContent = label;
  b.addEventListener('click', onClick);
  return b;
}

export function item(className, ...children) {
  const el = document.createElement('li');
  el.className = className;
  el.append(...children);
  return el;
}

export function span(text, className = '') {
  const s = document.createElement('span');
  s.className = className;
  s.textContent = text;
  return s;
}

/** The catalogue's words for an error code (code.<CODE>); the generic text for a code it lacks. */
export function errorText(code) {
  const key = `code.${code}`;
  const text = t(key);
  return text === key ? t('error.text') : text;
}

/** A fault of a compartment by name (fault.<CODE>, else an operator's reason); as stored otherwise. */
export function faultName(fault) {
  for (const key of [`fault.${fault}`, `reason.${fault}`]) {
    const text = t(key);
    if (text !== key) return text;
  }
  return String(fault);
}

export function formatClock(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return t('time.clock', { m: Math.floor(s / 60), s: String(s % 60).padStart(2, '0') });
}

/** Digit keypad. onChange gets the whole value after every press. */
export function keypad(container, { max, onChange }) {
  let value = '';
  const set = (v) => {
    value = v.slice(0, max);
    onChange(value);
  };
  const press = (k) => {
    if (/^\d$/.test(k)) {
      if (value.length < max) set(value + k);
    } else if (k === 'Backspace') set(value.slice(0, -1));
    else if (k === 'Escape') set('');
  };
  for (const k of ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'Escape', '0', 'Backspace']) {
    const b = button(k, () => press(k), 'key');
    b.dataset.key = k;
    if (k === 'Escape') b.textContent = t('common.clear');
    if (k === 'Backspace') {
      b.textContent = '\u232b';
      b.setAttribute('aria-label', t('common.delete'));
    }
    if (k.length > 1) b.classList.add('key-fn');
    container.append(b);
  }
  return { press, set, get value() { return value; } };
}

const rows = ['1234567890', 'qwertyuiop', 'asdfghjkl-', '^zxcvbnm.<'];

/** Letters and digits for IDs and waybills. onKey gets a character, 'Backspace' or 'Enter'. */
export function keyboard(container, { upper = false, onKey }) {
  let caps = upper;
  const letters = [];
  for (const row of rows) {
    const line = document.createElement('div');
    line.className = 'keyrow';
    for (const ch of row) {
      let b;
      if (ch === '^') {
        b = button('\u21e7', () => setCaps(!caps), 'key key-fn');
        b.setAttribute('aria-label', t('common.shift'));
        b.dataset.key = 'Shift';
      } else if (ch === '<') {
        b = button('\u232b', () => onKey('Backspace'), 'key key-fn');
        b.setAttribute('aria-label', t('common.delete'));
        b.dataset.key = 'Backspace';
      } else {
        b = button(ch, () => onKey(caps ? ch.toUpperCase() : ch), 'key');
        b.dataset.key = ch;
        if (/[a-z]/.test(ch)) letters.push(b);
      }
      line.append(b);
    }
    container.append(line);
  }
  function setCaps(on) {
    caps = on;
    for (const b of letters) b.textContent = on ? b.dataset.key.toUpperCase() : b.dataset.key;
    container.querySelector('[data-key="Shift"]').setAttribute('aria-pressed', String(on));
  }
  setCaps(caps);
  return { setCaps };
}

/** Applies a keyboard key to a text value of at most max characters. */
export function edit(value, key, max = 64) {
  if (key === 'Backspace') return value.slice(0, -1);
  if (key.length === 1 && /[A-Za-z0-9._-]/.test(key) && value.length < max) return value + key;
  return value;
}
