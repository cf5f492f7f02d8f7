// The compartment read model: what a compartment looks like to the kiosk, the operator and the
// allocator, from three sources: the store (rows and parcels), the doors (last reading,
// reachability) and the holds of placements in progress.
import { type CarrierConfig, type SizeClass } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type DoorController } from './doorController.js';
import { compartmentView, type CompartmentView } from './views.js';

export type ViewStore = Pick<LockerStore, 'compartments' | 'compartment' | 'occupiedCompartments' | 'parcelsIn' | 'carriers'>;
export type ViewDoors = Pick<DoorController, 'door' | 'reachable' | 'busy'>;

export interface AllocationCandidate {
  id: string;
  size: SizeClass;
  accessible: boolean;
  available: boolean;
}

export class CompartmentViews {
  constructor(
    private readonly store: ViewStore,
    private readonly doors: ViewDoors,
    /** Compartments held by placements in progress (owned by Placements). */
    private readonly held: ReadonlySet<string>,
  ) {}

  all(): CompartmentView[] {
    const occupied = this.store.occupiedCompartments();
    return this.store.compartments().map((c) => compartmentView(c, occupied.has(c.id) || this.held.has(c.id), this.doors.door(c.id), this.doors.reachable(c.id)));
  }

  one(id: string): CompartmentView {
    const c = this.store.compartment(id);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${id}`, { compartment: id });
    const occupied = this.store.parcelsIn(id).length > 0 || this.held.has(id);
    return compartmentView(c, occupied, this.doors.door(id), this.doors.reachable(id));
  }

  /** Every compartment with whether a new placement may use it now. */
  candidates(): AllocationCandidate[] {
    const occupied = this.store.occupiedCompartments();
    return this.store.compartments().map((c) => ({
      id: c.id,
      size: c.size,
      accessible: c.accessible,
      available: c.inService && !occupied.has(c.id) && !this.held.has(c.id) && !this.doors.busy(c.id) && this.doors.reachable(c.id),
    }));
  }

  /** Every provisioned carrier's configuration (public keys, rules, help line; PIN hashes included: never send it out whole). */
  carriers(): CarrierConfig[] {
    return this.store.carriers();
  }

  carrier(id: string): CarrierConfig {
    const c = this.store.carriers().find((x) => x.id === id);
    if (!c) throw new LockerError(ErrorCodes.NOT_PERMITTED, `carrier ${id} is not provisioned on this locker`, { carrier: id });
    return c;
  }
}
