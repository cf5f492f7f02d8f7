// Small stand-ins for lockerd releases in the update tests: a folder (or a signed bundle) with
// package.json and dist/src/cli/lockerd.js that behaves like lockerd at start (ready line),
// crashes at once, or never becomes ready. Real releases are built with `lockerctl release`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SigningKey } from '../../src/crypto/jws.js';
import { RELEASE_ENTRY } from '../../src/update/bootGuard.js';
import { sha256Hex, signManifest, type ReleaseManifest } from '../../src/update/manifest.js';

export type FakeBehaviour = 'ready' | 'crash' | 'never_ready';

const scripts: Record<FakeBehaviour, (version: string) => string> = {
  // Says what lockerd says once it is ready, then runs until stopped.
  ready: (v) => `process.stdout.write('lockerd fake-${v} is running\\n');\nsetInterval(() => undefined, 1000);\nprocess.on('SIGTERM', () => process.exit(0));\n`,
  crash: () => `process.stderr.write('fake release: crashed at start\\n');\nprocess.exit(3);\n`,
  never_ready: () => `setInterval(() => undefined, 1000);\n`,
};

/** Writes a fake release folder: package.json and the entry script. */
export function writeFakeRelease(dir: string, version: string, behaviour: FakeBehaviour): void {
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'lockerd', version, type: 'module' })}\n`);
  writeFileSync(join(dir, RELEASE_ENTRY), scripts[behaviour](version));
}

export interface FakeBundle {
  manifest: ReleaseManifest;
  bundleFile: string;
  manifestFile: string;
  manifestDigest: string;
}

/**
 * A signed bundle of a fake release in outDir, named <name>.tar.gz and <name>.manifest.jws.
 * overrides change the manifest after the bundle is made (wrong arch, older version, ...).
 */
export async function makeFakeBundle(
  outDir: string,
  name: string,
  version: string,
  behaviour: FakeBehaviour,
  key: SigningKey,
  overrides: Partial<ReleaseManifest> = {},
): Promise<FakeBundle> {
  const stage = join(outDir, `.stage-${name}`);
  writeFakeRelease(stage, version, behaviour);
  const bundleFile = join(outDir, `${name}.tar.gz`);
  execFileSync('tar', ['-czf', bundleFile, '-C', stage, '.']);
  const bytes = readFileSync(bundleFile);
  const manifest: ReleaseManifest = {
    v: 1,
    name: 'lockerd',
    version,
    arch: process.arch,
    nodeAbi: process.versions.modules,
    bundle: `${name}.tar.gz`,
    size: statSync(bundleFile).size,
    sha256: sha256Hex(bytes),
    schema: { min: 0, max: 100 },
    builtAt: 1_780_000_000,
    ...overrides,
  };
  const token = `${await signManifest(manifest, key)}\n`;
  const manifestFile = join(outDir, `${name}.manifest.jws`);
  writeFileSync(manifestFile, token);
  return { manifest, bundleFile, manifestFile, manifestDigest: `sha256:${sha256Hex(token)}` };
}
