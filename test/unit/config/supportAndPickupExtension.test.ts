import { describe, expect, it } from 'vitest';
import { CarrierConfig, PickupExtensionRule, SupportContact } from '../../../src/config/schema.js';
import { supportDirectory, supportFor } from '../../../src/kiosk/support.js';

const key = { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) } as const;

describe('support contacts and the pickup extension rule in the configuration', () => {
  it('accepts a phone number, an https QR link or both, and refuses neither', () => {
    expect(SupportContact.parse({ phone: '+44 20 7946 0000' }).phone).toBe('+44 20 7946 0000');
    expect(SupportContact.parse({ qrUrl: 'https://help.example/locker' }).qrUrl).toBe('https://help.example/locker');
    expect(SupportContact.safeParse({}).success).toBe(false);
    expect(SupportContact.safeParse({ qrUrl: 'http://help.example' }).success).toBe(false);
    expect(SupportContact.safeParse({ phone: 'call me' }).success).toBe(false);
    expect(SupportContact.safeParse({ phone: '1'.repeat(33) }).success).toBe(false);
  });

  it('draws only https: and tel: links as QR codes, 256 characters at most (issue 11, flow 3)', () => {
    expect(SupportContact.parse({ qrUrl: 'tel:+442079460000' }).qrUrl).toBe('tel:+442079460000');
    expect(SupportContact.parse({ qrUrl: 'tel:400-800-8000' }).qrUrl).toBe('tel:400-800-8000');
    expect(SupportContact.parse({ qrUrl: `https://help.example/${'a'.repeat(256 - 21)}` }).qrUrl).toHaveLength(256);
    for (const qrUrl of ['javascript:alert(1)', 'data:text/html,hi', 'ftp://help.example', 'tel:call-me', 'tel:+44 20 7946', 'sms:+4420', 'https://help.example/a b', `https://help.example/${'a'.repeat(256 - 20)}`, 'https:/'])
      expect(SupportContact.safeParse({ qrUrl }).success, qrUrl).toBe(false);
  });

  it('a carrier has its own help line and pickup extension rule; the locker has a default line', () => {
    const c = CarrierConfig.parse({ id: 'swift', name: 'SwiftPost', signingKeys: [key], support: { phone: '400 800 8000' }, pickupExtension: { maxHours: 48 } });
    expect(c.pickupExtension).toEqual({ maxHours: 48, times: 1 });
    expect(PickupExtensionRule.safeParse({ maxHours: 0 }).success).toBe(false);
  });

  it('the carrier line wins for its parcels, the locker default otherwise', () => {
    const dir = supportDirectory({ phone: '0800 000 000' }, [
      { id: 'swift', name: 'SwiftPost', support: { phone: '400 800 8000' } },
      { id: 'quick', name: 'Quick' },
    ]);
    expect(supportFor(dir, 'swift')?.phone).toBe('400 800 8000');
    expect(supportFor(dir, 'quick')?.phone).toBe('0800 000 000');
    expect(supportFor(dir, undefined)?.phone).toBe('0800 000 000');
    expect(dir.carriers).toEqual([
      { id: 'swift', name: 'SwiftPost', support: { phone: '400 800 8000' } },
      { id: 'quick', name: 'Quick' },
    ]);
  });
});
