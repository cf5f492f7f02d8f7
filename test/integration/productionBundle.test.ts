// The production bundle of lockerd's command line (issue 10, idle RSS; scripts/bundleLockerd.ts):
// it holds what a production start needs and runs on its own, and what a real locker never
// loads (the simulator, the demo broker and keys, the doctor, zod's locales) stays out of the
// module a production start reads.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleLockerd, EXTERNAL_PACKAGES, type BundleResult } from '../../scripts/bundleLockerd.js';
import { packageRoot } from '../../src/packageRoot.js';

const root = packageRoot();
// Inside the package (the bundle finds the kiosk pages and examples through packageRoot()).
const outdir = join(root, 'dist', `bundle-test-${process.pid}`);
let bundle: BundleResult;

beforeAll(async () => {
  bundle = await bundleLockerd(outdir);
}, 60_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Source files that went into the module `node lockerd.js` reads first (not the chunks loaded with import()). */
function entryInputs(): string[] {
  const entry = Object.entries(bundle.metafile.outputs).find(([file]) => file.endsWith('/lockerd.js'));
  if (!entry) throw new Error('no lockerd.js in the bundle');
  return Object.keys(entry[1].inputs);
}

describe('the production bundle', () => {
  it('is one entry module plus chunks for what the command line loads lazily', () => {
    expect(existsSync(join(outdir, 'lockerd.js'))).toBe(true);
    expect(Object.keys(bundle.outputs).length).toBeGreaterThan(1);
  });

  it('leaves the demo, the simulator, the doctor and zod locales out of the entry module', () => {
    const inputs = entryInputs();
    expect(inputs.filter((f) => f.startsWith('sim/'))).toEqual([]);
    expect(inputs.filter((f) => /src\/(composition\/demoKeys|broker\/|cli\/doctor)/.test(f))).toEqual([]);
    expect(inputs.filter((f) => /node_modules\/zod\/.*\/locales\/(?!en\.js)/.test(f))).toEqual([]);
    expect(inputs.filter((f) => f.includes('node_modules/aedes'))).toEqual([]);
  });

  it('imports only node built-ins and the external packages at run time', () => {
    const imports = Object.values(bundle.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
    const packages = new Set(imports.filter((p) => !p.startsWith('node:') && !builtinModules.includes(p)).map((p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : (p.split('/')[0] ?? p))));
    expect([...packages].filter((p) => !(EXTERNAL_PACKAGES as readonly string[]).includes(p))).toEqual([]);
  });

  it('runs: --help, and check-config validates the example configuration', () => {
    const help = spawnSync(process.execPath, [join(outdir, 'lockerd.js'), '--help'], { encoding: 'utf8', timeout: 20_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage:\n {2}lockerd start/);
    const example = join(root, 'deploy', 'examples', 'lockerd.sim.json');
    const check = spawnSync(process.execPath, [join(outdir, 'lockerd.js'), 'check-config', '--config', example, '--sim'], { encoding: 'utf8', timeout: 20_000 });
    expect(check.stderr).toBe('');
    expect(check.stdout).toContain(`${example}: valid`);
    expect(check.status).toBe(0);
  });
});
