// Uncertain outcomes and their inspection (docs/architecture.md, "Uncertain outcomes").
//
// A door session whose outcome the sensors cannot tell (the line was lost after an unlock and
// did not return in time, or came back to a shut door with no item sensor; a power cut on such a
// board) is never guessed. Its compartment goes out of service as NEEDS_INSPECTION, the session
// row ends 'uncertain' (it is the inspection record: purpose, parcel, carrier, waybill), the
// owning carrier gets parcel.outcome_uncertain and the operator alarm.needs_inspection. A code
// does not reopen the compartment meanwhile.
//
// The operator settles it in service mode: opens the door, looks, closes it and marks the
// compartment empty or occupied. Each verdict is one transaction with its events:
// - pickup/collection, empty: the parcel is recorded taken (picked_up, retrieved or collected,
//   with settled: true), since the rightful code opened the door and the parcel is gone;
// - pickup/collection, occupied: the parcel keeps its state (parcel.outcome_settled), its code
//   works again;
// - deposit/drop-off, occupied: the parcel is recorded stored (parcel.stored with settled: true,
//   a new code for the carrier) as if the door had been seen closing on it;
// - deposit/drop-off, empty: the placement is cancelled (deposit.cancelled, inspection: true);
// and always compartment.inspection_settled on the operator stream, back in service.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type TransactionKind, type UncertainOutcome } from './transactions.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type DoorController } from './doorController.js';
import { type EventRecorder } from './eventRecorder.js';
import { type CarrierEvent, Events, placementCancelled, takenOutEvent, type TakenOutState } from './events.js';
import { type Notify } from './lockerEvents.js';
import { type RecoveredPlacement } from './placements.js';
import { type Actor, actorName, type CompartmentView } from './views.js';

export type Verdict = 'empty' | 'occupied';

export interface InspectionView {
  compartment: string;
  /** What was going on when the outcome became uncertain; null for an inspection with no transaction (a cancel that could not prove the compartment empty). */
  purpose: TransactionKind | null;
  waybill: string | null;
  since: number | null;
  door: 'open' | 'closed' | 'unknown';
  /** The door was seen open since the inspection began (settle needs it). */
  looked: boolean;
}

export interface InspectionDeps {
  store: Pick<
    LockerStore,
    'compartment' | 'compartments' | 'parcel' | 'setService' | 'endSession' | 'uncertainSessionIn' | 'uncertainSessions' | 'settleSession' | 'transitionParcel' | 'transaction'
  >;
  doors: Pick<DoorController, 'door' | 'busy' | 'releaseUnresolved' | 'holdUnresolved' | 'on'>;
  recorder: Pick<EventRecorder, 'commit'>;
  views: Pick<CompartmentViews, 'one'>;
  clock: Clock;
  notify: Notify;
  /** Records a placement found occupied (Placements.commitRecovered). */
  commitRecovered: (r: RecoveredPlacement) => Promise<void>;
}

