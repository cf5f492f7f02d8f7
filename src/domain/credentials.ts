// Who is at the kiosk: couriers by carrier-signed badge or by ID and PIN, operators by badge.
// Verification is offline, against the keys and PIN hashes this locker was provisioned with.
import { type Clock } from '../clock.js';
import { type BadgesConfig, type LockerConfig } from '../config/schema.js';
import { badgeKeyringFromConfig, verifyBadge, type Badge } from '../credentials/badge.js';
import { type BadgeRef, type BadgeRevocations, type RevocationListener } from '../credentials/badgeRevocations.js';
import { verifyPin } from '../credentials/pin.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type CourierIdentity } from './views.js';

/** Badge checks beyond the signature: the policy (lifetimes, skew) and the revocation list. */
export interface BadgeChecks {
  policy: () => BadgesConfig;
  revocations: BadgeRevocations;
}

export class Credentials {
  constructor(
    private readonly store: LockerStore,
    private readonly operator: LockerConfig['operator'],
    private readonly clock: Clock,
    private readonly badges: BadgeChecks,
  ) {}

  /**
   * Hears of every new revocation, so a screen can end the live sessions of the badges it
   * covers (match them with revocationCovers). Returns the unsubscribe.
   */
  onBadgeRevoked(listener: RevocationListener): () => void {
    return this.badges.revocations.onRevoked(listener);
  }

  /** Signature, lifetime and skew (verifyBadge), then the revocation list: BADGE_REVOKED. */
  private async verified(token: string): Promise<Badge> {
    const badge = await verifyBadge(token, this.keyring(), this.clock, { policy: this.badges.policy() });
    const revoked = this.badges.revocations.covering(refOf(badge));
    if (revoked) {
      throw new LockerError(ErrorCodes.BADGE_REVOKED, revoked.kind === 'badge' ? 'this badge was revoked' : 'badges of this holder issued before a revocation are no longer valid; ask for a new badge', {
        reason: revoked.kind === 'badge' ? 'badge_revoked' : 'subject_revoked',
      });
    }
    return badge;
  }

  private keyring() {
    return badgeKeyringFromConfig({ carriers: this.store.carriers(), operator: this.operator });
  }

  /** Carriers by id and name, for the ID-and-PIN login screen (public knowledge, nothing personal). */
  carriers(): { id: string; name: string }[] {
    return this.store.carriers().map((c) => ({ id: c.id, name: c.name }));
  }

  async courierByBadge(token: string): Promise<CourierIdentity & { expiresAt: number; badge: BadgeRef }> {
    const badge = await this.verified(token);
    if (badge.role !== 'courier') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not a courier badge', { reason: 'role' });
    return { carrier: badge.issuer, courierId: badge.subject, permissions: badge.permissions, expiresAt: badge.expiresAt, badge: refOf(badge) };
  }

  async courierByPin(carrierId: string, courierId: string, pin: string): Promise<CourierIdentity> {
    const carrier = this.store.carriers().find((c) => c.id === carrierId);
    const courier = carrier?.couriers.find((c) => c.id === courierId);
    // Same answer for an unknown courier and a wrong PIN, after the same slow hash.
    const ok = await verifyPin(pin, courier?.pinHash ?? DUMMY_HASH).catch(() => false);
    if (!carrier || !courier || !ok) throw new LockerError(ErrorCodes.PIN_INVALID, 'courier ID or PIN is not right');
    return { carrier: carrier.id, courierId: courier.id, permissions: courier.permissions };
  }

  async operatorByBadge(token: string): Promise<{ id: string; expiresAt: number; badge: BadgeRef }> {
    const badge = await this.verified(token);
    if (badge.role !== 'operator') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not an operator badge', { reason: 'role' });
    return { id: badge.subject, expiresAt: badge.expiresAt, badge: refOf(badge) };
  }
}

function refOf(badge: Badge): BadgeRef {
  return { issuer: badge.issuer, jti: badge.jti, subject: badge.subject, issuedAt: badge.issuedAt };
}

// A valid scrypt hash of a PIN nobody has, so unknown couriers cost the same time as known ones.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
