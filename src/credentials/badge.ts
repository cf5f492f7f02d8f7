// Courier and operator badges: a compact JWS (EdDSA) shown as a QR code and verified offline
// against the keys the locker was provisioned with. A carrier's key can vouch only for that
// carrier's couriers; only the operator's keys can make an operator.
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.js';
import { BadgesConfig, CourierPermission, type Ed25519PublicJwk, type LockerConfig } from '../config/schema.js';
import { LockerError } from '../../kernel/errors.js';
import { badgeJwsErrors, signJwt, verifyJwt, type SigningKey } from '../crypto/jws.js';

/** typ header of a badge; a token of another kind (e.g. a signed command) is not a badge. */
export const BADGE_TYP = 'lk-badge+jwt';
/** Checked before any parsing; a QR code holds less than this anyway. */
export const MAX_BADGE_LENGTH = 4096;

const principal = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", at most 64');
const numericDate = z.number().int().nonnegative();
const common = {
  iss: principal,
  sub: principal,
  iat: numericDate,
  exp: numericDate,
  jti: z.string().min(1).max(128).optional(),
};

/** The claims of a badge. Times are JWT NumericDates (seconds since the epoch). */
export const BadgeClaims = z
  .discriminatedUnion('role', [
    z.object({ ...common, role: z.literal('courier'), perms: z.array(CourierPermission).min(1).optional() }),
    z.object({ ...common, role: z.literal('operator') }),
  ])
  .refine((c) => c.exp > c.iat, { message: 'exp must be after iat', path: ['exp'] });
export type BadgeClaims = z.infer<typeof BadgeClaims>;
/** What a badge is minted from: every new badge carries a jti, so it can be revoked on its own. */
export type MintBadgeClaims = BadgeClaims & { jti: string };

interface BadgeCommon {
  /** Carrier id (courier badges) or operator id. */
  issuer: string;
  /** Courier or operator id. */
  subject: string;
  /** Epoch milliseconds, like Clock.now(). */
  issuedAt: number;
  expiresAt: number;
  /** The badge id: every accepted badge has one. */
  jti: string;
}
export type CourierBadge = BadgeCommon & { role: 'courier'; permissions: CourierPermission[] };
export type OperatorBadge = BadgeCommon & { role: 'operator' };
export type Badge = CourierBadge | OperatorBadge;

export interface BadgeIssuer {
  kind: 'carrier' | 'operator';
  keys: readonly Ed25519PublicJwk[];
}
/** Issuer id -> its kind and Ed25519 public keys. */
export type BadgeKeyring = ReadonlyMap<string, BadgeIssuer>;

/** Every carrier's signing keys and the operator's, as configured. */
export function badgeKeyringFromConfig(config: Pick<LockerConfig, 'carriers' | 'operator'>): BadgeKeyring {
  const ring = new Map<string, BadgeIssuer>();
  for (const carrier of config.carriers) ring.set(carrier.id, { kind: 'carrier', keys: carrier.signingKeys });
  // The schema refuses a carrier with the operator's id, so this never shadows a carrier.
  if (config.operator.signingKeys.length > 0) ring.set(config.operator.id, { kind: 'operator', keys: config.operator.signingKeys });
  return ring;
}

export interface VerifyBadgeOptions {
  /** Leeway for exp, in seconds; the locker's clock may drift a little between NTP syncs. */
  clockToleranceS?: number;
  /** Lifetimes and iat skew; the configuration's defaults when absent. */
  policy?: BadgesConfig;
}

/** The badge policy when nothing is configured (the schema's defaults). */
export const BADGE_DEFAULTS: BadgesConfig = BadgesConfig.parse({});

/** The longest a badge of this role may live (exp - iat), in ms. */
export function maxBadgeLifetimeMs(policy: BadgesConfig, role: Badge['role']): number {
  return (role === 'courier' ? policy.courierMaxLifetimeHours : policy.operatorMaxLifetimeHours) * 3_600_000;
}

/**
 * Verifies a scanned badge: size, EdDSA only, issuer known, signature, expiry at the injected
 * clock's time, claims well-formed, role allowed for that issuer, a jti present, iat at most
 * the skew ahead, exp - iat within the role's maximum. Throws BADGE_INVALID or BADGE_EXPIRED
 * (context.reason says which check failed). Revocation is checked by the caller (Credentials).
 */
export async function verifyBadge(token: unknown, keyring: BadgeKeyring, clock: Clock, options: VerifyBadgeOptions = {}): Promise<Badge> {
  const { claims } = await verifyJwt(token, {
    errors: badgeJwsErrors,
    label: 'badge',
    maxLength: MAX_BADGE_LENGTH,
    typ: BADGE_TYP,
    clock,
    keysFor: (issuer) => keyring.get(issuer)?.keys,
    requiredClaims: ['sub', 'iat'],
    ...(options.clockToleranceS !== undefined ? { clockToleranceS: options.clockToleranceS } : {}),
  });
  const parsed = BadgeClaims.safeParse(claims);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(claims)'))].join(', ');
    throw new LockerError('BADGE_INVALID', `badge refused: invalid claims (${fields})`, { reason: 'claims_invalid', fields });
  }
  const c = parsed.data;
  const issuer = keyring.get(c.iss);
  const wantedKind = c.role === 'courier' ? 'carrier' : 'operator';
  if (!issuer || issuer.kind !== wantedKind) {
    throw new LockerError('BADGE_INVALID', `badge refused: "${c.iss}" may not issue ${c.role} badges`, { reason: 'role_not_allowed', issuer: c.iss, role: c.role });
  }
  const policy = options.policy ?? BADGE_DEFAULTS;
  // Badges minted before ids existed cannot be revoked one by one: refused (re-issue them).
  if (c.jti === undefined) {
    throw new LockerError('BADGE_INVALID', 'badge refused: it has no badge id (jti); ask for a new badge', { reason: 'jti_missing' });
  }
  const skewMs = policy.iatSkewS * 1000;
  if (c.iat * 1000 > clock.now() + skewMs) {
    throw new LockerError('BADGE_INVALID', 'badge refused: issued in the future; check the clocks of the issuer and the locker', {
      reason: 'issued_in_future',
      skewS: policy.iatSkewS,
    });
  }
  const maxMs = maxBadgeLifetimeMs(policy, c.role);
  if ((c.exp - c.iat) * 1000 > maxMs) {
    throw new LockerError('BADGE_INVALID', `badge refused: a ${c.role} badge may be valid for at most ${Math.round(maxMs / 3_600_000)} h`, {
      reason: 'lifetime_exceeded',
      maxLifetimeHours: Math.round(maxMs / 3_600_000),
    });
  }
  const base: BadgeCommon = { issuer: c.iss, subject: c.sub, issuedAt: c.iat * 1000, expiresAt: c.exp * 1000, jti: c.jti };
  // A courier badge without perms grants what a configured courier gets by default.
  return c.role === 'courier' ? { ...base, role: 'courier', permissions: c.perms ?? ['deposit', 'collect'] } : { ...base, role: 'operator' };
}

/** Signs a badge (for carrier tools, the operator's CLI, the simulator and tests). */
export async function mintBadge(privateKey: SigningKey, claims: MintBadgeClaims, options: { kid?: string } = {}): Promise<string> {
  const parsed = BadgeClaims.safeParse(claims);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new LockerError('INPUT_INVALID', `cannot mint a badge with invalid claims (${fields})`, { fields });
  }
  return signJwt(privateKey, parsed.data, { typ: BADGE_TYP, ...(options.kid !== undefined ? { kid: options.kid } : {}) });
}
