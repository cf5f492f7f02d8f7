// The release manifest: signed with the release key (EdDSA, typ lk-release+jwt), refused with a
// code for every way it can be wrong for this locker.
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../src/crypto/keys.js';
import { signJws } from '../../../src/crypto/jws.js';
import { checkManifestFits, compareVersions, signManifest, verifyManifest, type ReleaseManifest } from '../../../src/update/manifest.js';

const manifest: ReleaseManifest = {
  v: 1,
  name: 'lockerd',
  version: '1.2.0',
  arch: 'arm64',
  nodeAbi: '115',
  bundle: 'lockerd-1.2.0-arm64-abi115.tar.gz',
  size: 1000,
  sha256: 'a'.repeat(64),
  schema: { min: 0, max: 6 },
  builtAt: 1_790_000_000,
};
const target = { arch: 'arm64', nodeAbi: '115', version: '1.1.3', schemaVersion: 4 };

describe('release manifest', () => {
  it('verifies against the release key and refuses another key, another typ and alg none', async () => {
    const release = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const token = await signManifest(manifest, release.privateKey);
    expect(await verifyManifest(token, [release.publicJwk])).toEqual(manifest);
    await expect(verifyManifest(token, [other.publicJwk])).rejects.toMatchObject({ code: 'UPDATE_BAD_SIGNATURE' });
    await expect(verifyManifest(token, [])).rejects.toMatchObject({ code: 'UPDATE_BAD_SIGNATURE' });
    const asCommand = await signJws(release.privateKey, new TextEncoder().encode(JSON.stringify(manifest)), { typ: 'lk-cmd+jwt' });
    await expect(verifyManifest(asCommand, [release.publicJwk])).rejects.toMatchObject({ code: 'UPDATE_MANIFEST_INVALID' });
    const [, payload] = token.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'lk-release+jwt' })).toString('base64url')}.${payload ?? ''}.`;
    await expect(verifyManifest(none, [release.publicJwk])).rejects.toMatchObject({ code: expect.stringMatching(/^UPDATE_(BAD_SIGNATURE|MANIFEST_INVALID)$/) });
    const extra = await signJws(release.privateKey, new TextEncoder().encode(JSON.stringify({ ...manifest, postInstall: 'rm -rf /' })), { typ: 'lk-release+jwt' });
    await expect(verifyManifest(extra, [release.publicJwk])).rejects.toMatchObject({ code: 'UPDATE_MANIFEST_INVALID' });
  });

  it('checks arch, ABI, version and schema range, each with its code', () => {
    expect(() => checkManifestFits(manifest, target)).not.toThrow();
    expect(() => checkManifestFits(manifest, { ...target, arch: 'x64' })).toThrow(expect.objectContaining({ code: 'UPDATE_WRONG_ARCH' }));
    expect(() => checkManifestFits(manifest, { ...target, nodeAbi: '127' })).toThrow(expect.objectContaining({ code: 'UPDATE_WRONG_ABI' }));
    expect(() => checkManifestFits(manifest, { ...target, version: '1.2.0' })).toThrow(expect.objectContaining({ code: 'UPDATE_NOT_NEWER' }));
    expect(() => checkManifestFits(manifest, { ...target, version: '1.10.0' })).toThrow(expect.objectContaining({ code: 'UPDATE_NOT_NEWER' }));
    expect(() => checkManifestFits(manifest, { ...target, schemaVersion: 7 })).toThrow(expect.objectContaining({ code: 'UPDATE_SCHEMA_RANGE' }));
    expect(() => checkManifestFits({ ...manifest, schema: { min: 5, max: 6 } }, target)).toThrow(expect.objectContaining({ code: 'UPDATE_SCHEMA_RANGE' }));
  });

  it('orders versions numerically, pre-releases before their release', () => {
    const sorted = ['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '1.2.1'].sort(compareVersions);
    expect(sorted).toEqual(['0.9.9', '1.2.0-rc.1', '1.2.0', '1.2.1', '1.10.0']);
  });
});
