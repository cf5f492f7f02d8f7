// The production bundle of lockerd's command line (issue 10, idle RSS): `npm run build` runs tsc
// and then this, which writes dist/src/cli/bundle/lockerd.js (+ chunks for what the command line
// loads with import(): the simulator, the demo broker, the doctor, the MQTT stack, drivers).
// dist/src/cli/lockerd.js runs it when it is there (src/cli/lockerd.ts).
//
// Why: a locker runs one long-lived process on a small controller. Hundreds of ES module records,
// their full sources kept by V8 for lazy compilation, and zod's ~40 locale modules cost ~7 MiB of
// resident memory; one minified, tree-shaken module does not (BENCHMARKS.md, memoryAndColdStart).
// Native addons and what finds files beside itself at run time stay in node_modules (external).
//
//   node --import tsx scripts/bundleLockerd.ts [OUTDIR]     (default dist/src/cli/bundle)
import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

const root = join(import.meta.dirname, '..');

/**
 * Packages the bundle leaves to node_modules: native addons (they load their .node file from
 * their own folder), the optional GPIO and systemd addons, and demo-only or dev-only packages
 * (the embedded broker, the browser driver) that a production start never loads.
 */
export const EXTERNAL_PACKAGES = ['better-sqlite3', '@serialport/bindings-cpp', 'unix-dgram', 'onoff', 'epoll', 'aedes', 'playwright-core', 'bufferutil', 'utf-8-validate'] as const;

export interface BundleResult {
  outdir: string;
  /** Output file -> bytes. */
  outputs: Record<string, number>;
  metafile: Metafile;
}

export async function bundleLockerd(outdir: string = join(root, 'dist', 'src', 'cli', 'bundle')): Promise<BundleResult> {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { lockerd: join(root, 'src', 'cli', 'lockerdMain.ts') },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: [...EXTERNAL_PACKAGES],
    // src/update/bootGuard.ts runs its own command line when it is the entry module (as
    // lockerd-update-guard.js); bundled into lockerd it must never think so.
    define: { LOCKERD_BUNDLED: 'true' },
    // CommonJS dependencies call require(); an ES module bundle has none of its own.
    banner: { js: "import { createRequire as __lockerdRequire } from 'node:module'; const require = __lockerdRequire(import.meta.url);" },
    minify: true,
    // Error classes (ours and jose's) name themselves after their constructor.
    keepNames: true,
    legalComments: 'none',
    sourcemap: false,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs: Record<string, number> = {};
  for (const [file, o] of Object.entries(result.metafile.outputs)) outputs[relative(outdir, join(root, file))] = o.bytes;
  return { outdir, outputs, metafile: result.metafile };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await bundleLockerd(process.argv[2]);
  const total = Object.values(r.outputs).reduce((a, b) => a + b, 0);
  process.stdout.write(`wrote ${relative(root, r.outdir)}/lockerd.js and ${Object.keys(r.outputs).length - 1} chunks (${(total / 1024).toFixed(0)} KiB)\n`);
}
