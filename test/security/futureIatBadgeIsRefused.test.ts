// Attack: a badge "issued" in the future (iat ahead of the locker's clock) is accepted, so a
// badge can be post-dated to outlive any lifetime rule or revocation window. Rule: iat may be
// at most badges.iatSkewS (60 s by default) ahead of the locker's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockerHarness, errorCode, errorContext } from '../support/lockerHarness.js';
import { loginPath, nowS, signBadge } from './support/badgeBench.js';

describe('a badge with iat in the future is refused', () => {
  let h: LockerHarness;
  beforeAll(async () => {
    h = await LockerHarness.start();
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  for (const role of ['courier', 'operator'] as const) {
    it(`refuses a ${role} badge issued an hour ahead with BADGE_INVALID (issued_in_future)`, async () => {
      const badge = await signBadge(h, { role, sub: `${role}-ahead`, iat: nowS() + 3_600, exp: nowS() + 7_200, jti: `${role}-ahead-1` });
      const r = await h.api('POST', loginPath(role), { badge });
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('BADGE_INVALID');
      expect(errorContext(r)).toMatchObject({ reason: 'issued_in_future' });
    });
  }

  it('tolerates an issuer clock a little ahead (within the skew)', async () => {
    const badge = await signBadge(h, { role: 'courier', sub: 'courier-skewed', iat: nowS() + 20, exp: nowS() + 3_600, jti: 'skewed-1' });
    expect((await h.api('POST', '/api/courier/login', { badge })).status).toBe(200);
  });
});
