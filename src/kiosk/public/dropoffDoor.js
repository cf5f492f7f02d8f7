// A consumer's drop-off door, like a courier's deposit (issue 11, flow 4): "Does not fit" opens
// the next larger free door (the first must be closed empty and is then released by lockerd),
// and "Cancel" asks for the parcel back and the door closed; the code stays valid.
// Every call shows the drop-off's starter secret, held only by this screen.
import { post } from './api.js';
import { t } from './i18n.js';
import { button } from './ui.js';

const path = (opened, what) => `/api/dropoff/${encodeURIComponent(opened.dropoffId)}/${what}`;

/** Fills the door screen's actions; state.cancelling tells the screen a cancel was asked. */
export function dropoffActions(app, v, { opened, code, state }) {
  const tooSmall = async () => {
    const nav = app.nav;
    try {
      const { deposit } = await post(path(opened, 'wrong-size'), {}, opened.secret);
      if (app.nav !== nav) return;
      if (deposit.compartment.id === opened.compartment.id) {
        v.r.note.textContent = t('dropoff.noLarger');
        return;
      }
      const next = { ...opened, deposit, compartment: deposit.compartment, sessionId: deposit.sessionId ?? deposit.id };
      app.go('door-open', { mode: 'dropoff', opened: next, code, emptyOld: opened.compartment.id });
    } catch (e) {
      if (app.nav === nav) v.r.note.textContent = t(e.code === 'NO_COMPARTMENT_FREE' ? 'dropoff.noLarger' : 'error.text');
    }
  };
  const cancel = async () => {
    try {
      await post(path(opened, 'cancel'), {}, opened.secret);
      state.cancelling = true;
      v.r.step.textContent = t('dropoff.cancelStep');
      v.r.note.textContent = '';
      v.r.actions.replaceChildren();
    } catch {
      v.r.note.textContent = t('error.text');
    }
  };
  v.r.actions.replaceChildren(button(t('deposit.wrongSize'), tooSmall, 'secondary'), button(t('dropoff.cancel'), cancel, 'secondary'));
}
