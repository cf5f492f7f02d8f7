// Extending a stored parcel's pickup time at the kiosk with its code (issue 11, flow 5), where
// the owning carrier allows it: `carriers[].pickupExtension` says by how many hours at most and
// how many times per parcel. The code is redeemed like a pickup (a wrong one takes a try from
// the keypad budget) but no door opens. The new expires_at, the count and the carrier's
// parcel.pickup_extended event are one transaction.
//
// A code shared by a group of parcels (issue 11, flow 2) extends every member still stored, all
// or nothing, under the carrier's one rule: the same hours for each, each member's own count,
// one parcel.pickup_extended per parcel (with the group's id) in one transaction. If any member
// may not be extended (its extensions used up), none is. Members past their time are expired
// first and go back to the carrier as they would have anyway; members already collected are done.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type ParcelRow } from '../store/lockerStore.js';
import { type PickupExtensionStore } from '../store/pickupExtensions.js';
import { type GroupRef, type ParcelGroupStore } from '../store/parcelGroups.js';
import { type CodeVault } from './codeVault.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events } from './events.js';

export interface PickupExtended {
  /** The new end of the pickup time (epoch ms). */
  expiresAt: number;
  hours: number;
  /** Extensions the carrier still allows for this parcel (for a group: the fewest any member has left). */
  extensionsLeft: number;
  /** A group's code: how many parcels were extended (every one still stored); expiresAt is the earliest new end. */
  parcels?: number;
}

export interface PickupExtensionDeps {
  codes: Pick<CodeVault, 'redeem'>;
  extensions: PickupExtensionStore;
  recorder: EventRecorder;
  views: Pick<CompartmentViews, 'carrier'>;
  /** The members of a group, to extend all of them with the group's code. */
  groups: Pick<ParcelGroupStore, 'memberIds'>;
  parcel: (id: string) => ParcelRow | undefined;
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
    let group: GroupRef | undefined;
    const parcel = this.d.codes.redeem(rawCode, ['stored'], this.d.rejection, (g) => {
      group = g;
      const first = this.members(g)[0];
      if (!first) throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code is not valid here');
      return first;
    });
    if (group) return this.extendGroup(group, hours);
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

  private members(g: GroupRef): ParcelRow[] {
    return this.d.groups.memberIds(g).flatMap((id) => this.d.parcel(id) ?? []);
  }

  private extendGroup(g: GroupRef, hours: number | undefined): PickupExtended {
    const now = this.d.clock.now();
    let members = this.members(g);
    if (members.some((p) => p.state === 'stored' && (p.expiresAt === null || p.expiresAt <= now))) {
      this.d.expireDue();
      members = this.members(g);
    }
    const stored = members.filter((p) => p.state === 'stored' && p.expiresAt !== null && p.expiresAt > now);
    if (stored.length === 0) {
      if (members.some((p) => p.state === 'expired' || p.state === 'stored')) throw new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcels go back to the carrier');
      throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code was already used: the parcels have been collected', { reason: 'already_collected' });
    }
    const rule = this.d.views.carrier(g.carrier).pickupExtension;
    if (!rule) throw new LockerError(ErrorCodes.EXTENSION_NOT_ALLOWED, 'the carrier of these parcels does not allow a longer pickup time', { reason: 'not_offered', grouped: true });
    const done = stored.map((p) => ({ parcel: p, times: this.d.extensions.of(p.id).times }));
    const spent = done.filter((x) => x.times >= rule.times).length;
    if (spent > 0) {
      const message = spent === stored.length ? 'the pickup time of these parcels was already extended' : `the pickup time of ${spent} of these ${stored.length} parcels was already extended; none was changed`;
      throw new LockerError(ErrorCodes.EXTENSION_NOT_ALLOWED, message, { reason: 'used', grouped: true, parcels: stored.length, used: spent });
    }
    const add = hours ?? rule.maxHours;
    if (add > rule.maxHours) throw new LockerError(ErrorCodes.INPUT_INVALID, `the carrier allows at most ${rule.maxHours} hours`, { maxHours: rule.maxHours });
    const changes = done.map(({ parcel, times }) => {
      const from = parcel.expiresAt ?? now;
      return { parcel, from, to: from + add * 3_600_000, times: times + 1 };
    });
    this.d.recorder.commit(
      {
        actor: 'consumer',
        action: 'parcel.pickup_extended',
        subject: changes[0]?.parcel.id ?? null,
        data: { hours: add, group: g.group, parcelIds: changes.map((c) => c.parcel.id) },
        events: changes.map((c) =>
          Events.parcelPickupExtended(g.carrier, { parcelId: c.parcel.id, waybill: c.parcel.waybill, compartment: c.parcel.compartmentId, hours: add, previousExpiresAt: c.from, expiresAt: c.to, times: c.times, group: g.group }),
        ),
      },
      // One transaction: a member that moved on meanwhile (TRANSACTION_STATE) undoes them all.
      () => {
        for (const c of changes) this.d.extensions.extend(c.parcel.id, c.from, c.to, add, now);
      },
    );
    return {
      expiresAt: Math.min(...changes.map((c) => c.to)),
      hours: add,
      extensionsLeft: Math.min(...changes.map((c) => rule.times - c.times)),
      parcels: changes.length,
    };
  }
}
