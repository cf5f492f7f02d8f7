// Finds the installed package's root folder, so static assets (kiosk pages) are found the same
// way whether the code runs from src/ (tests) or from dist/ (built).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
      if (name === 'lockerd') return (cached = dir);
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the lockerd package root');
    dir = up;
  }
}

export function packageVersion(): string {
  return String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown }).version ?? '0.0.0');
}
