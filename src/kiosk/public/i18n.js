// Message catalogues: every word on the kiosk comes from i18n/<language>.json.
// Markup names its text with data-i18n (text), data-i18n-label (aria-label).

const catalogues = new Map();
let current = 'en';

export async function loadLanguage(code) {
  if (!catalogues.has(code)) {
    const res = await fetch(`i18n/${code}.json`);
    if (!res.ok) throw new Error(`no catalogue for ${code}`);
    catalogues.set(code, await res.json());
  }
  current = code;
  document.documentElement.lang = code;
  return catalogues.get(code);
}

export const language = () => current;

/** The catalogue entry for key in a language, placeholders {name} filled from vars. */
export function t(key, vars, lang = current) {
  const text = catalogues.get(lang)?.[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function translate(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}
