// Keys and badges for the simulator demo and the tests: every carrier of the demo config and
// the operator get a real Ed25519 signing key (badges, commands) and carriers an X25519 key
// (pickup codes), generated once and kept in <dataDir>/demo-keys so badges survive restarts.
// Production lockers never use this: their carriers' public keys come from provisioning.
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type Clock } from '../../kernel/clock.js';
import { type LockerConfig } from '../config/schema.js';
import { mintBadge } from '../credentials/badge.js';
import { hashPin } from '../credentials/pin.js';
import { Ed25519PrivateJwk, X25519PrivateJwk, generateEncryptionKeyPair, generateSigningKeyPair, publicJwkOf } from '../crypto/keys.js';
import { cryptoRandom, type RandomSource } from '../../kernel/random.js';

const DemoKeyFile = z.object({
  carriers: z.record(z.string(), z.object({ signing: Ed25519PrivateJwk, encryption: X25519PrivateJwk })),
  operator: z.object({ signing: Ed25519PrivateJwk }),
});
export type DemoKeys = z.infer<typeof DemoKeyFile>;

/** The demo courier's PIN (6 digits, the minimum: src/credentials/pin.ts). */
export const DEMO_COURIER_PIN = '246813';
/**
 * The demo courier's ID: four digits like a carrier's staff number, so that its PIN login at the
 * kiosk is 12 taps (carrier, 4 keys, 6 PIN digits, Log in; docs/kiosk.md "Taps per task").
 */
export const DEMO_COURIER_ID = '4711';

export async function loadOrCreateDemoKeys(dir: string, carrierIds: string[]): Promise<DemoKeys> {
  const file = join(dir, 'demo-keys.json');
  let keys: DemoKeys = { carriers: {}, operator: { signing: (await generateSigningKeyPair()).privateJwk } };
  let dirty = true;
  try {
    keys = DemoKeyFile.parse(JSON.parse(await readFile(file, 'utf8')));
    dirty = false;
  } catch {
    // first start (or a damaged demo file): make new demo keys
  }
  for (const id of carrierIds) {
    if (keys.carriers[id]) continue;
    keys.carriers[id] = { signing: (await generateSigningKeyPair()).privateJwk, encryption: (await generateEncryptionKeyPair()).privateJwk };
    dirty = true;
  }
  if (dirty) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(file, JSON.stringify(keys, null, 2), { mode: 0o600 });
    // The mode above applies only to a new file; demo private keys are private in any case.
    await chmod(dir, 0o700);
    await chmod(file, 0o600);
  }
  return keys;
}

/** The config with the demo keys' public halves in place, and a demo courier with a PIN per carrier. */
export async function withDemoKeys(config: LockerConfig, keys: DemoKeys, random: RandomSource): Promise<LockerConfig> {
  const carriers = await Promise.all(
    config.carriers.map(async (c) => {
      const k = keys.carriers[c.id];
      if (!k) return c;
      return {
        ...c,
        signingKeys: [await publicJwkOf(k.signing)],
        encryptionKey: await publicJwkOf(k.encryption),
        couriers: c.couriers.length ? c.couriers : [{ id: DEMO_COURIER_ID, pinHash: await hashPin(DEMO_COURIER_PIN, random, { N: 1024, r: 8, p: 1 }), permissions: ['deposit' as const, 'collect' as const] }],
      };
    }),
  );
  return { ...config, carriers, operator: { ...config.operator, signingKeys: [await publicJwkOf(keys.operator.signing)] } };
}

/** Demo badges live 12 hours, well inside the default maximum lifetimes, and carry a random id. */
export const DEMO_BADGE_VALID_S = 12 * 3_600;

export async function mintDemoCourierBadge(
  keys: DemoKeys,
  carrier: string,
  courierId: string,
  clock: Clock,
  perms: ('deposit' | 'collect')[] = ['deposit', 'collect'],
  validS = DEMO_BADGE_VALID_S,
  random: RandomSource = cryptoRandom(),
): Promise<string> {
  const k = keys.carriers[carrier];
  if (!k) throw new Error(`no demo key for carrier ${carrier}`);
  const iat = Math.floor(clock.now() / 1000);
  return mintBadge(k.signing, { iss: carrier, sub: courierId, role: 'courier', perms, iat, exp: iat + validS, jti: badgeId(random) });
}

export async function mintDemoOperatorBadge(keys: DemoKeys, operatorId: string, subject: string, clock: Clock, validS = DEMO_BADGE_VALID_S, random: RandomSource = cryptoRandom()): Promise<string> {
  const iat = Math.floor(clock.now() / 1000);
  return mintBadge(keys.operator.signing, { iss: operatorId, sub: subject, role: 'operator', iat, exp: iat + validS, jti: badgeId(random) });
}

function badgeId(random: RandomSource): string {
  return `demo-${Buffer.from(random.bytes(12)).toString('base64url')}`;
}
