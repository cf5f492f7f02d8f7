// Badges as an attacker would shape them, signed with the demo locker's genuine carrier and
// operator keys (so only the claims decide), for the badge attack scenarios over HTTP.
import { BADGE_TYP } from '../../../src/credentials/badge.js';
import { signJwt } from '../../../src/crypto/jws.js';
import type { LockerHarness } from '../../support/lockerHarness.js';

export interface BadgeShape {
  role: 'courier' | 'operator';
  sub: string;
  iat: number;
  exp: number;
  jti?: string;
  iss?: string;
}

/** Signs a badge with the demo key of its issuer (swiftpost for couriers, the operator otherwise). */
export async function signBadge(h: LockerHarness, b: BadgeShape): Promise<string> {
  const issuer = b.iss ?? (b.role === 'courier' ? 'swiftpost' : h.config.operator.id);
  const key = b.role === 'courier' ? h.demo.keys.carriers[issuer]?.signing : h.demo.keys.operator.signing;
  if (!key) throw new Error(`no demo key for ${issuer}`);
  const claims = { iss: issuer, sub: b.sub, role: b.role, iat: b.iat, exp: b.exp, ...(b.role === 'courier' ? { perms: ['deposit', 'collect'] } : {}), ...(b.jti !== undefined ? { jti: b.jti } : {}) };
  return signJwt(key, claims, { typ: BADGE_TYP });
}

export const nowS = (): number => Math.floor(Date.now() / 1000);

export function loginPath(role: 'courier' | 'operator'): string {
  return role === 'courier' ? '/api/courier/login' : '/api/operator/login';
}
