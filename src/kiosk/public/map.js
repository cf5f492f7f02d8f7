// The cabinet map on every open-door screen (issue 11, flow 1): the layout's columns and rows
// drawn as a grid, the open door highlighted, low compartments marked; and a short kiosk sound
// when a door opens (WebAudio, where the browser has it).
import { get } from './api.js';

/** @type {Promise<any> | null} */
let layout = null;

/** Draws the cabinet into container with door `openId` highlighted; later calls move the highlight. */
export function showMap(container, openId) {
  // Fetched once per page; a failed fetch is tried again on the next door.
  layout ??= get('/api/layout').catch(() => (layout = null));
  container.classList.add('cabinet-map');
  container.setAttribute('aria-hidden', 'true');
  layout.then((l) => {
    if (!l?.compartments) return;
    container.style.gridTemplateColumns = `repeat(${l.columns}, 1fr)`;
    container.style.gridTemplateRows = `repeat(${l.rows}, 1fr)`;
    container.replaceChildren(
      ...l.compartments.map((c) => {
        const cell = document.createElement('span');
        cell.className = `cell${c.id === openId ? ' open' : ''}${c.accessible ? ' low' : ''}`;
        cell.dataset.compartment = c.id;
        cell.style.gridColumn = String(c.column);
        cell.style.gridRow = String(c.row);
        cell.textContent = c.id === openId ? c.id : '';
        return cell;
      }),
    );
    container.dataset.open = openId;
    container.dataset.drawn = 'true';
  });
}

/** @type {AudioContext | null} */
let audio = null;

/** A short beep: 'door' (a door opened for you) or 'error'. Silent where there is no audio. */
export function soundCue(kind = 'door') {
  try {
    if (!window.AudioContext) return false;
    audio ??= new AudioContext();
    if (audio.state === 'suspended') audio.resume().catch(() => {});
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = kind === 'error' ? 330 : 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + (kind === 'error' ? 0.4 : 0.15));
    return true;
  } catch {
    return false;
  }
}

