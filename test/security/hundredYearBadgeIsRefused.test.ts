// Attack: a badge valid for a hundred years (signed by the genuine carrier or operator key, e.g.
// minted by a careless integration or leaked once) logs in forever. Rule: a maximum lifetime per
// role (courier 7 days, operator 24 h by default), and every badge carries an id (jti) so it
// can be revoked on its own; a badge without one is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockerHarness, errorCode, errorContext } from '../support/lockerHarness.js';
import { loginPath, nowS, signBadge } from './support/badgeBench.js';

const YEAR_S = 365 * 86_400;

describe('a hundred-year badge is refused', () => {
  let h: LockerHarness;
  beforeAll(async () => {
    h = await LockerHarness.start();
  });
  afterAll(async () => {
    await h?.cleanup();
  });

  for (const role of ['courier', 'operator'] as const) {
    it(`refuses a 100-year ${role} badge at the kiosk with BADGE_INVALID (lifetime_exceeded)`, async () => {
      const badge = await signBadge(h, { role, sub: `${role}-forever`, iat: nowS(), exp: nowS() + 100 * YEAR_S, jti: `${role}-100y` });
      const r = await h.api('POST', loginPath(role), { badge });
      expect(r.status).toBe(401);
      expect(errorCode(r)).toBe('BADGE_INVALID');
      expect(errorContext(r)).toMatchObject({ reason: 'lifetime_exceeded' });
    });
  }

  it('accepts the maximum lifetimes and refuses an hour more', async () => {
    const ok = await signBadge(h, { role: 'courier', sub: 'courier-week', iat: nowS(), exp: nowS() + 7 * 86_400, jti: 'c-week' });
    expect((await h.api('POST', '/api/courier/login', { badge: ok })).status).toBe(200);
    const over = await signBadge(h, { role: 'courier', sub: 'courier-week', iat: nowS(), exp: nowS() + 7 * 86_400 + 3_600, jti: 'c-week-plus' });
    expect(errorCode(await h.api('POST', '/api/courier/login', { badge: over }))).toBe('BADGE_INVALID');
    const op = await signBadge(h, { role: 'operator', sub: 'ops-day', iat: nowS(), exp: nowS() + 86_400, jti: 'o-day' });
    expect((await h.api('POST', '/api/operator/login', { badge: op })).status).toBe(200);
    const opOver = await signBadge(h, { role: 'operator', sub: 'ops-day', iat: nowS(), exp: nowS() + 2 * 86_400, jti: 'o-2days' });
    expect(errorCode(await h.api('POST', '/api/operator/login', { badge: opOver }))).toBe('BADGE_INVALID');
  });

  it('refuses a badge without a badge id (it could not be revoked on its own)', async () => {
    const badge = await signBadge(h, { role: 'courier', sub: 'courier-old', iat: nowS(), exp: nowS() + 3_600 });
    const r = await h.api('POST', '/api/courier/login', { badge });
    expect(errorCode(r)).toBe('BADGE_INVALID');
    expect(errorContext(r)).toMatchObject({ reason: 'jti_missing' });
  });
});
