// The locker's own secrets in <dataDir>/identity/: the Ed25519 key that signs its events, the
// X25519 key carriers encrypt chosen codes to, and the HMAC secret under which codes are stored.
// Created once on first start (mode 0600), loaded unchanged ever after. A damaged file stops the
// start with CRYPTO_ERROR: replacing it would silently invalidate every code and signature.
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CryptoKey } from 'jose';
import type { z } from 'zod';
import type { Ed25519PublicJwk, X25519PublicJwk } from '../config/schema.js';
import { LockerError } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';
import type { RandomSource } from '../../kernel/random.js';
import {
  Ed25519PrivateJwk,
  X25519PrivateJwk,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  importEncryptionKey,
  importSigningKey,
  privateJwkIsConsistent,
  publicJwkOf,
} from './keys.js';

export const CODE_SECRET_BYTES = 32;

export interface LockerIdentity {
  /** Signs events and replies; not extractable. */
  signingKey: CryptoKey;
  signingPublicJwk: Ed25519PublicJwk;
  /** Decrypts codes carriers chose and encrypted to this locker; not extractable. */
  encryptionKey: CryptoKey;
  encryptionPublicJwk: X25519PublicJwk;
  /** HMAC-SHA256 key for code digests (see codes/pickupCode.ts). */
  codeSecret: Uint8Array;
}

export interface IdentityPaths {
  dir: string;
  signingKey: string;
  encryptionKey: string;
  codeSecret: string;
}

export function identityPaths(dataDir: string): IdentityPaths {
  const dir = join(dataDir, 'identity');
  return {
    dir,
    signingKey: join(dir, 'signing-key.jwk.json'),
    encryptionKey: join(dir, 'encryption-key.jwk.json'),
    codeSecret: join(dir, 'code-secret.bin'),
  };
}

export interface IdentityDeps {
  random: RandomSource;
  logger: Logger;
}

/** Loads the identity from dataDir, creating whichever part is missing. */
export async function loadOrCreateLockerIdentity(dataDir: string, deps: IdentityDeps): Promise<LockerIdentity> {
  const log = deps.logger.child({ channel: 'identity' });
  const paths = identityPaths(dataDir);
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await tightenMode(paths.dir, 0o700, log);
  const present = new Set(await readdir(paths.dir));
  // Creating one part while others exist means a file went missing: loud, since e.g. a new
  // code secret makes every code issued before unusable.
  const partial = [paths.signingKey, paths.encryptionKey, paths.codeSecret].some((p) => present.has(basename(p)));

  const signingJwk = await loadOrCreateFile(paths.signingKey, log, partial, {
    what: 'signing key',
    parse: (bytes) => parseJwkFile(bytes, Ed25519PrivateJwk),
    create: async () => {
      const pair = await generateSigningKeyPair();
      return { value: pair.privateJwk, bytes: jsonBytes(pair.privateJwk) };
    },
  });
  const encryptionJwk = await loadOrCreateFile(paths.encryptionKey, log, partial, {
    what: 'encryption key',
    parse: (bytes) => parseJwkFile(bytes, X25519PrivateJwk),
    create: async () => {
      const pair = await generateEncryptionKeyPair();
      return { value: pair.privateJwk, bytes: jsonBytes(pair.privateJwk) };
    },
  });
  const codeSecret = await loadOrCreateFile(paths.codeSecret, log, partial, {
    what: 'code secret',
    parse: (bytes) => {
      if (bytes.length !== CODE_SECRET_BYTES) throw new Error(`expected ${CODE_SECRET_BYTES} bytes, found ${bytes.length}`);
      return new Uint8Array(bytes);
    },
    create: () => {
      const secret = deps.random.bytes(CODE_SECRET_BYTES);
      return Promise.resolve({ value: secret, bytes: secret });
    },
  });

  const identity: LockerIdentity = {
    signingKey: await importSigningKey(signingJwk),
    signingPublicJwk: await publicJwkOf(signingJwk),
    encryptionKey: await importEncryptionKey(encryptionJwk),
    encryptionPublicJwk: await publicJwkOf(encryptionJwk),
    codeSecret,
  };
  log.info({ signingKid: identity.signingPublicJwk.kid, encryptionKid: identity.encryptionPublicJwk.kid }, 'locker identity ready');
  return identity;
}

interface FileSpec<T> {
  what: string;
  /** Throws with a reason when the bytes are not a valid file of this kind. */
  parse: (bytes: Buffer) => T;
  create: () => Promise<{ value: T; bytes: Uint8Array }>;
}

async function loadOrCreateFile<T>(path: string, log: Logger, partial: boolean, spec: FileSpec<T>): Promise<T> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new LockerError('CRYPTO_ERROR', `cannot read the locker ${spec.what} at ${path}: ${(e as Error).message}`, { file: path }, { cause: e });
    }
  }
  if (bytes === undefined) {
    const created = await spec.create();
    await writeNewFile(path, created.bytes);
    if (partial) log.warn({ file: path }, `the locker ${spec.what} was missing beside an existing identity; created a new one`);
    else log.info({ file: path }, `created a new locker ${spec.what}`);
    return created.value;
  }
  await tightenMode(path, 0o600, log);
  try {
    return spec.parse(bytes);
  } catch (e) {
    throw new LockerError(
      'CRYPTO_ERROR',
      `the locker ${spec.what} at ${path} is corrupted (${(e as Error).message}); restore it from a backup. ` +
        'Deleting it makes lockerd create a new one, which invalidates what the old one protected.',
      { file: path, corrupted: true },
      { cause: e },
    );
  }
}

function parseJwkFile<T extends Ed25519PrivateJwk | X25519PrivateJwk>(bytes: Buffer, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new Error('not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error('not a private key of the expected kind');
  if (!privateJwkIsConsistent(parsed.data)) throw new Error('the public and private halves do not match');
  return parsed.data;
}

function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes a file that must not exist yet: to a temporary name first, synced, then renamed, so a
 * power cut leaves either no file or a whole one, never a half-written key to trip over later.
 */
async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  await unlink(tmp).catch(() => undefined);
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  // The mode given to open() is reduced by the umask; 0600 is what must end up on disk.
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic there.
  }
}

/** A secret readable by others is fixed, and said so: someone changed it or restored it carelessly. */
async function tightenMode(path: string, wanted: number, log: Logger): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & ~wanted & 0o777) === 0) return;
  log.warn({ file: path, mode: mode.toString(8), fixedTo: wanted.toString(8) }, 'locker identity file had loose permissions; tightened');
  await chmod(path, wanted);
}
