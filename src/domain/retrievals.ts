// Retrieval transactions (consumer pickup, courier collection, operator remote open), the
// mirror of placements.ts: runs the retrieval machine of transactions.ts over one door session
// and commits when the door is seen open. A jam never consumes a code: the compartment goes
// out of service, the parcel stays where it is. A door that opens fine after a jam is put
// back in service (jam recovery).
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes, type ErrorCode, toLockerError } from '../../kernel/errors.js';
import { type IdFactory } from '../ids.js';
import { type Logger } from '../logger.js';
import { type LockerStore, type ParcelRow } from '../store/lockerStore.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type DoorController } from './doorController.js';
import { doorInputOf } from './doorOutcomes.js';
import { type EventRecorder } from './eventRecorder.js';
import { type CarrierEvent, Events } from './events.js';
import { type LockerAlarms } from './lockerAlarms.js';
import { type Notify } from './lockerEvents.js';
import { type RetrievalState, stepRetrieval } from './transactions.js';
import { type UncertainOutcome } from './transactions.js';
import { type Actor, actorName, type CourierIdentity, type DoorOpened } from './views.js';

export interface RetrievalDeps {
  store: Pick<LockerStore, 'insertSession' | 'endSession' | 'transitionParcel' | 'compartment' | 'setService'>;
  doors: Pick<DoorController, 'busy' | 'reachable' | 'open' | 'position' | 'busConnected'>;
  recorder: Pick<EventRecorder, 'commit'>;
  /** Records an outcome the sensors cannot tell (Inspections.record). */
  uncertain: (u: UncertainOutcome) => void;
  alarms: Pick<LockerAlarms, 'latchJammed' | 'doorLeftOpen'>;
  views: Pick<CompartmentViews, 'one'>;
  clock: Clock;
  newId: IdFactory;
  logger: Logger;
  notify: Notify;
}

interface RetrievalSpec {
  compartmentId: string;
  purpose: 'pickup' | 'collect' | 'remote_open';
  actor: Actor;
  context: Record<string, unknown>;
  commit: (sessionId: string, now: number) => void;
  /** Carrier events recorded with the jam alarm (a pickup tells the carrier it failed). */
  onJam?: (code: ErrorCode) => CarrierEvent[];
  /** The parcel a pickup or collection moves (its compare-and-set can fail; see conflict()). */
  parcelId?: string;
  /** Who owns that parcel, for its outcome_uncertain event. */
  parcel?: { carrier: string; waybill: string };
}

export class Retrievals {
  constructor(private readonly d: RetrievalDeps) {}

