import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { codeDigest } from '../../../src/codes/pickupCode.js';
import { signJws, verifyJws, badgeJwsErrors } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair } from '../../../src/crypto/keys.js';
import { CODE_SECRET_BYTES, identityPaths, loadOrCreateLockerIdentity } from '../../../src/crypto/lockerIdentity.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { LockerError } from '../../../kernel/errors.js';
import { seededRandom } from '../../../kernel/random.js';

let dataDir: string;
let logLines: { level: number; msg: string }[];
let logger: Logger;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lockerd-identity-'));
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done): void {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  logger = createLogger({ level: 'info', destination: sink });
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const deps = (): { random: ReturnType<typeof seededRandom>; logger: Logger } => ({ random: seededRandom('identity'), logger });
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;
const warnings = (): string[] => logLines.filter((l) => l.level === 40).map((l) => l.msg);

async function refusal(): Promise<LockerError> {
  try {
    await loadOrCreateLockerIdentity(dataDir, deps());
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected the identity to be refused');
}

describe('locker identity', () => {
  it('is created on first start with files readable only by lockerd', async () => {
    const id = await loadOrCreateLockerIdentity(dataDir, deps());
    const paths = identityPaths(dataDir);
    expect(await modeOf(paths.dir)).toBe(0o700);
    for (const file of [paths.signingKey, paths.encryptionKey, paths.codeSecret]) expect(await modeOf(file)).toBe(0o600);
    expect(id.signingPublicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519' });
    expect(id.encryptionPublicJwk).toMatchObject({ kty: 'OKP', crv: 'X25519' });
    expect(id.signingPublicJwk.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(id.codeSecret).toHaveLength(CODE_SECRET_BYTES);
    expect(id.signingKey.extractable).toBe(false);
    expect(id.encryptionKey.extractable).toBe(false);
    expect(Buffer.from(await readFile(paths.codeSecret))).toEqual(Buffer.from(id.codeSecret));
  });

  it('is the same after a restart', async () => {
    const first = await loadOrCreateLockerIdentity(dataDir, deps());
    const digest = codeDigest(first.codeSecret, '12345678');
    const signed = await signJws(first.signingKey, new TextEncoder().encode('hello'));
    const second = await loadOrCreateLockerIdentity(dataDir, { random: seededRandom('other'), logger });
    expect(second.signingPublicJwk).toEqual(first.signingPublicJwk);
    expect(second.encryptionPublicJwk).toEqual(first.encryptionPublicJwk);
    expect(codeDigest(second.codeSecret, '12345678')).toBe(digest);
    const verified = await verifyJws(signed, [second.signingPublicJwk], { errors: badgeJwsErrors });
    expect(new TextDecoder().decode(verified.payload)).toBe('hello');
    expect(warnings()).toEqual([]);
  });

  it('tightens a file that became readable by others, with a warning', async () => {
    await loadOrCreateLockerIdentity(dataDir, deps());
    const paths = identityPaths(dataDir);
    await chmod(paths.signingKey, 0o644);
    await chmod(paths.codeSecret, 0o640);
    await loadOrCreateLockerIdentity(dataDir, deps());
    expect(await modeOf(paths.signingKey)).toBe(0o600);
    expect(await modeOf(paths.codeSecret)).toBe(0o600);
    expect(warnings().filter((m) => m.includes('loose permissions'))).toHaveLength(2);
  });

  it('refuses a key file that is not JSON and leaves it in place', async () => {
    await loadOrCreateLockerIdentity(dataDir, deps());
    const { signingKey } = identityPaths(dataDir);
    await writeFile(signingKey, '{"kty":"OKP","crv":"Ed2', { mode: 0o600 });
    const e = await refusal();
    expect(e.code).toBe('CRYPTO_ERROR');
    expect(e.message).toContain('signing key');
    expect(e.message).toContain('corrupted');
    expect(e.context).toMatchObject({ file: signingKey, corrupted: true });
    expect(await readFile(signingKey, 'utf8')).toBe('{"kty":"OKP","crv":"Ed2');
  });

  it('refuses a key file holding the wrong kind of key', async () => {
    await loadOrCreateLockerIdentity(dataDir, deps());
    const { signingKey, encryptionKey } = identityPaths(dataDir);
    await writeFile(signingKey, await readFile(encryptionKey));
    expect((await refusal()).message).toContain('not a private key of the expected kind');
  });

  it('refuses a key file whose public half does not belong to its private half', async () => {
    await loadOrCreateLockerIdentity(dataDir, deps());
    const { signingKey } = identityPaths(dataDir);
    const stored = JSON.parse(await readFile(signingKey, 'utf8')) as Record<string, string>;
    const other = await generateSigningKeyPair();
    await writeFile(signingKey, JSON.stringify({ ...stored, x: other.publicJwk.x }));
    expect((await refusal()).message).toContain('do not match');
  });

  it('refuses a code secret of the wrong size', async () => {
    await loadOrCreateLockerIdentity(dataDir, deps());
    const { codeSecret } = identityPaths(dataDir);
    await writeFile(codeSecret, new Uint8Array(31));
    const e = await refusal();
    expect(e.code).toBe('CRYPTO_ERROR');
    expect(e.message).toContain('code secret');
    expect((await readFile(codeSecret)).length).toBe(31);
  });

  it('recreates a missing part beside an existing identity, loudly', async () => {
    const first = await loadOrCreateLockerIdentity(dataDir, deps());
    await unlink(identityPaths(dataDir).codeSecret);
    const second = await loadOrCreateLockerIdentity(dataDir, { random: seededRandom('new'), logger });
    expect(second.signingPublicJwk).toEqual(first.signingPublicJwk);
    expect(Buffer.from(second.codeSecret)).not.toEqual(Buffer.from(first.codeSecret));
    expect(warnings().some((m) => m.includes('code secret was missing'))).toBe(true);
  });

  it('takes the code secret from the injected random source', async () => {
    const id = await loadOrCreateLockerIdentity(dataDir, deps());
    expect(Buffer.from(id.codeSecret)).toEqual(Buffer.from(seededRandom('identity').bytes(CODE_SECRET_BYTES)));
  });
});
