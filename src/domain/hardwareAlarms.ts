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
  store: Pick<LockerStore, 'parcelsIn' | 'setting' | 'putSetting'>;
  alarms: Pick<LockerAlarms, 'raise'>;
  views: Pick<CompartmentViews, 'one'>;
  notify: Notify;
  logger: Logger;
  /** Resolves sessions left in flight (reconcile.ts), run when a board answers again. */
  reconcile: () => Promise<unknown>;
}

/** The settings key that says an alarm.bus_disconnected is open for a bus (survives restarts). */
export function busOutageKey(bus: string): string {
  return `outage.bus.${bus}`;
}

export class HardwareAlarms {
  constructor(private readonly d: HardwareAlarmDeps) {}

  /** Whether an outage alarm is open for the bus: raised, and no bus_reconnected since (persisted). */
  private outageOpen(bus: string): boolean {
    return this.d.store.setting(busOutageKey(bus)) === 'open';
  }

  private markOutage(bus: string, open: boolean): void {
    try {
      this.d.store.putSetting(busOutageKey(bus), open ? 'open' : 'closed');
    } catch (err) {
      // A full disk must not turn a bus event into a crash; the alarm itself was logged.
      this.d.logger.error({ err, bus }, 'could not record the bus outage state');
    }
  }

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
      case 'all_doors_open':
        this.d.alarms.raise(Events.boardAllOpen({ bus: e.bus, board: e.board, compartments: e.compartments }));
        return;
      case 'board_back':
        this.d.alarms.raise(Events.boardBack({ bus: e.bus, board: e.board, compartments: e.compartments }));
        for (const c of e.compartments) this.d.notify({ type: 'compartment', compartment: this.d.views.one(c) });
        void this.d.reconcile().catch((err: unknown) => this.d.logger.error({ err }, 'reconcile failed'));
        return;
      case 'transport':
        // One alarm per outage, not per start: the open outage is stored, so a restart while the
        // adapter is still missing raises nothing new, and the connect that ends it (in this
        // process or a later one) raises bus_reconnected. The first connect at start is not news.
        if (!e.connected) {
          if (this.outageOpen(e.bus)) return;
          this.d.alarms.raise(Events.busDisconnected({ bus: e.bus, ...(e.message ? { message: e.message } : {}) }));
          this.markOutage(e.bus, true);
        } else if (this.outageOpen(e.bus)) {
          this.d.alarms.raise(Events.busReconnected({ bus: e.bus }));
          this.markOutage(e.bus, false);
          // Sessions left pending while the line was down can be read now.
          void this.d.reconcile().catch((err: unknown) => this.d.logger.error({ err }, 'reconcile failed'));
        }
        return;
    }
  }
}