  /** The consumer takes a stored parcel; resolves when the door is seen open. */
  pickup(parcel: ParcelRow): Promise<DoorOpened> {
    const compartment = mustHaveCompartment(parcel);
    return this.run({
      compartmentId: compartment,
      purpose: 'pickup',
      actor: { kind: 'consumer' },
      context: { parcelId: parcel.id, carrier: parcel.carrier, waybill: parcel.waybill },
      parcelId: parcel.id,
      parcel,
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          {
            actor: 'consumer',
            action: 'parcel.picked_up',
            subject: parcel.id,
            data: { compartment, sessionId },
            events: [Events.parcelPickedUp(parcel.carrier, { parcelId: parcel.id, waybill: parcel.waybill, compartment, pickedUpAt: now })],
          },
          () => {
            this.d.store.transitionParcel(parcel.id, 'stored', 'picked_up', now);
            this.d.store.endSession(sessionId, 'done', 'picked_up', now);
          },
        ),
      onJam: (code) => [Events.parcelPickupFailed(parcel.carrier, { parcelId: parcel.id, waybill: parcel.waybill, reason: code })],
    });
  }

  /** A courier takes back an expired parcel or collects a drop-off of its carrier. */
  collect(parcel: ParcelRow, courier: CourierIdentity): Promise<DoorOpened> {
    const compartment = mustHaveCompartment(parcel);
    const from = parcel.state;
    const next = from === 'expired' ? 'retrieved' : 'collected';
    const actor: Actor = { kind: 'courier', courier };
    return this.run({
      compartmentId: compartment,
      purpose: 'collect',
      actor,
      context: { parcelId: parcel.id, carrier: parcel.carrier, waybill: parcel.waybill },
      parcelId: parcel.id,
      parcel,
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          {
            actor: actorName(actor),
            action: from === 'expired' ? 'parcel.retrieved' : 'dropoff.collected',
            subject: parcel.id,
            data: { compartment, sessionId },
            events: [
              from === 'expired'
                ? Events.parcelRetrieved(parcel.carrier, { parcelId: parcel.id, waybill: parcel.waybill, compartment, courier: courier.courierId, retrievedAt: now })
                : Events.dropoffCollected(parcel.carrier, { parcelId: parcel.id, waybill: parcel.waybill, compartment, courier: courier.courierId, collectedAt: now }),
            ],
          },
          () => {
            this.d.store.transitionParcel(parcel.id, from, next, now);
            this.d.store.endSession(sessionId, 'done', next, now);
          },
        ),
    });
  }

  /** The operator opens a door (reason required); commits when it is seen open. */
  remoteOpen(compartmentId: string, reason: string, actor: Actor): Promise<DoorOpened> {
    return this.run({
      compartmentId,
      purpose: 'remote_open',
      actor,
      context: { reason },
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          { actor: actorName(actor), action: 'door.remote_open', subject: compartmentId, data: { reason, sessionId }, events: [Events.doorRemoteOpened({ compartment: compartmentId, reason, by: actorName(actor), at: now })] },
          () => this.d.store.endSession(sessionId, 'done', 'opened', now),
        ),
    });
  }

  private run(o: RetrievalSpec): Promise<DoorOpened> {
    const sessionId = this.d.newId();
    const now = this.d.clock.now();
    if (this.d.doors.busy(o.compartmentId)) throw new LockerError(ErrorCodes.DOOR_BUSY, `door ${o.compartmentId} is in use`, { compartment: o.compartmentId });
    if (!this.d.doors.reachable(o.compartmentId)) {
      const bus = this.d.doors.position(o.compartmentId)?.bus;
      // The real cause: a lost line, not a silent board.
      if (bus !== undefined && !this.d.doors.busConnected(bus))
        throw new LockerError(ErrorCodes.BUS_DISCONNECTED, `the lock bus of ${o.compartmentId} is disconnected`, { compartment: o.compartmentId, bus });
      throw new LockerError(ErrorCodes.BOARD_SILENT, `the board of ${o.compartmentId} does not answer`, { compartment: o.compartmentId });
    }
    this.d.recorder.commit({ actor: actorName(o.actor), action: `${o.purpose}.unlock`, subject: o.compartmentId, data: { sessionId } }, () =>
      this.d.store.insertSession({ id: sessionId, compartmentId: o.compartmentId, purpose: o.purpose, actor: actorName(o.actor), context: o.context, startedAt: now }),
    );
    return new Promise<DoorOpened>((resolve, reject) => {
      let state: RetrievalState = { tag: 'opening', compartment: o.compartmentId };
      const step = (input: Parameters<typeof stepRetrieval>[1]): void => {
        const t = stepRetrieval(state, input);
        state = t.state;
        for (const e of t.effects) {
          try {
            if (e.type === 'commit') {
              o.commit(sessionId, this.d.clock.now());
              this.recoverIfJammed(o.compartmentId, o.actor);
              resolve({ sessionId, compartment: this.d.views.one(o.compartmentId) });
            } else if (e.type === 'uncertain') {
              this.uncertain(o, sessionId, e.door, e.cause);
              reject(
                new LockerError(
                  e.cause,
                  o.parcelId
                    ? `the connection to the lock boards was lost after door ${o.compartmentId} was unlocked; the compartment is held for an operator to check`
                    : `the connection to the lock boards was lost after door ${o.compartmentId} was unlocked`,
                  { compartment: o.compartmentId, inspection: o.parcelId !== undefined },
                ),
              );
            } else if (e.type === 'out_of_service') {
              this.d.alarms.latchJammed(o.compartmentId, sessionId, this.d.clock.now(), o.onJam?.(e.fault) ?? []);
            } else if (e.type === 'failed') {
              if (e.code !== ErrorCodes.LATCH_JAMMED)
                this.d.recorder.commit({ actor: 'system', action: `${o.purpose}.failed`, subject: o.compartmentId, data: { code: e.code } }, () => this.d.store.endSession(sessionId, 'failed', e.code, this.d.clock.now()));
              reject(
                new LockerError(e.code, e.code === ErrorCodes.LATCH_JAMMED ? `door ${o.compartmentId} did not open; the code stays valid` : `door ${o.compartmentId} could not be opened`, {
                  compartment: o.compartmentId,
                  codeStillValid: o.purpose === 'pickup',
                  // Whose parcel it is: the kiosk shows that carrier's support contact.
                  ...(o.parcel ? { carrier: o.parcel.carrier } : {}),
                }),
              );
            }
          } catch (err) {
            const failure = toLockerError(err);
            if (e.type === 'commit' && failure.code === ErrorCodes.TRANSACTION_STATE && o.parcelId && o.purpose !== 'remote_open') {
              reject(this.conflict(o, o.parcelId, sessionId, failure));
              continue;
            }
            this.d.logger.error({ err, compartment: o.compartmentId }, 'retrieval step failed');
            reject(failure);
          }
        }
      };
      try {
        this.d.doors.open(o.compartmentId, sessionId, (outcome) => {
          this.d.notify({ type: 'session', sessionId, compartment: o.compartmentId, state: outcome.type });
          const input = doorInputOf(outcome, o.compartmentId);
          if (input?.type === 'left_open') this.d.alarms.doorLeftOpen(o.compartmentId, sessionId);
          else if (input) step(input);
        });
      } catch (err) {
        step({ type: 'door_failed', code: toLockerError(err).code });
      }
    });
  }

  /**
   * The door opened, but the parcel's transition did not commit: it had left the state this
   * retrieval read (the expiry sweep, or another transaction, moved it first). Nothing of the
   * retrieval is recorded; the parcel keeps the state it has, the session ends failed, and the
   * operator is told what happened, since a person now stands at an open door.
   */
  private conflict(o: RetrievalSpec, parcelId: string, sessionId: string, failure: LockerError): LockerError {
    const expected = typeof failure.context.expected === 'string' ? failure.context.expected : 'unknown';
    const found = typeof failure.context.found === 'string' ? failure.context.found : null;
    const purpose = o.purpose === 'pickup' ? 'pickup' : 'collect';
    const data = { compartment: o.compartmentId, sessionId, parcelId, purpose, expected, found } as const;
    this.d.logger.warn(data, 'a retrieval door opened but its parcel had changed state');
    try {
      this.d.recorder.commit({ actor: 'system', action: 'alarm.transition_conflict', subject: o.compartmentId, data, events: [Events.transitionConflict(data)] }, () =>
        this.d.store.endSession(sessionId, 'failed', ErrorCodes.TRANSACTION_STATE, this.d.clock.now()),
      );
    } catch (err) {
      this.d.logger.error({ err, compartment: o.compartmentId }, 'could not record the transition conflict');
    }
    this.d.notify({ type: 'alarm', alarm: { type: 'alarm.transition_conflict', compartment: o.compartmentId } });
    return new LockerError(
      ErrorCodes.TRANSACTION_STATE,
      found === 'expired' ? 'this code expired while the door was opening; the parcel goes back to the carrier' : `this parcel is no longer ${expected}; nothing was recorded`,
      { compartment: o.compartmentId, found },
    );
  }

  /**
   * A pickup or collection whose outcome the sensors cannot tell: the compartment goes to
   * inspection and the carrier is told; the parcel keeps its recorded state and its code no
   * longer opens the door until an operator settles it. A remote open owns no parcel: its
   * session just ends failed with the cause.
   */
  private uncertain(o: RetrievalSpec, sessionId: string, door: 'closed' | 'unknown', cause: ErrorCode): void {
    if (!o.parcelId || o.purpose === 'remote_open') {
      this.d.recorder.commit({ actor: 'system', action: `${o.purpose}.failed`, subject: o.compartmentId, data: { code: cause, door } }, () =>
        this.d.store.endSession(sessionId, 'failed', cause, this.d.clock.now()),
      );
      return;
    }
    this.d.uncertain({ sessionId, compartment: o.compartmentId, kind: o.purpose, parcelId: o.parcelId, carrier: o.parcel?.carrier, waybill: o.parcel?.waybill ?? '', door, cause });
  }

  /** A door that opened fine after a jam works again: back in service. */
  private recoverIfJammed(compartmentId: string, actor: Actor): void {
    const c = this.d.store.compartment(compartmentId);
    if (!c || c.inService || c.fault !== ErrorCodes.LATCH_JAMMED) return;
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'compartment.recovered', subject: compartmentId, events: [Events.compartmentRecovered({ compartment: compartmentId })] },
      () => this.d.store.setService(compartmentId, true, null),
    );
    this.d.notify({ type: 'compartment', compartment: this.d.views.one(compartmentId) });
  }
}

function mustHaveCompartment(p: ParcelRow): string {
  if (!p.compartmentId) throw new LockerError(ErrorCodes.INTERNAL, `parcel ${p.id} has no compartment`);
  return p.compartmentId;
}
