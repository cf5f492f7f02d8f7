// Who is at the kiosk: couriers by carrier-signed badge or by ID and PIN, operators by badge.
// Verification is offline, against the keys and PIN hashes this locker was provisioned with.
import { type Clock } from '../clock.js';
import { type LockerConfig } from '../config/schema.js';
import { badgeKeyringFromConfig, verifyBadge } from '../credentials/badge.js';
import { verifyPin } from '../credentials/pin.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type CourierIdentity } from './views.js';

export class Credentials {
  constructor(
    private readonly store: LockerStore,
    private readonly operator: LockerConfig['operator'],
    private readonly clock: Clock,
  ) {}

  private keyring() {
    return badgeKeyringFromConfig({ carriers: this.store.carriers(), operator: this.operator });
  }

  /** Carriers by id and name, for the ID-and-PIN login screen (public knowledge, nothing personal). */
  carriers(): { id: string; name: string }[] {
    return this.store.carriers().map((c) => ({ id: c.id, name: c.name }));
  }

  async courierByBadge(token: string): Promise<CourierIdentity & { expiresAt: number }> {
    const badge = await verifyBadge(token, this.keyring(), this.clock);
    if (badge.role !== 'courier') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not a courier badge', { reason: 'role' });
    return { carrier: badge.issuer, courierId: badge.subject, permissions: badge.permissions, expiresAt: badge.expiresAt };
  }

  async courierByPin(carrierId: string, courierId: string, pin: string): Promise<CourierIdentity> {
    const carrier = this.store.carriers().find((c) => c.id === carrierId);
    const courier = carrier?.couriers.find((c) => c.id === courierId);
    // Same answer for an unknown courier and a wrong PIN, after the same slow hash.
    const ok = await verifyPin(pin, courier?.pinHash ?? DUMMY_HASH).catch(() => false);
    if (!carrier || !courier || !ok) throw new LockerError(ErrorCodes.PIN_INVALID, 'courier ID or PIN is not right');
    return { carrier: carrier.id, courierId: courier.id, permissions: courier.permissions };
  }

  async operatorByBadge(token: string): Promise<{ id: string; expiresAt: number }> {
    const badge = await verifyBadge(token, this.keyring(), this.clock);
    if (badge.role !== 'operator') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not an operator badge', { reason: 'role' });
    return { id: badge.subject, expiresAt: badge.expiresAt };
  }
}

// A valid scrypt hash of a PIN nobody has, so unknown couriers cost the same time as known ones.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
