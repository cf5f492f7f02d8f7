// Builds the signed command that revokes badges (docs/protocol.md, "Badge revocation"): a
// carrier sends revokeCourierBadge on its own topic (its own badges only), the operator sends
// revokeBadge naming whose badges. By badge id (or a badge token, whose jti and iss are read
// unverified: the locker checks nothing from it but the id) or by subject with a not-before.
import { decodeJwt } from 'jose';
import { LockerError } from '../../../kernel/errors.js';

export interface RevocationInput {
  /** The command's signer: a carrier id, or the operator id with operator true. */
  issuer: string;
  operator: boolean;
  /** Whose badges (operator only; a carrier always revokes its own). */
  badgeIssuer?: string;
  badgeId?: string;
  /** A badge token to revoke: its jti (and iss, for the operator) are taken from it. */
  badge?: string;
  subject?: string;
  /** Seconds since the epoch; badges of the subject issued before it are refused. */
  notBefore?: number;
  reason?: string;
  /** The sender's clock, ms. */
  now: number;
}

/** Command lifetime: long enough to wait for a locker that is briefly offline (at most 24 h is accepted). */
export const REVOCATION_TTL_S = 3_600;

export function revocationCommand(input: RevocationInput): { cmd: 'revokeBadge' | 'revokeCourierBadge'; args: Record<string, unknown> } {
  let { badgeId, badgeIssuer } = input;
  if (input.badge !== undefined) {
    let claims: { jti?: unknown; iss?: unknown };
    try {
      claims = decodeJwt(input.badge);
    } catch {
      throw new LockerError('INPUT_INVALID', 'the badge is not a readable token');
    }
    if (typeof claims.jti !== 'string') throw new LockerError('INPUT_INVALID', 'the badge has no badge id (jti); revoke by subject');
    badgeId = claims.jti;
    if (typeof claims.iss === 'string') badgeIssuer ??= claims.iss;
  }
  const byBadge = badgeId !== undefined;
  if (byBadge === (input.subject !== undefined)) throw new LockerError('INPUT_INVALID', 'name exactly one of a badge id (or badge) and a subject');
  const target = byBadge ? { by: 'badge', jti: badgeId } : { by: 'subject', subject: input.subject, notBefore: input.notBefore ?? Math.floor(input.now / 1000) };
  const reason = input.reason !== undefined ? { reason: input.reason } : {};
  if (input.operator) {
    if (badgeIssuer === undefined) throw new LockerError('INPUT_INVALID', 'the operator names whose badges: --badge-issuer (a carrier id or the operator id)');
    return { cmd: 'revokeBadge', args: { ...target, issuer: badgeIssuer, ...reason } };
  }
  if (badgeIssuer !== undefined && badgeIssuer !== input.issuer) throw new LockerError('INPUT_INVALID', `carrier "${input.issuer}" can revoke only its own badges`);
  return { cmd: 'revokeCourierBadge', args: { ...target, ...reason } };
}
