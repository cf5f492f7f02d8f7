// What the outside (kiosk, operator, carrier replies) may see of the locker. Views carry no
// personal data and never a code digest.
import { type SizeClass, type CourierPermission } from '../config/schema.js';
import { type CompartmentRow, type ParcelRow } from '../store/lockerStore.js';
import { type DoorState } from './doorController.js';

export interface CompartmentView {
  id: string;
  size: SizeClass;
  accessible: boolean;
  column: number;
  row: number;
  state: 'free' | 'occupied' | 'out_of_service';
  door: 'closed' | 'open' | 'unknown';
  fault?: string;
}

export interface CourierIdentity {
  carrier: string;
  courierId: string;
  permissions: CourierPermission[];
}

export type Actor = { kind: 'consumer' } | { kind: 'courier'; courier: CourierIdentity } | { kind: 'operator'; id: string } | { kind: 'carrier'; id: string } | { kind: 'system' };

export function actorName(a: Actor): string {
  switch (a.kind) {
    case 'consumer':
      return 'consumer';
    case 'courier':
      return `courier:${a.courier.carrier}/${a.courier.courierId}`;
    case 'operator':
      return `operator:${a.id}`;
    case 'carrier':
      return `carrier:${a.id}`;
    case 'system':
      return 'system';
  }
}

export interface DoorOpened {
  sessionId: string;
  compartment: CompartmentView;
}

export interface DepositView {
  id: string;
  kind: 'deposit' | 'dropoff';
  waybill: string;
  size: SizeClass;
  carrier: string;
  state: 'opening' | 'open' | 'closing' | 'stored' | 'cancelled' | 'failed';
  compartment: CompartmentView;
  reassignedFrom?: string;
  /** The door session of the compartment in use, matching SSE `session` events. */
  sessionId?: string;
  pickupCode?: string;
  expiresAt?: number;
  error?: string;
}

export interface ParcelView {
  parcelId: string;
  waybill: string;
  kind: 'delivery' | 'dropoff';
  state: ParcelRow['state'];
  size: SizeClass | null;
  compartment: string | null;
  storedAt: number | null;
  expiresAt: number | null;
}

export function parcelView(p: ParcelRow): ParcelView {
  return {
    parcelId: p.id,
    waybill: p.waybill,
    kind: p.kind,
    state: p.state,
    size: p.size,
    compartment: p.compartmentId,
    storedAt: p.storedAt,
    expiresAt: p.expiresAt,
  };
}

export function compartmentView(c: CompartmentRow, occupied: boolean, door: DoorState, reachable: boolean): CompartmentView {
  const state = !c.inService || !reachable ? 'out_of_service' : occupied ? 'occupied' : 'free';
  const fault = c.fault ?? (reachable ? undefined : 'BOARD_SILENT');
  return {
    id: c.id,
    size: c.size,
    accessible: c.accessible,
    column: c.column,
    row: c.row,
    state,
    door: door.open === undefined ? 'unknown' : door.open ? 'open' : 'closed',
    ...(fault ? { fault } : {}),
  };
}