const kinds: readonly string[] = ['deposit', 'dropoff', 'pickup', 'collect'];
const isKind = (k: string): k is TransactionKind => kinds.includes(k);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export class Inspections {
  /** When each door was last seen open (clock time): settle needs a look after the inspection began. */
  private readonly openedAt = new Map<string, number>();

  constructor(private readonly d: InspectionDeps) {
    d.doors.on((e) => {
      if (e.type === 'door' && e.open) this.openedAt.set(e.compartment, d.clock.now());
    });
  }

  /** A compartment just went to inspection (any path): only a door opened from now on counts as a look. */
  started(compartmentId: string): void {
    this.openedAt.delete(compartmentId);
  }

  /** At start: the doors of unresolved sessions are lockerd's own, not forced (doorController.ts). */
  holdAtBoot(): void {
    for (const s of this.d.store.uncertainSessions()) this.d.doors.holdUnresolved(s.compartmentId, s.id);
  }

  /** Records an uncertain outcome: inspection, carrier and operator told, in one transaction. */
  record(u: UncertainOutcome): void {
    const now = this.d.clock.now();
    const itemSensor = this.d.doors.door(u.compartment).itemPresent !== undefined;
    const events: CarrierEvent[] = u.carrier
      ? [Events.parcelOutcomeUncertain(u.carrier, { parcelId: u.parcelId || u.sessionId, waybill: u.waybill || '-', compartment: u.compartment, kind: u.kind, door: u.door, itemSensor, cause: u.cause, at: now })]
      : [];
    this.d.recorder.commit(
      {
        actor: 'system',
        action: 'alarm.needs_inspection',
        subject: u.compartment,
        data: { sessionId: u.sessionId, purpose: u.kind, reason: 'outcome_uncertain', door: u.door, cause: u.cause },
        events: [Events.needsInspection({ compartment: u.compartment, purpose: u.kind, reason: 'outcome_uncertain' }), ...events],
      },
      () => {
        this.d.store.setService(u.compartment, false, ErrorCodes.NEEDS_INSPECTION);
        this.d.store.endSession(u.sessionId, 'uncertain', `uncertain:${u.door}`, now);
      },
    );
    this.d.notify({ type: 'alarm', alarm: { type: 'alarm.needs_inspection', compartment: u.compartment } });
    this.d.notify({ type: 'compartment', compartment: this.d.views.one(u.compartment) });
  }

  /** True while a compartment's uncertain outcome waits for an operator (codes do not open it). */
  pending(compartmentId: string | null): boolean {
    return compartmentId !== null && this.d.store.uncertainSessionIn(compartmentId) !== undefined;
  }

  list(): InspectionView[] {
    return this.d.store
      .compartments()
      .filter((c) => !c.inService && c.fault === ErrorCodes.NEEDS_INSPECTION)
      .map((c) => {
        const s = this.d.store.uncertainSessionIn(c.id);
        const open = this.d.doors.door(c.id).open;
        return {
          compartment: c.id,
          purpose: s && isKind(s.purpose) ? s.purpose : null,
          waybill: s ? str(s.context.waybill) || this.d.store.parcel(str(s.context.parcelId))?.waybill || null : null,
          since: s?.endedAt ?? null,
          door: open === undefined ? 'unknown' : open ? 'open' : 'closed',
          looked: this.looked(c.id, s?.endedAt ?? null),
        };
      });
  }

  private looked(compartmentId: string, since: number | null): boolean {
    const at = this.openedAt.get(compartmentId);
    return at !== undefined && (since === null || at >= since);
  }

  /** The operator's verdict on a compartment in inspection (see the header). */
  async settle(compartmentId: string, verdict: Verdict, actor: Actor): Promise<CompartmentView> {
    const c = this.d.store.compartment(compartmentId);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${compartmentId}`, { compartment: compartmentId });
    if (c.inService || c.fault !== ErrorCodes.NEEDS_INSPECTION)
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, `compartment ${compartmentId} is not waiting for an inspection`, { compartment: compartmentId });
    if (this.d.doors.busy(compartmentId)) throw new LockerError(ErrorCodes.DOOR_BUSY, `door ${compartmentId} is in use`, { compartment: compartmentId });
    const s = this.d.store.uncertainSessionIn(compartmentId);
    if (!this.looked(compartmentId, s?.endedAt ?? null))
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, `open compartment ${compartmentId} and look inside before settling it`, { compartment: compartmentId, reason: 'not_looked' });
    if (this.d.doors.door(compartmentId).open !== false)
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, `close the door of compartment ${compartmentId} before settling it`, { compartment: compartmentId, reason: 'door_open' });
    const now = this.d.clock.now();
    const by = actorName(actor);
    const purpose = s && isKind(s.purpose) ? s.purpose : null;
    const parcelId = s ? str(s.context.parcelId) : '';
    const carrier = s ? str(s.context.carrier) : '';
    const waybill = s ? str(s.context.waybill) : '';
    const back = (): void => {
      this.d.store.setService(compartmentId, true, null);
      if (s) this.d.store.settleSession(s.id, `settled:${verdict}`);
    };
    const settledEvent = (parcelState: string | null) =>
      Events.inspectionSettled({ compartment: compartmentId, verdict, purpose, parcelId: parcelId || null, parcelState, by, at: now });
    const audit = { actor: by, action: 'compartment.inspection_settled', subject: compartmentId, data: { verdict, purpose, sessionId: s?.id ?? null } };

    if (!s || !purpose) {
      if (verdict === 'occupied')
        throw new LockerError(ErrorCodes.INPUT_INVALID, `no parcel is recorded for compartment ${compartmentId}: take out what is inside, then mark it empty`, { compartment: compartmentId });
      this.d.recorder.commit({ ...audit, events: [settledEvent(null)] }, back);
    } else if (purpose === 'pickup' || purpose === 'collect') {
      const p = this.d.store.parcel(parcelId);
      const live = p && p.compartmentId === compartmentId && (p.state === 'stored' || p.state === 'expired' || p.state === 'dropped_off') ? p : undefined;
      if (!live) this.d.recorder.commit({ ...audit, events: [settledEvent(p?.state ?? null)] }, back);
      else if (verdict === 'occupied')
        this.d.recorder.commit(
          {
            ...audit,
            events: [Events.parcelOutcomeSettled(live.carrier, { parcelId: live.id, waybill: live.waybill, compartment: compartmentId, kind: purpose, verdict, state: live.state, at: now }), settledEvent(live.state)],
          },
          back,
        );
      else {
        const next: TakenOutState = live.state === 'dropped_off' ? 'collected' : purpose === 'collect' && live.state === 'expired' ? 'retrieved' : 'picked_up';
        const base = { parcelId: live.id, waybill: live.waybill, compartment: compartmentId, settled: true as const };
        const event = takenOutEvent(next, live.carrier, base, now);
        this.d.recorder.commit({ ...audit, events: [event, settledEvent(next)] }, () => {
          this.d.store.transitionParcel(live.id, live.state, next, now);
          back();
        });
      }
    } else if (verdict === 'empty') {
      const events = carrier ? [placementCancelled(purpose, carrier, { parcelId, waybill, compartment: compartmentId, inspection: true })] : [];
      this.d.recorder.commit({ ...audit, events: [...events, settledEvent(null)] }, back);
    } else {
      const p = this.d.store.parcel(parcelId);
      const already = p && p.compartmentId === compartmentId && (p.state === 'stored' || p.state === 'dropped_off');
      if (!already) {
        if (!carrier) throw new LockerError(ErrorCodes.INTERNAL, `the uncertain session of ${compartmentId} names no carrier`, { compartment: compartmentId });
        await this.d.commitRecovered({
          id: str(s.context.txn) || s.id,
          kind: purpose,
          carrier,
          waybill,
          parcelId,
          reservation: s.context.reservation === true,
          compartment: compartmentId,
          size: c.size,
          sessionId: s.id,
          settled: true,
        });
      }
      const stored = this.d.store.parcel(parcelId);
      if (!stored || stored.compartmentId !== compartmentId || (stored.state !== 'stored' && stored.state !== 'dropped_off'))
        throw new LockerError(ErrorCodes.STORE_ERROR, `the parcel in compartment ${compartmentId} could not be recorded; it stays in inspection`, { compartment: compartmentId });
      this.d.recorder.commit({ ...audit, events: [settledEvent(stored.state)] }, back);
    }
    this.d.doors.releaseUnresolved(compartmentId);
    const view = this.d.views.one(compartmentId);
    this.d.notify({ type: 'compartment', compartment: view });
    return view;
  }
}
