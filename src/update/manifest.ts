// The release manifest: what a bundle is, for which machine, and which database schemas it runs
// on, signed by the operator's release key (Ed25519, compact JWS, typ lk-release+jwt). The
// release key is not a command key: a stolen command key cannot ship code, and the other way round.
// Checks before anything is switched, each refusal with its own code:
//   manifest bytes digest = the digest the signed command named (UPDATE_TAMPERED)
//   -> signature by a configured release key (UPDATE_BAD_SIGNATURE) -> shape (UPDATE_MANIFEST_INVALID)
//   -> arch (UPDATE_WRONG_ARCH) -> Node ABI (UPDATE_WRONG_ABI) -> newer than the running release
//   (UPDATE_NOT_NEWER) -> schema range holds the database's version (UPDATE_SCHEMA_RANGE).
// The bundle's own SHA-256 and size are checked after the download (UPDATE_TAMPERED).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Ed25519PublicJwk } from '../config/schema.js';
import { signJws, verifyJws, type JwsErrorCodes, type SigningKey } from '../crypto/jws.js';
import { LockerError, isLockerError } from '../../kernel/errors.js';

export const RELEASE_TYP = 'lk-release+jwt';
export const MAX_MANIFEST_BYTES = 16 * 1024;

const semver = z.string().regex(/^\d{1,6}\.\d{1,6}\.\d{1,6}(?:-[0-9A-Za-z.-]{1,32})?$/, 'a version such as 1.4.2 or 1.5.0-rc.1');

export const ReleaseManifest = z
  .object({
    v: z.literal(1),
    name: z.literal('lockerd'),
    version: semver,
    /** process.arch of the machine the production dependencies were installed for. */
    arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
    /** process.versions.modules of the Node that built the native modules. */
    nodeAbi: z.string().regex(/^\d{1,4}$/),
    /** File name of the tarball, resolved against the manifest's URL (no folders). */
    bundle: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
    size: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Lowest and highest database schema version (PRAGMA user_version) this release runs on. */
    schema: z
      .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
      .strict()
      .refine((s) => s.min <= s.max, 'min must not exceed max'),
    builtAt: z.number().int().positive(),
  })
  .strict();
export type ReleaseManifest = z.infer<typeof ReleaseManifest>;

const releaseJwsErrors: JwsErrorCodes = {
  too_large: 'UPDATE_MANIFEST_INVALID',
  malformed: 'UPDATE_MANIFEST_INVALID',
  alg_refused: 'UPDATE_BAD_SIGNATURE',
  wrong_type: 'UPDATE_MANIFEST_INVALID',
  unknown_issuer: 'UPDATE_BAD_SIGNATURE',
  unknown_key: 'UPDATE_BAD_SIGNATURE',
  bad_signature: 'UPDATE_BAD_SIGNATURE',
  expired: 'UPDATE_MANIFEST_INVALID',
  not_yet_valid: 'UPDATE_MANIFEST_INVALID',
  wrong_audience: 'UPDATE_MANIFEST_INVALID',
  claims_invalid: 'UPDATE_MANIFEST_INVALID',
};

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** "sha256:<hex>" or plain hex, as an operator pastes it; lower-case hex out. */
export function normaliseDigest(digest: string): string {
  return digest.replace(/^sha256:/i, '').toLowerCase();
}

export async function signManifest(manifest: ReleaseManifest, key: SigningKey, kid?: string): Promise<string> {
  const checked = ReleaseManifest.parse(manifest);
  return signJws(key, new TextEncoder().encode(JSON.stringify(checked)), { typ: RELEASE_TYP, ...(kid ? { kid } : {}) });
}

/** Verifies the signature against the release keys, then the shape. */
export async function verifyManifest(token: string, releaseKeys: readonly Ed25519PublicJwk[]): Promise<ReleaseManifest> {
  if (releaseKeys.length === 0) throw new LockerError('UPDATE_BAD_SIGNATURE', 'no release key is configured (updates.releaseKeys)');
  const verified = await verifyJws(token, releaseKeys, { errors: releaseJwsErrors, label: 'release manifest', maxLength: MAX_MANIFEST_BYTES, typ: RELEASE_TYP, typRequired: true });
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch {
    throw new LockerError('UPDATE_MANIFEST_INVALID', 'the manifest payload is not JSON');
  }
  const parsed = ReleaseManifest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LockerError('UPDATE_MANIFEST_INVALID', `manifest invalid: ${issue ? `${issue.path.map(String).join('.') || '(manifest)'}: ${issue.message}` : 'unreadable'}`);
  }
  return parsed.data;
}

export interface RunningTarget {
  arch: string;
  nodeAbi: string;
  version: string;
  /** PRAGMA user_version of the locker's database. */
  schemaVersion: number;
}

/** The checks against the machine and the running release (after the signature). */
export function checkManifestFits(m: ReleaseManifest, target: RunningTarget): void {
  if (m.arch !== target.arch) throw new LockerError('UPDATE_WRONG_ARCH', `built for ${m.arch}, this locker is ${target.arch}`, { arch: m.arch, expected: target.arch });
  if (m.nodeAbi !== target.nodeAbi)
    throw new LockerError('UPDATE_WRONG_ABI', `built for Node ABI ${m.nodeAbi}, this Node is ABI ${target.nodeAbi}`, { nodeAbi: m.nodeAbi, expected: target.nodeAbi });
  if (compareVersions(m.version, target.version) <= 0)
    throw new LockerError('UPDATE_NOT_NEWER', `release ${m.version} is not newer than ${target.version}, which runs`, { version: m.version, running: target.version });
  if (target.schemaVersion < m.schema.min || target.schemaVersion > m.schema.max)
    throw new LockerError('UPDATE_SCHEMA_RANGE', `release ${m.version} runs on schema ${m.schema.min}..${m.schema.max}, the database is at ${target.schemaVersion}`, {
      schema: m.schema,
      database: target.schemaVersion,
    });
}

/** Semantic version order (pre-releases before their release; pre-release parts compared as text). */
export function compareVersions(a: string, b: string): number {
  const split = (v: string): { core: number[]; pre: string | undefined } => {
    const [core = '', pre] = v.split('-', 2) as [string, string | undefined];
    return { core: core.split('.').map((n) => Number(n) || 0), pre };
  };
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < 3; i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}

export function isUpdateRefusal(e: unknown): e is LockerError {
  return isLockerError(e) && e.code.startsWith('UPDATE_');
}
