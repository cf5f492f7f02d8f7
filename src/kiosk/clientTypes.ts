// The types the kiosk page (src/kiosk/public/*.js) sees, shared with the server: the page's
// JSDoc annotations import them, and `tsc -p tsconfig.kiosk.json` checks the page against them
// (checkJs), so the page cannot test for a state the server never sends.
import { type DoorOutcome } from '../domain/doorRunner.js';
import { type CompartmentView, type DepositView } from '../domain/views.js';

export type { CompartmentView, DepositView };

/** What a door session reports on the event stream: the outcome's type. */
export type SessionState = DoorOutcome['type'];

/** One message of /api/events as the kiosk page receives it. */
export type KioskEvent =
  | { type: 'door'; compartment: string; door: 'open' | 'closed'; sessionId?: string }
  | { type: 'compartment'; compartment: CompartmentView }
  | { type: 'session'; sessionId: string; compartment: string; state: SessionState }
  | { type: 'deposit'; deposit: DepositView }
  | { type: 'alarm'; alarm: { type: string; compartment?: string } }
  /** Sent by the kiosk server itself (lockout countdown, scanner presence, pairing, scan results). */
  | { type: 'lockout' | 'scanner' | 'terminal' | 'scan-result'; [key: string]: unknown };
