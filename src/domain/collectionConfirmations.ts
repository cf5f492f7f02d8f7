// A scan to confirm each parcel a courier takes back (issue 11, flow 7; docs/kiosk.md). The
// collection itself commits when the door is seen open (Retrievals.collect), as every
// retrieval does: a door that opened never depends on a scan. The confirmation is a second,
// separate fact: once the door has opened, the courier scans or types the parcel's waybill and
// lockerd checks it against the parcel of that door, or the courier says why it cannot. The
// carrier gets parcel.collection_confirmed with how (scanned, typed, skipped and why).
//
// What is waiting for a confirmation is held in memory: bounded in count, in time and in wrong
// tries. A restart or a lapse forgets it; the carrier then has the collection event with no
// confirmation after it, which is what "not confirmed" means on its stream.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type EventRecorder } from './eventRecorder.js';
import { type collectionSkipReasons, Events } from './events.js';
import { actorName, type CourierIdentity } from './views.js';

/** Why a courier could not scan or type the waybill ("could not scan"). */
export type SkipReason = (typeof collectionSkipReasons)[number];

export type ConfirmProof = { by: 'scanned' | 'typed'; waybill: string } | { by: 'skipped'; reason: SkipReason };

export interface ConfirmationLimits {
  /** Wrong waybills per parcel before only "could not scan" is left. */
  tries: number;
  /** How long after the door opened a confirmation is taken. */
  windowMs: number;
  /** Collections waiting at once (the oldest lapses first). */
  max: number;
}

export const defaultConfirmationLimits: ConfirmationLimits = { tries: 5, windowMs: 30 * 60_000, max: 64 };

export interface Confirmation {
  parcelId: string;
  compartment: string;
  by: ConfirmProof['by'];
  reason?: SkipReason;
}

interface Pending {
  parcelId: string;
  carrier: string;
  waybill: string;
  compartment: string;
  kind: 'expired' | 'dropoff';
  openedAt: number;
  wrongTries: number;
  done?: Confirmation;
}

/** A collection waiting for its scan, as the courier's list shows it (no waybill: the courier reads the label). */
export interface UnconfirmedCollection {
  parcelId: string;
  kind: 'expired' | 'dropoff';
  compartment: string;
}

export class CollectionConfirmations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly recorder: Pick<EventRecorder, 'commit'>,
    private readonly clock: Clock,
    private readonly limits: ConfirmationLimits = defaultConfirmationLimits,
  ) {}

  /** The door of a collection was seen open: its confirmation may come now (from any courier of the carrier, who is named in the event). */
  opened(p: Omit<Pending, 'openedAt' | 'wrongTries' | 'done'>): void {
    this.prune();
    this.pending.delete(p.parcelId);
    while (this.pending.size >= this.limits.max) {
      const oldest = this.pending.keys().next().value;
      if (oldest === undefined) break;
      this.pending.delete(oldest);
    }
    this.pending.set(p.parcelId, { ...p, openedAt: this.clock.monotonic(), wrongTries: 0 });
  }

  /** The courier's carrier's collections still waiting for a confirmation, oldest first. */
  unconfirmed(courier: CourierIdentity): UnconfirmedCollection[] {
    this.prune();
    return [...this.pending.values()].filter((p) => p.carrier === courier.carrier && !p.done).map((p) => ({ parcelId: p.parcelId, kind: p.kind, compartment: p.compartment }));
  }

  /**
   * Checks a scanned or typed waybill against the parcel of the door (case aside, as a person
   * reads a label), or takes "could not scan" with its reason. Never echoes what was given.
   */
  confirm(courier: CourierIdentity, parcelId: string, proof: ConfirmProof): Confirmation {
    this.prune();
    const p = this.pending.get(parcelId);
    // Another carrier's collection is reported exactly like one that does not wait for a scan.
    if (!p || p.carrier !== courier.carrier) throw new LockerError(ErrorCodes.NOT_FOUND, 'no collected parcel waits for a confirmation under this id');
    if (p.done) throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'this collection is already confirmed', { reason: 'confirmed', compartment: p.compartment });
    if (proof.by !== 'skipped') {
      if (p.wrongTries >= this.limits.tries)
        throw new LockerError(ErrorCodes.CONFIRM_TRIES_SPENT, 'too many wrong waybills for this parcel: choose "could not scan" and a reason', { compartment: p.compartment });
      if (proof.waybill.trim().toUpperCase() !== p.waybill.trim().toUpperCase()) {
        p.wrongTries += 1;
        throw new LockerError(ErrorCodes.WAYBILL_MISMATCH, `this is not the waybill of the parcel in door ${p.compartment}`, {
          compartment: p.compartment,
          triesLeft: this.limits.tries - p.wrongTries,
        });
      }
    }
    const at = this.clock.now();
    const reason = proof.by === 'skipped' ? proof.reason : undefined;
    this.recorder.commit({
      actor: actorName({ kind: 'courier', courier }),
      action: 'collection.confirmed',
      subject: p.parcelId,
      data: { compartment: p.compartment, by: proof.by, ...(reason ? { reason } : {}), wrongTries: p.wrongTries },
      events: [
        Events.parcelCollectionConfirmed(p.carrier, {
          parcelId: p.parcelId,
          waybill: p.waybill,
          compartment: p.compartment,
          kind: p.kind,
          courier: courier.courierId,
          confirmation: proof.by,
          ...(reason ? { reason } : {}),
          wrongTries: p.wrongTries,
          at,
        }),
      ],
    });
    p.done = { parcelId: p.parcelId, compartment: p.compartment, by: proof.by, ...(reason ? { reason } : {}) };
    return p.done;
  }

  private prune(): void {
    const now = this.clock.monotonic();
    for (const [id, p] of this.pending) if (now - p.openedAt > this.limits.windowMs) this.pending.delete(id);
  }
}
