import { describe, expect, it } from 'vitest';
import { generatePickupToken, isPickupTokenInput, normalisePickupToken, PICKUP_TOKEN_PATTERN, pickupTokenDigest } from '../../../src/codes/pickupToken.js';
import { seededRandom } from '../../../kernel/random.js';

describe('pickup QR tokens', () => {
  it('are LK2: and 128 random bits in unpadded base64url, different every time', () => {
    const random = seededRandom('tokens');
    const tokens = new Set(Array.from({ length: 1000 }, () => generatePickupToken(random)));
    expect(tokens.size).toBe(1000);
    for (const t of tokens) {
      expect(t).toMatch(PICKUP_TOKEN_PATTERN);
      expect(Buffer.from(t.slice(4), 'base64url')).toHaveLength(16);
      expect(normalisePickupToken(t)).toBe(t);
    }
  });

  it('accept what a scanner sends around a token (spaces, lower-case prefix, full-width forms)', () => {
    const t = generatePickupToken(seededRandom(1));
    expect(normalisePickupToken(`  ${t}\r\n`)).toBe(t);
    expect(normalisePickupToken(`lk2:${t.slice(4)}`)).toBe(t);
    expect(isPickupTokenInput('ＬＫ２:abc')).toBe(true);
    expect(isPickupTokenInput('12345678')).toBe(false);
    expect(isPickupTokenInput('LK1:12345678')).toBe(false);
  });

  it.each(['LK2:', 'LK2:short', `LK2:${'A'.repeat(23)}`, `LK2:${'A'.repeat(21)}=`, `LK2:${'A'.repeat(21)}+`, `LK2:${'A'.repeat(21)}B`, `LK2:${'x'.repeat(300)}`])(
    'refuse %j as CODE_MALFORMED without echoing it',
    (raw) => {
      let error: unknown;
      try {
        normalisePickupToken(raw);
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'CODE_MALFORMED' });
      expect(JSON.stringify(error) + String((error as Error).message)).not.toContain(raw.slice(4, 20) || '\u0000');
    },
  );

  it('digest under the secret, distinct from any code digest', () => {
    const secret = new Uint8Array(32).fill(7);
    const t = generatePickupToken(seededRandom(2));
    expect(pickupTokenDigest(secret, t)).toMatch(/^[0-9a-f]{64}$/);
    expect(pickupTokenDigest(secret, t)).not.toBe(pickupTokenDigest(new Uint8Array(32).fill(8), t));
  });
});
