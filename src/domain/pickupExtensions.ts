// Extending a stored parcel's pickup time at the kiosk with its code (issue 11, flow 5), where
// the owning carrier allows it: `carriers[].pickupExtension` says by how many hours at most and
// how many times per parcel. The code is redeemed like a pickup (a wrong one takes a try from
// the keypad budget) but no door opens. The new expires_at, the count and the carrier's
// parcel.pickup_extended event are one transaction.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type ParcelRow } from '../store/lockerStore.js';
import { type PickupExtensionStore } from '../store/pickupExtensions.js';
import { type CodeVault } from './codeVault.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events } from './events.js';

export interface PickupExtended {
  /** The new end of the pickup time (epoch ms). */
  expiresAt: number;
  hours: number;
  /** Extensions the carrier still allows for this parcel. */
  extensionsLeft: number;
}

export interface PickupExtensionDeps {
  codes: Pick<CodeVault, 'redeem'>;
  extensions: PickupExtensionStore;
  recorder: EventRecorder;
  views: Pick<CompartmentViews, 'carrier'>;
  clock: Clock;
  /** Refuses the codes of parcels that are not stored (expired, not delivered, drop-off). */
  rejection: (p: ParcelRow) => LockerError | undefined;
  /** Expires what is due (the sweep), so an expired parcel is recorded as such first. */
  expireDue: () => void;
}

export class PickupExtensions {
  constructor(private readonly d: PickupExtensionDeps) {}

  /** Extends the pickup time of the code's parcel by `hours` (the carrier's most when absent). */
  extend(rawCode: string, hours: number | undefined): PickupExtended {
    const parcel = this.d.codes.redeem(rawCode, ['stored'], this.d.rejection);
    const now = this.d.clock.now();
    if (parcel.expiresAt === null || parcel.expiresAt <= now) {
      this.d.expireDue();
      throw new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcel goes back to the carrier');
    }
    const rule = this.d.views.carrier(parcel.carrier).pickupExtension;
    if (!rule) throw new LockerError(ErrorCodes.EXTENSION_NOT_ALLOWED, 'the carrier of this parcel does not allow a longer pickup time', { reason: 'not_offered' });
    const done = this.d.extensions.of(parcel.id);
    if (done.times >= rule.times) throw new LockerError(ErrorCodes.EXTENSION_NOT_ALLOWED, 'the pickup time of this parcel was already extended', { reason: 'used', times: done.times });
    const add = hours ?? rule.maxHours;
    if (add > rule.maxHours) throw new LockerError(ErrorCodes.INPUT_INVALID, `the carrier allows at most ${rule.maxHours} hours`, { maxHours: rule.maxHours });
    const from = parcel.expiresAt;
    const to = from + add * 3_600_000;
    const times = done.times + 1;
    this.d.recorder.commit(
      {
        actor: 'consumer',
        action: 'parcel.pickup_extended',
        subject: parcel.id,
        data: { hours: add, expiresAt: to, times },
        events: [
          Events.parcelPickupExtended(parcel.carrier, { parcelId: parcel.id, waybill: parcel.waybill, compartment: parcel.compartmentId, hours: add, previousExpiresAt: from, expiresAt: to, times }),
        ],
      },
      () => this.d.extensions.extend(parcel.id, from, to, add, now),
    );
    return { expiresAt: to, hours: add, extensionsLeft: rule.times - times };
  }
}
