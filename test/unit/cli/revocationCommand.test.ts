import { describe, expect, it } from 'vitest';
import { revocationCommand } from '../../../src/cli/lockerctl/revocation.js';
import { signJwt } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair } from '../../../src/crypto/keys.js';

const now = Date.UTC(2026, 5, 1, 12);

describe('lockerctl revoke builds the revocation command', () => {
  it('a carrier revokes its own badge by id or by subject (not-before now by default)', () => {
    expect(revocationCommand({ issuer: 'acme', operator: false, badgeId: 'b-1', now })).toEqual({ cmd: 'revokeCourierBadge', args: { by: 'badge', jti: 'b-1' } });
    expect(revocationCommand({ issuer: 'acme', operator: false, subject: 'c-9', reason: 'left', now })).toEqual({
      cmd: 'revokeCourierBadge',
      args: { by: 'subject', subject: 'c-9', notBefore: now / 1000, reason: 'left' },
    });
  });

  it('the operator names whose badges, or takes jti and iss from a badge token', async () => {
    expect(revocationCommand({ issuer: 'operator', operator: true, badgeIssuer: 'acme', subject: 'c-1', notBefore: 5, now })).toEqual({
      cmd: 'revokeBadge',
      args: { by: 'subject', subject: 'c-1', notBefore: 5, issuer: 'acme' },
    });
    const k = await generateSigningKeyPair();
    const badge = await signJwt(k.privateKey, { iss: 'acme', sub: 'c-1', jti: 'from-token', iat: 1, exp: 2 });
    expect(revocationCommand({ issuer: 'operator', operator: true, badge, now })).toEqual({ cmd: 'revokeBadge', args: { by: 'badge', jti: 'from-token', issuer: 'acme' } });
    expect(() => revocationCommand({ issuer: 'operator', operator: true, badgeId: 'x', now })).toThrow(/badge-issuer/);
  });

  it('refuses what the locker would refuse anyway: both or neither target, another carrier', () => {
    expect(() => revocationCommand({ issuer: 'acme', operator: false, now })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => revocationCommand({ issuer: 'acme', operator: false, badgeId: 'b', subject: 's', now })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => revocationCommand({ issuer: 'acme', operator: false, badgeIssuer: 'bolt', badgeId: 'b', now })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
    expect(() => revocationCommand({ issuer: 'acme', operator: false, badge: 'not a token', now })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});
