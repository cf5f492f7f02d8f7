// Who is at the kiosk: couriers by carrier-signed badge or by ID and PIN, operators by badge.
// Verification is offline, against the keys and PIN hashes this locker was provisioned with.
//
// PIN logins are budgeted (issue 7, finding 4): every attempt takes a try from the locker's
// PIN bucket and, for a configured courier, from that courier's bucket, before the slow hash
// (so concurrent guesses cannot overspend); a right PIN gives its tries back, a wrong one
// never. Both buckets are persisted (budgetLedger.ts). Emptying one raises alarm.pin_lockout on
// the operator stream; every wrong PIN is logged, never the PIN. Badges use no PIN budget, so
// a PIN prankster does not keep couriers out.
import { type Clock } from '../../kernel/clock.js';
import { type BadgesConfig, type LockerConfig, type SupportContact } from '../config/schema.js';
import { type BudgetLedger } from '../codes/budgetLedger.js';
import { badgeKeyringFromConfig, verifyBadge, type Badge } from '../credentials/badge.js';
import { type BadgeRef, type BadgeRevocations, type RevocationListener } from '../credentials/badgeRevocations.js';
import { isValidPin, verifyPin } from '../credentials/pin.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events } from './events.js';
import { type CourierIdentity } from './views.js';

/** Badge checks beyond the signature: the policy (lifetimes, skew) and the revocation list. */
export interface BadgeChecks {
  policy: () => BadgesConfig;
  revocations: BadgeRevocations;
}

export const PIN_LOCKER_SCOPE = 'pin';
export const pinCourierScope = (carrier: string, courier: string): string => `pin:${carrier}/${courier}`;

export interface PinGuard {
  budgets: BudgetLedger;
  policy: LockerConfig['courierPins'];
  recorder: EventRecorder;
  logger: Logger;
}

interface PinScope {
  scope: string;
  kind: 'courier' | 'locker';
  policy: { burst: number; refillPerHour: number };
}

export class Credentials {
  constructor(
    private readonly store: LockerStore,
    private readonly operator: LockerConfig['operator'],
    private readonly clock: Clock,
    private readonly pins: PinGuard,
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
  carriers(): { id: string; name: string; support?: SupportContact }[] {
    return this.store.carriers().map((c) => ({ id: c.id, name: c.name, ...(c.support ? { support: c.support } : {}) }));
  }

  async courierByBadge(token: string): Promise<CourierIdentity & { expiresAt: number; badge: BadgeRef }> {
    const badge = await this.verified(token);
    if (badge.role !== 'courier') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not a courier badge', { reason: 'role' });
    return { carrier: badge.issuer, courierId: badge.subject, permissions: badge.permissions, expiresAt: badge.expiresAt, badge: refOf(badge) };
  }

  async courierByPin(carrierId: string, courierId: string, pin: string): Promise<CourierIdentity> {
    const carrier = this.store.carriers().find((c) => c.id === carrierId);
    const courier = carrier?.couriers.find((c) => c.id === courierId);
    // Only configured couriers get a bucket of their own: unknown ids cannot grow the table.
    const scopes: PinScope[] = [{ scope: PIN_LOCKER_SCOPE, kind: 'locker', policy: this.pins.policy.perLocker }];
    if (carrier && courier) scopes.push({ scope: pinCourierScope(carrier.id, courier.id), kind: 'courier', policy: this.pins.policy.perCourier });
    const who = carrier && courier ? { carrier: carrier.id, courierId: courier.id } : { courierKnown: false as const };

    // Refused without a hash while any bucket is empty, the right PIN included.
    const waits = scopes.map((s) => this.pins.budgets.check(s.scope, s.policy)).flatMap((c) => (c.allowed ? [] : [c.retryAfterMs]));
    if (waits.length > 0) {
      const retryAfterMs = Math.max(...waits);
      this.pins.logger.warn({ ...who, retryAfterMs }, 'courier PIN login refused: too many wrong PINs');
      throw new LockerError(ErrorCodes.PIN_LOCKED_OUT, `too many wrong PINs; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
    }
    this.take(scopes, who);

    // A PIN shorter than the minimum (or not digits) is wrong without a hash; it has cost a try.
    // Same answer for an unknown courier and a wrong PIN, after the same slow hash.
    const wellFormed = isValidPin(pin);
    const ok = wellFormed && (await verifyPin(pin, courier?.pinHash ?? DUMMY_HASH).catch(() => false)) && carrier !== undefined && courier !== undefined;
    if (!carrier || !courier || !ok) {
      this.pins.logger.warn({ ...who, reason: wellFormed ? 'wrong_pin' : 'malformed_pin' }, 'wrong courier PIN');
      throw new LockerError(ErrorCodes.PIN_INVALID, 'courier ID or PIN is not right');
    }
    for (const s of scopes) this.pins.budgets.giveBack(s.scope, s.policy);
    this.pins.logger.info(who, 'courier logged in with PIN');
    return { carrier: carrier.id, courierId: courier.id, permissions: courier.permissions };
  }

  async operatorByBadge(token: string): Promise<{ id: string; expiresAt: number; badge: BadgeRef }> {
    const badge = await this.verified(token);
    if (badge.role !== 'operator') throw new LockerError(ErrorCodes.BADGE_INVALID, 'this is not an operator badge', { reason: 'role' });
    return { id: badge.subject, expiresAt: badge.expiresAt, badge: refOf(badge) };
  }

  /** Takes one try from every scope and records it, with an alarm for each bucket this emptied. */
  private take(scopes: PinScope[], who: { carrier: string; courierId: string } | { courierKnown: false }): void {
    const taken = scopes.map((s) => ({ s, out: this.pins.budgets.take(s.scope, s.policy) }));
    const persist = (): void => {
      for (const t of taken) t.out?.persist();
    };
    const alarms = taken.filter((t) => t.out?.alarm);
    if (alarms.length === 0) {
      this.store.transaction(persist);
      return;
    }
    const events = alarms.map((t) => {
      const check = this.pins.budgets.check(t.s.scope, t.s.policy);
      const data = { scope: t.s.kind, ...(t.s.kind === 'courier' ? who : {}), retryAfterMs: check.allowed ? 0 : check.retryAfterMs, at: this.clock.now() };
      return Events.pinLockout(data);
    });
    this.pins.recorder.commit({ actor: 'kiosk', action: 'alarm.pin_lockout', data: { scopes: alarms.map((t) => t.s.kind), ...who }, events }, persist);
    this.pins.logger.warn({ ...who, scopes: alarms.map((t) => t.s.kind) }, 'courier PIN budget exhausted: alarm raised');
  }
}

function refOf(badge: Badge): BadgeRef {
  return { issuer: badge.issuer, jti: badge.jti, subject: badge.subject, issuedAt: badge.issuedAt };
}

// A valid scrypt hash of a PIN nobody has, so unknown couriers cost the same time as known ones.
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
