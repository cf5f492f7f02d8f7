// `lockerctl release`: a runnable release as one tarball (dist/, package.json, the production
// node_modules as installed on this machine, the kiosk's and the simulator panel's public files,
// deploy/examples) and its manifest, signed by the operator's release key. The native modules in
// node_modules fit this machine's architecture and Node ABI only, so the manifest records both
// from the running Node: build a release on (or for) the controllers' platform. System tar
// (GNU tar) writes the archive, deterministic in order, owner and mode.
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, dirname, join, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from '../../kernel/clock.js';
import type { SigningKey } from '../crypto/jws.js';
import { LockerError } from '../../kernel/errors.js';
import { migrations } from '../store/migrations.js';
import { RELEASE_ENTRY } from './bootGuard.js';
import { sha256Hex, signManifest, type ReleaseManifest } from './manifest.js';

const run = promisify(execFile);

/** Besides dist/ and package.json: what lockerd reads from its package folder at run time. */
const RUNTIME_ASSETS = [join('src', 'kiosk', 'public'), join('sim', 'panel', 'public'), join('deploy', 'examples')];
/** Build leftovers of native modules: not needed to run, and most of their size. */
const EXCLUDES = ['./node_modules/.bin', './node_modules/*/deps', './node_modules/*/build/Release/obj', './node_modules/*/build/Release/obj.target', './node_modules/*/build/Release/.deps', './dist/test/unit', './dist/test/integration', './dist/test/interop', './dist/.tsbuildinfo'];

export interface BuildReleaseOptions {
  /** The package folder, built (npm run build) and with its dependencies installed. */
  sourceRoot: string;
  outDir: string;
  key: SigningKey;
  kid?: string;
  /** Instead of package.json's version (written into the bundle's package.json). */
  version?: string;
  /** Instead of 0..the newest migration of this source. */
  schema?: { min: number; max: number };
  clock: Clock;
}

export interface BuiltRelease {
  manifest: ReleaseManifest;
  bundleFile: string;
  manifestFile: string;
  /** What the operator puts in the update command: the SHA-256 of the manifest file's bytes. */
  manifestDigest: string;
}

export async function buildRelease(o: BuildReleaseOptions): Promise<BuiltRelease> {
  if (!existsSync(join(o.sourceRoot, RELEASE_ENTRY))) throw new LockerError('INPUT_INVALID', `${join(o.sourceRoot, RELEASE_ENTRY)} is missing: run npm run build first`);
  const pkg = JSON.parse(await readFile(join(o.sourceRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  if (pkg.name !== 'lockerd') throw new LockerError('INPUT_INVALID', `${o.sourceRoot} is not the lockerd package`);
  const version = o.version ?? String(pkg.version);
  const arch = process.arch;
  const nodeAbi = process.versions.modules;
  const name = `lockerd-${version}-${arch}-abi${nodeAbi}`;
  await mkdir(o.outDir, { recursive: true });
  const stage = await mkdtemp(join(o.outDir, '.stage-'));
  const bundleFile = join(o.outDir, `${name}.tar.gz`);
  try {
    const { scripts: _scripts, devDependencies: _dev, ...rest } = pkg;
    await writeFile(join(stage, 'package.json'), `${JSON.stringify({ ...rest, version }, null, 2)}\n`);
    await symlink(join(o.sourceRoot, 'dist'), join(stage, 'dist'));
    for (const asset of RUNTIME_ASSETS) {
      if (!existsSync(join(o.sourceRoot, asset))) continue;
      await mkdir(dirname(join(stage, asset)), { recursive: true });
      await symlink(join(o.sourceRoot, asset), join(stage, asset));
    }
    for (const p of await productionPackages(o.sourceRoot)) {
      await mkdir(dirname(join(stage, 'node_modules', p.name)), { recursive: true });
      await symlink(p.path, join(stage, 'node_modules', p.name));
    }
    // -h follows the staging links: the archive holds files, never links out of the release.
    await run(
      'tar',
      ['-czhf', bundleFile, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mode=u+rwX,go+rX,go-w', ...EXCLUDES.map((e) => `--exclude=${e}`), '-C', stage, '.'],
      { timeout: 10 * 60_000, maxBuffer: 1024 * 1024 },
    );
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
  const manifest: ReleaseManifest = {
    v: 1,
    name: 'lockerd',
    version,
    arch,
    nodeAbi,
    bundle: basename(bundleFile),
    size: (await stat(bundleFile)).size,
    sha256: await fileSha256(bundleFile),
    schema: o.schema ?? { min: 0, max: Math.max(0, ...migrations.map((m) => m.version)) },
    builtAt: Math.floor(o.clock.now() / 1000),
  };
  const token = await signManifest(manifest, o.key, o.kid);
  const manifestFile = join(o.outDir, `${name}.manifest.jws`);
  await writeFile(manifestFile, `${token}\n`);
  return { manifest, bundleFile, manifestFile, manifestDigest: `sha256:${sha256Hex(`${token}\n`)}` };
}

/** The installed production dependencies (npm ls --omit=dev), as top-level node_modules entries. */
async function productionPackages(sourceRoot: string): Promise<{ name: string; path: string }[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: sourceRoot, maxBuffer: 16 * 1024 * 1024 }));
  } catch (e) {
    // npm ls exits non-zero for extraneous or missing optional packages but still lists the tree.
    stdout = (e as { stdout?: string }).stdout ?? '';
    if (!stdout) throw new LockerError('INPUT_INVALID', `npm ls failed in ${sourceRoot}: ${(e as Error).message}`);
  }
  const nodeModules = join(sourceRoot, 'node_modules');
  const realModules = realpathSync(nodeModules);
  const names = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const path = line.trim();
    if (!path || path === sourceRoot) continue;
    let rel = relative(nodeModules, path);
    if (rel.startsWith('..')) rel = relative(realModules, realpathSync(path));
    if (rel.startsWith('..') || rel === '') continue;
    const parts = rel.split(sep);
    const top = parts[0]?.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
    if (top) names.set(top, join(realModules, top));
  }
  return [...names].map(([name, path]) => ({ name, path })).sort((a, b) => a.name.localeCompare(b.name));
}

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
