// Settling an uncertain outcome in service mode (docs/architecture.md, "Uncertain outcomes"):
// a compartment in inspection shows what was going on, and once the operator has opened the
// door, looked and closed it, two buttons record the verdict: empty or occupied.
import { t } from './i18n.js';
import { button, span } from './ui.js';

/**
 * A small panel for the operator's detail view.
 * @param {{ authed: (method: string, path: string, body?: unknown) => Promise<any> }} app
 * @param {{ onSettled: (compartment: any) => void, onError: (e: any) => void }} hooks
 */
export function settlePanel(app, hooks) {
  const el = document.createElement('section');
  el.className = 'settle';
  el.dataset.ref = 'settle';
  el.hidden = true;
  const info = span('', 'settle-info');
  const empty = button(t('settle.empty'), () => settle('empty'), 'secondary');
  const occupied = button(t('settle.occupied'), () => settle('occupied'), 'secondary');
  empty.dataset.verdict = 'empty';
  occupied.dataset.verdict = 'occupied';
  el.append(info, empty, occupied);
  let current = null;

  async function settle(verdict) {
    if (!current) return;
    try {
      const r = await app.authed('POST', `/api/operator/compartments/${encodeURIComponent(current)}/settle`, { verdict });
      hooks.onSettled(r.compartment);
    } catch (e) {
      hooks.onError(e);
    }
  }

  return {
    el,
    /** Shows the panel for a compartment waiting for inspection; hides it otherwise. */
    async show(c) {
      current = c && c.fault === 'NEEDS_INSPECTION' ? c.id : null;
      el.hidden = current === null;
      if (!current) return;
      info.textContent = t('settle.howTo');
      try {
        const { inspections } = await app.authed('GET', '/api/operator/inspections');
        const i = inspections.find((x) => x.compartment === current);
        if (i && i.purpose) info.textContent = `${t('settle.what', { purpose: t(`settle.purpose.${i.purpose}`), waybill: i.waybill ?? '' })} ${t('settle.howTo')}`;
      } catch {
        // The how-to is enough.
      }
    },
  };
}
