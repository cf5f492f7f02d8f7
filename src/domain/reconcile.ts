// What to do at boot with a door session that was in flight when the power went (pure).
// The sensors are the only witness: the hook (door open or closed) and, where fitted, the
// item sensor. When they cannot tell, the compartment is taken out of service for a person to
// look, and the operator is told: a parcel is never guessed into or out of existence.
// A pickup or collection whose door is found shut on a board with no item sensor is such a
// case (the person may have taken the parcel during the outage): its outcome is recorded
// uncertain (inspections.ts), never not_consumed.
import { type Clock } from '../../kernel/clock.js';
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type DoorController, type DoorState } from './doorController.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events, placementCancelled, placementInterrupted, takenOutEvent } from './events.js';
import { type RecoveredPlacement } from './placements.js';
import { type UncertainOutcome } from './transactions.js';

export type ReconcileDecision =
  /** The door is (or was) open: the consumer or courier took the parcel. */
  | 'commit_retrieval'
  /** The door is shut and the item sensor sees the parcel: the code or collection stays valid. */
  | 'not_consumed'
  /** A retrieval whose door is shut on a board with no item sensor: inspection, never a guess. */
  | 'uncertain'
  /** The parcel is inside and the door is shut: the placement is committed. */
  | 'commit_placement'
  /** The door is shut and the compartment is empty: nothing was placed. */
  | 'empty'
  /** Cannot tell (no item sensor, or the door still stands open mid placement). */
  | 'inspect'
  /** Sessions that own no parcel (remote open, tests): just close the record. */
  | 'close';

export function decideReconciliation(purpose: string, door: DoorState): ReconcileDecision {
  switch (purpose) {
    case 'pickup':
    case 'collect':
      if (door.open === true || door.itemPresent === false) return 'commit_retrieval';
      if (door.itemPresent === true) return 'not_consumed';
      return 'uncertain';
    case 'deposit':
    case 'dropoff':
      if (door.open === true) return 'inspect';
      if (door.itemPresent === true) return 'commit_placement';
      if (door.itemPresent === false) return 'empty';
      return 'inspect';
    default:
      return 'close';
  }
}

export interface ReconcileDeps {
  store: Pick<LockerStore, 'inFlightSessions' | 'parcel' | 'compartment' | 'moveParcel' | 'endSession' | 'transaction' | 'setService'>;
  doors: Pick<DoorController, 'busy' | 'readNow'>;
  recorder: Pick<EventRecorder, 'commit'>;
  clock: Clock;
  logger: Logger;
  /** Records a placement the sensors show committed (Placements.commitRecovered). */
  commitRecovered: (r: RecoveredPlacement) => Promise<void>;
  /** Records an outcome the sensors cannot tell (Inspections.record). */
  uncertain: (u: UncertainOutcome) => void;
}

/**
 * Resolves door sessions left in flight by a crash or power cut, from what the sensors say
 * now. Sessions on a board that does not answer stay pending and are retried when the board
 * comes back.
 */
export async function reconcileInFlight(d: ReconcileDeps): Promise<{ resolved: number; pending: number }> {
  let resolved = 0;
  let pending = 0;
  for (const row of d.store.inFlightSessions()) {
    if (d.doors.busy(row.compartmentId)) continue;
    let door;
    try {
      door = await d.doors.readNow(row.compartmentId);
    } catch (err) {
      d.logger.warn({ err, session: row.id }, 'cannot read the door to reconcile; retrying when the board answers');
      pending++;
      continue;
    }
    const decision = decideReconciliation(row.purpose, door);
    const now = d.clock.now();
    const parcelId = typeof row.context.parcelId === 'string' ? row.context.parcelId : '';
    const carrier = typeof row.context.carrier === 'string' ? row.context.carrier : undefined;
    const waybill = typeof row.context.waybill === 'string' ? row.context.waybill : '';
    /** Only placements reach 'empty' and 'inspect' (decideReconciliation). */
    const kind = row.purpose === 'dropoff' ? 'dropoff' : 'deposit';
    d.logger.info({ session: row.id, purpose: row.purpose, compartment: row.compartmentId, door, decision }, 'reconciling an interrupted door session');
    switch (decision) {
      case 'commit_retrieval': {
        const p = d.store.parcel(parcelId);
        if (p && (p.state === 'stored' || p.state === 'expired' || p.state === 'dropped_off')) {
          const next = p.state === 'stored' ? 'picked_up' : p.state === 'expired' ? 'retrieved' : 'collected';
          const base = { parcelId: p.id, waybill: p.waybill, compartment: row.compartmentId, reconciled: true as const };
          // The same payload as a retrieval seen by the runner (retrievals.ts), plus reconciled.
          const event = takenOutEvent(next, p.carrier, base, now);
          d.recorder.commit(
            { actor: 'system', action: event.type, subject: p.id, data: { reconciled: true, sessionId: row.id }, events: [event] },
            () => {
              d.store.moveParcel(p.id, p.state, next, now);
              d.store.endSession(row.id, 'reconciled', next, now);
            },
          );
        } else d.store.transaction(() => d.store.endSession(row.id, 'reconciled', 'nothing_to_do', now));
        break;
      }
      case 'commit_placement': {
        if (!carrier) break;
        const size = d.store.compartment(row.compartmentId)?.size ?? 'S';
        await d.commitRecovered({
          id: typeof row.context.txn === 'string' ? row.context.txn : row.id,
          kind: row.purpose === 'dropoff' ? 'dropoff' : 'deposit',
          carrier,
          waybill,
          parcelId,
          reservation: row.context.reservation === true,
          compartment: row.compartmentId,
          size,
          sessionId: row.id,
        });
        break;
      }
      case 'empty':
        d.recorder.commit(
          { actor: 'system', action: `${kind}.interrupted`, subject: parcelId, data: { sessionId: row.id, outcome: 'empty' }, events: carrier ? [placementCancelled(kind, carrier, { parcelId, waybill, reason: 'interrupted' })] : [] },
          () => d.store.endSession(row.id, 'reconciled', 'empty', now),
        );
        break;
      case 'inspect':
        d.recorder.commit(
          {
            actor: 'system',
            action: 'alarm.needs_inspection',
            subject: row.compartmentId,
            data: { sessionId: row.id, purpose: kind },
            events: [
              Events.needsInspection({ compartment: row.compartmentId, purpose: kind, reason: 'interrupted' }),
              ...(carrier ? [placementInterrupted(kind, carrier, { parcelId, waybill, compartment: row.compartmentId })] : []),
            ],
          },
          () => {
            d.store.setService(row.compartmentId, false, 'NEEDS_INSPECTION');
            // 'uncertain': the operator settles it (inspections.ts).
            d.store.endSession(row.id, 'uncertain', 'inspect', now);
          },
        );
        break;
      case 'uncertain': {
        const p = d.store.parcel(parcelId);
        d.uncertain({
          sessionId: row.id,
          compartment: row.compartmentId,
          kind: row.purpose === 'collect' ? 'collect' : 'pickup',
          parcelId,
          carrier: p?.carrier,
          waybill: p?.waybill ?? '',
          door: 'closed',
          cause: 'POWER_CUT',
        });
        break;
      }
      case 'not_consumed':
      case 'close':
        d.store.transaction(() => d.store.endSession(row.id, 'reconciled', decision, now));
        break;
    }
    resolved++;
  }
  return { resolved, pending };
}
