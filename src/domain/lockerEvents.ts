// What the locker tells the kiosk and the simulator panel while it runs (in process, not the
// outbox): door movements, compartment changes, door sessions, deposits in progress, alarms.
// The carrier and operator streams are typed in events.ts.
import { type Logger } from '../logger.js';
import { type CompartmentView, type DepositView } from './views.js';

export type LockerEvent =
  | { type: 'door'; compartment: string; door: 'open' | 'closed'; sessionId?: string }
  | { type: 'compartment'; compartment: CompartmentView }
  | { type: 'session'; sessionId: string; compartment: string; state: string }
  | { type: 'deposit'; deposit: DepositView }
  | { type: 'alarm'; alarm: { type: string; compartment?: string } }
  /** Only with demo.revealCodes: an issued pickup code, for the simulator panel. Never sent to the kiosk. */
  | { type: 'demo-code'; compartment: string; waybill: string; carrier: string; code: string };

export type Notify = (e: LockerEvent) => void;

/** The listeners of one locker; a failing listener is logged and does not stop the others. */
export class LockerNotifier {
  private readonly listeners = new Set<(e: LockerEvent) => void>();

  constructor(private readonly logger: Logger) {}

  on(listener: (e: LockerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  readonly notify: Notify = (e) => {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err }, 'locker event listener failed');
      }
    }
  };
}
