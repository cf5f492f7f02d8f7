// Key files of lockerctl users (operators, carrier integrators): private JWKs in files of mode
// 0600, public halves printed and saved beside them for enrolment elsewhere. Also the locker
// public key document an operator enrols ({signingKey, encryptionKey}).
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CryptoKey } from 'jose';
import { z } from 'zod';
import { Ed25519PublicJwk, X25519PublicJwk } from '../../config/schema.js';
import { LockerError } from '../../../kernel/errors.js';
import {
  Ed25519PrivateJwk,
  X25519PrivateJwk,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  importEncryptionKey,
  importSigningKey,
  publicJwkOf,
} from '../../crypto/keys.js';

/** Public keys of one party: what gets enrolled (a locker) or provisioned (a carrier, the operator). */
export const PublicKeys = z.object({
  id: z.string().min(1).max(64).optional(),
  signingKey: Ed25519PublicJwk,
  encryptionKey: X25519PublicJwk.optional(),
});
export type PublicKeys = z.infer<typeof PublicKeys>;

export interface KeygenResult {
  signingKeyFile: string;
  encryptionKeyFile: string;
  publicFile: string;
  publicKeys: Required<Omit<PublicKeys, 'id'>> & { id: string };
}

/** Writes <name>.sign.jwk and <name>.enc.jwk (0600, never overwritten) and <name>.pub.json. */
export async function keygen(dir: string, name: string): Promise<KeygenResult> {
  await mkdir(dir, { recursive: true });
  const signing = await generateSigningKeyPair();
  const encryption = await generateEncryptionKeyPair();
  const signingKeyFile = join(dir, `${name}.sign.jwk`);
  const encryptionKeyFile = join(dir, `${name}.enc.jwk`);
  const publicFile = join(dir, `${name}.pub.json`);
  await writePrivate(signingKeyFile, signing.privateJwk);
  await writePrivate(encryptionKeyFile, encryption.privateJwk);
  const publicKeys = { id: name, signingKey: signing.publicJwk, encryptionKey: encryption.publicJwk };
  await writeFile(publicFile, JSON.stringify(publicKeys, null, 2) + '\n', { mode: 0o644 });
  return { signingKeyFile, encryptionKeyFile, publicFile, publicKeys };
}

async function writePrivate(path: string, jwk: unknown): Promise<void> {
  // O_EXCL: an existing key is never replaced by accident; deleting it is a deliberate act.
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') throw new LockerError('INPUT_INVALID', `${path} exists; refusing to overwrite a key`, { file: path });
    throw e;
  });
  try {
    await handle.writeFile(JSON.stringify(jwk, null, 2) + '\n');
  } finally {
    await handle.close();
  }
  await chmod(path, 0o600);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (e) {
    throw new LockerError('INPUT_INVALID', `cannot read ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
  }
}

export interface LoadedSigningKey {
  key: CryptoKey;
  kid: string;
  publicJwk: Ed25519PublicJwk;
}

export async function loadSigningKey(path: string): Promise<LoadedSigningKey> {
  const parsed = Ed25519PrivateJwk.safeParse(await readJson(path));
  if (!parsed.success) throw new LockerError('INPUT_INVALID', `${path} is not a private Ed25519 JWK`, { file: path });
  const publicJwk = await publicJwkOf(parsed.data);
  return { key: await importSigningKey(parsed.data), kid: publicJwk.kid ?? '', publicJwk };
}

export async function loadEncryptionKey(path: string): Promise<CryptoKey> {
  const parsed = X25519PrivateJwk.safeParse(await readJson(path));
  if (!parsed.success) throw new LockerError('INPUT_INVALID', `${path} is not a private X25519 JWK`, { file: path });
  return importEncryptionKey(parsed.data);
}

export async function loadPublicKeys(path: string): Promise<PublicKeys> {
  const parsed = PublicKeys.safeParse(await readJson(path));
  if (!parsed.success) throw new LockerError('INPUT_INVALID', `${path} is not a public key document {signingKey, encryptionKey?}`, { file: path });
  return parsed.data;
}
