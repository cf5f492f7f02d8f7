// Hardware facts from the DoorController that people must hear about: door movements go to
// the kiosk, a forced door, a silent or returning board and a lost or regained bus become
// alarms (with carrier events for parcels inside a forced compartment). A board that comes
// back triggers reconciliation of the sessions it left pending.
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type DoorControllerEvent } from './doorController.js';
import { Events } from './events.js';
import { type LockerAlarms } from './lockerAlarms.js';
import { type Notify } from './lockerEvents.js';

export interface HardwareAlarmDeps {
  store: Pick<LockerStore, 'parcelsIn'>;
  alarms: Pick<LockerAlarms, 'raise'>;
  views: Pick<CompartmentViews, 'one'>;
  notify: Notify;
  logger: Logger;
  /** Resolves sessions left in flight (reconcile.ts), run when a board answers again. */
  reconcile: () => Promise<unknown>;
}

export class HardwareAlarms {
  private readonly lostBuses = new Set<string>();

  constructor(private readonly d: HardwareAlarmDeps) {}

  onDoorEvent(e: DoorControllerEvent): void {
    switch (e.type) {
      case 'door':
        this.d.notify({ type: 'door', compartment: e.compartment, door: e.open ? 'open' : 'closed', sessionId: e.sessionId });
        return;
      case 'forced_open': {
        const inside = this.d.store.parcelsIn(e.compartment);
        this.d.alarms.raise(
          Events.doorForcedOpen({ compartment: e.compartment }),
          inside.map((p) => Events.parcelCompartmentForced(p.carrier, { parcelId: p.id, waybill: p.waybill, compartment: e.compartment })),
        );
        return;
      }
      case 'board_silent':
        this.d.alarms.raise(Events.boardSilent({ bus: e.bus, board: e.board, compartments: e.compartments, code: e.code }));
        for (const c of e.compartments) this.d.notify({ type: 'compartment', compartment: this.d.views.one(c) });
        return;
      case 'board_back':
        this.d.alarms.raise(Events.boardBack({ bus: e.bus, board: e.board, compartments: e.compartments }));
        for (const c of e.compartments) this.d.notify({ type: 'compartment', compartment: this.d.views.one(c) });
        void this.d.reconcile().catch((err: unknown) => this.d.logger.error({ err }, 'reconcile failed'));
        return;
      case 'transport':
        // The first connect at start is not news; a loss and a recovery are.
        if (!e.connected) {
          this.lostBuses.add(e.bus);
          this.d.alarms.raise(Events.busDisconnected({ bus: e.bus, ...(e.message ? { message: e.message } : {}) }));
        } else if (this.lostBuses.delete(e.bus)) this.d.alarms.raise(Events.busReconnected({ bus: e.bus }));
        return;
    }
  }
}
