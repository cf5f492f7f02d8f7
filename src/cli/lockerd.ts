#!/usr/bin/env node
// lockerd's entry point (the systemd unit, releases and the README run dist/src/cli/lockerd.js).
// `npm run build` also writes a production bundle of the command line (scripts/bundleLockerd.ts):
// one minified module with the dependencies tree-shaken, instead of hundreds of module records
// and their sources, about 7 MiB less resident (BENCHMARKS.md, memoryAndColdStart). It is run
// when it is there; a plain `tsc` build (the tests' own builds) runs the compiled modules.
// The commands and options: src/cli/lockerdMain.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('./bundle/lockerd.js', import.meta.url);
await import(existsSync(fileURLToPath(bundle)) ? './bundle/lockerd.js' : './lockerdMain.js');
