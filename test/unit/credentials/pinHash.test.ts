import { describe, expect, it } from 'vitest';
import { scryptSync } from 'node:crypto';
import { CarrierConfig } from '../../../src/config/schema.js';
import { DEFAULT_PIN_PARAMS, hashPin, isValidPin, parsePinHash, verifyPin } from '../../../src/credentials/pin.js';
import { cryptoRandom, seededRandom } from '../../../kernel/random.js';

// Cheap parameters keep the suite fast; one test below runs the production defaults.
const fast = { N: 1024, r: 8, p: 1 };

describe('courier PIN hashes', () => {
  it('verify the right PIN and refuse a wrong one', async () => {
    const encoded = await hashPin('471100', cryptoRandom(), fast);
    expect(await verifyPin('471100', encoded)).toBe(true);
    expect(await verifyPin('471101', encoded)).toBe(false);
    expect(await verifyPin('4711000', encoded)).toBe(false);
  });

  it('use the format scrypt$N$r$p$salt$hash', async () => {
    const encoded = await hashPin('20260101', seededRandom('pin'), fast);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(parsePinHash(encoded)).toMatchObject({ N: 1024, r: 8, p: 1 });
  });

  it('are salted: the same PIN hashes differently with fresh randomness', async () => {
    const a = await hashPin('123456', cryptoRandom(), fast);
    const b = await hashPin('123456', cryptoRandom(), fast);
    expect(a).not.toBe(b);
    expect(await hashPin('123456', seededRandom(3), fast)).toBe(await hashPin('123456', seededRandom(3), fast));
  });

  it('verify a hash made independently with node’s scrypt', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const hash = scryptSync('908172', salt, 32, { N: 2048, r: 4, p: 2 });
    const encoded = `scrypt$2048$4$2$${salt.toString('base64')}$${hash.toString('base64')}`;
    expect(await verifyPin('908172', encoded)).toBe(true);
    expect(await verifyPin('908173', encoded)).toBe(false);
  });

  it('work with the production parameters and fit the configuration schema', async () => {
    const encoded = await hashPin('808080', cryptoRandom());
    expect(parsePinHash(encoded)).toMatchObject(DEFAULT_PIN_PARAMS);
    expect(await verifyPin('808080', encoded)).toBe(true);
    const carrier = CarrierConfig.parse({
      id: 'swiftpost',
      name: 'SwiftPost',
      signingKeys: [{ kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) }],
      couriers: [{ id: 'c1', pinHash: encoded }],
    });
    expect(carrier.couriers[0]?.pinHash).toBe(encoded);
  });

  it.each(['123', '1234', '12345', '1234567890123', 'abcdef', '123 456', '', '１２３４５６', '123456\n'])('refuse to hash the PIN %j', async (pin) => {
    await expect(hashPin(pin, cryptoRandom(), fast)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('treat a PIN that breaks the rules as wrong when verifying', async () => {
    const encoded = await hashPin('123456', cryptoRandom(), fast);
    expect(await verifyPin('12a456', encoded)).toBe(false);
    // Shorter than 6 digits: wrong without a hash (the hash of '1234' is not even tried).
    expect(await verifyPin('1234', await hashPin('123400', cryptoRandom(), fast))).toBe(false);
    expect(await verifyPin('', encoded)).toBe(false);
  });

  it('notice a tampered hash', async () => {
    const encoded = await hashPin('555555', cryptoRandom(), fast);
    const parts = encoded.split('$');
    const hash = Buffer.from(parts[5]!, 'base64');
    hash[0] = (hash[0] ?? 0) ^ 1;
    parts[5] = hash.toString('base64');
    expect(await verifyPin('555555', parts.join('$'))).toBe(false);
  });

  it.each([
    ['not a hash', 'plain-text-pin-1234'],
    ['wrong scheme', 'bcrypt$10$abc$def$ghi$jkl'],
    ['too few parts', 'scrypt$1024$8$1$c2FsdHNhbHQ='],
    ['N not a power of two', `scrypt$1000$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`],
    ['N too large (memory)', `scrypt$1073741824$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`],
    ['r absurd', `scrypt$1024$4096$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`],
    ['leading zero', `scrypt$01024$8$1$${'A'.repeat(22)}==$${'A'.repeat(43)}=`],
    ['salt not base64', `scrypt$1024$8$1$%%%%$${'A'.repeat(43)}=`],
    ['hash too short', `scrypt$1024$8$1$${'A'.repeat(22)}==$AAAA`],
  ])('report a stored hash that is %s as CRYPTO_ERROR', async (_why, encoded) => {
    await expect(verifyPin('1234', encoded)).rejects.toMatchObject({ code: 'CRYPTO_ERROR' });
  });

  it.each([
    ['123456', true],
    ['12345678', true],
    ['000000', true],
    ['123456789012', true],
    ['1234', false],
    ['12345', false],
    ['1234567890123', false],
    ['123-456', false],
  ])('isValidPin(%j) is %s', (pin, ok) => {
    expect(isValidPin(pin)).toBe(ok);
  });
});
