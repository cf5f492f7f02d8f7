// What `lockerd start` loads on a real locker (issue 10, idle RSS): the static import graph from
// the command line holds none of the demo's or the diagnostics' modules. They are loaded with
// import() when asked for (--sim, `lockerd doctor`, a sim transport, the embedded broker).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

/** Files reached from `entry` through static value imports (not `import type`, not import()). */
function staticImports(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // import { a, type B } from 'x'; import x from 'x'; export { a } from 'x'; import 'x';
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\s)([^'";]*?)\s*from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const clause = m[1] ?? '';
      const spec = m[2] ?? m[3] ?? '';
      // import { type A, type B } from ... is type-only as well.
      const names = /^\{([^}]*)\}$/.exec(clause.trim());
      if (names?.[1] !== undefined && names[1].split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (existsSync(target)) visit(target);
      } else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
    }
  };
  visit(entry);
  return { files, packages };
}

describe('lockerd start: the production path', () => {
  const { files, packages } = staticImports(join(root, 'src/cli/lockerd.ts'));
  // The entry picks the bundle or the compiled modules with a dynamic import: follow the latter.
  const main = join(root, 'src/cli/lockerdMain.ts');
  if (existsSync(main)) {
    const more = staticImports(main);
    for (const f of more.files) files.add(f);
    for (const p of more.packages) packages.add(p);
  }
  const rel = [...files].map((f) => relative(root, f));

  it('does not load the demo broker, the simulator, the demo keys or the doctor', () => {
    expect(rel.filter((f) => f.startsWith('sim/'))).toEqual([]);
    expect(rel).not.toContain('src/broker/embeddedBroker.ts');
    expect(rel).not.toContain('src/broker/demoBroker.ts');
    expect(rel).not.toContain('src/composition/demoKeys.ts');
    expect(rel).not.toContain('src/cli/doctor.ts');
    expect(packages.has('aedes')).toBe(false);
  });

  it('loads no pino transport (a worker thread and its own heap)', () => {
    expect([...packages].filter((p) => p.startsWith('pino-'))).toEqual([]);
    // The logger writes JSON lines (or formats them itself) on the main thread.
    const logger = readFileSync(join(root, 'src/logger.ts'), 'utf8');
    expect(logger).not.toMatch(/pino\.transport\(|\btransport\s*:|\btargets\s*:/);
  });

  it('builds no ICU collator or locale formatter (they map ICU data into the resident set)', () => {
    // Intl.Collator / localeCompare: about 3 MiB of ICU collation data; toLocaleString: about 8 MiB.
    const offenders = rel.filter((f) => /new Intl\.|\.localeCompare\(|\.toLocale(?:Date|Time)?String\(/.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('runs the production bundle when the build made one, else the compiled modules', () => {
    // dist/src/cli/lockerd.js stays the entry (systemd unit, releases, install.sh); `npm run build`
    // adds dist/src/cli/bundle/lockerd.js (scripts/bundleLockerd.ts) and the entry loads it.
    const entry = readFileSync(join(root, 'src/cli/lockerd.ts'), 'utf8');
    expect(entry).toMatch(/'\.\/bundle\/lockerd\.js'/);
    expect(entry).toMatch(/'\.\/lockerdMain\.js'/);
    expect(rel).toContain('src/cli/lockerdMain.ts');
  });
});

