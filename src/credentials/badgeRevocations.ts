// The badge revocation list: entries pushed by signed carrier and operator commands, kept in
// SQLite so they hold offline and across restarts, and bounded in size. An entry covers one
// badge (issuer + jti) or every badge of a subject issued before a "not before" time; it is
// forgotten once every badge it covers has expired (its basis + the role's maximum lifetime +
// the iat skew). Listeners hear of every new revocation, so live kiosk sessions can end.
import type { Clock } from '../../kernel/clock.js';
import type { BadgesConfig } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import type { LockerStore, RevocationRow } from '../store/lockerStore.js';
import { maxBadgeLifetimeMs } from './badge.js';

export type BadgeRole = 'courier' | 'operator';

/** What identifies a badge for revocation: its issuer, id, subject and issue time. */
export interface BadgeRef {
  issuer: string;
  jti: string;
  subject: string;
  /** Epoch ms (iat). */
  issuedAt: number;
}

export type RevocationTarget =
  | { by: 'badge'; issuer: string; role: BadgeRole; jti: string }
  /** notBefore in epoch ms: badges of the subject issued before it are refused. */
  | { by: 'subject'; issuer: string; role: BadgeRole; subject: string; notBefore: number };

export interface RevocationOutcome {
  row: RevocationRow;
  /** False when an entry at least as strong was already in force. */
  added: boolean;
  entries: number;
  keptUntil: number;
}

export type RevocationListener = (row: RevocationRow) => void;

/** Does this entry refuse this badge? */
export function revocationCovers(row: Pick<RevocationRow, 'issuer' | 'kind' | 'target' | 'notBefore'>, badge: BadgeRef): boolean {
  if (row.issuer !== badge.issuer) return false;
  if (row.kind === 'badge') return row.target === badge.jti;
  return row.target === badge.subject && row.notBefore !== null && badge.issuedAt < row.notBefore;
}

export class BadgeRevocations {
  private readonly listeners = new Set<RevocationListener>();

  /** policy is read at every call, so a changed configuration applies at once. */
  constructor(
    private readonly store: LockerStore,
    private readonly clock: Clock,
    private readonly policy: () => BadgesConfig,
  ) {}

  /** The entry that refuses this badge, if any. */
  covering(badge: BadgeRef): RevocationRow | undefined {
    return this.store.revocationsCovering(badge.issuer, badge.jti, badge.subject).find((r) => revocationCovers(r, badge));
  }

  /**
   * Adds (or strengthens) an entry, with its audit record, in one transaction. Refuses with
   * BADGE_REVOCATIONS_FULL when the issuer's share of the list is used up by live entries:
   * evicting one would bring a revoked badge back.
   */
  revoke(target: RevocationTarget, revokedBy: string, reason?: string): RevocationOutcome {
    const now = this.clock.now();
    const policy = this.policy();
    const kind = target.by;
    const key = target.by === 'badge' ? target.jti : target.subject;
    const notBefore = target.by === 'subject' ? target.notBefore : null;
    // A subject's not-before far ahead would keep an entry (and refuse new badges) indefinitely.
    const horizon = now + maxBadgeLifetimeMs(policy, target.role);
    if (notBefore !== null && notBefore > horizon) {
      throw new LockerError(ErrorCodes.INPUT_INVALID, `notBefore may be at most ${Math.round(maxBadgeLifetimeMs(policy, target.role) / 3_600_000)} h ahead`, { field: 'notBefore' });
    }
    const row: RevocationRow = { issuer: target.issuer, kind, target: key, role: target.role, notBefore, basisAt: notBefore ?? now, revokedAt: now, revokedBy };
    const outcome = this.store.transaction(() => {
      this.prune(now);
      const before = this.store.revocation(row.issuer, kind, key);
      const stronger = !before || (row.kind === 'subject' && (before.notBefore ?? 0) < (row.notBefore ?? 0));
      if (!before && this.store.revocationCount(row.issuer) >= policy.maxRevocationsPerIssuer) {
        throw new LockerError(ErrorCodes.BADGE_REVOCATIONS_FULL, `the revocation list of "${row.issuer}" is full (${policy.maxRevocationsPerIssuer} live entries); revoke by subject instead`, {
          issuer: row.issuer,
          max: policy.maxRevocationsPerIssuer,
        });
      }
      this.store.putRevocation(row);
      const stored = this.store.revocation(row.issuer, kind, key) ?? row;
      this.store.audit(now, revokedBy, 'badge.revoked', row.issuer, {
        by: kind,
        target: key,
        ...(stored.notBefore !== null ? { notBefore: stored.notBefore } : {}),
        ...(reason !== undefined ? { reason } : {}),
      });
      return { row: stored, added: stronger, entries: this.store.revocationCount(row.issuer), keptUntil: this.expiryOf(stored, policy) };
    });
    if (outcome.added) for (const l of this.listeners) l(outcome.row);
    return outcome;
  }

  /** Subscribes to new revocations (kiosk sessions of a revoked badge end). Returns the unsubscribe. */
  onRevoked(listener: RevocationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Deletes every entry whose badges have all expired. */
  prune(now = this.clock.now()): number {
    const policy = this.policy();
    const skew = policy.iatSkewS * 1000;
    let n = 0;
    for (const role of ['courier', 'operator'] as const) n += this.store.pruneRevocations(role, now - maxBadgeLifetimeMs(policy, role) - skew);
    return n;
  }

  /** When an entry may go: a badge it covers has iat <= basis + skew and lives at most the maximum. */
  private expiryOf(row: RevocationRow, policy: BadgesConfig): number {
    return row.basisAt + maxBadgeLifetimeMs(policy, row.role) + policy.iatSkewS * 1000;
  }
}
