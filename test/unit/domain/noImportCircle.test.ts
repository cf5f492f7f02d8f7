// The domain has no import circle (issue 8): locker.ts is a facade over the runners, the read
// model and the alarms, and none of them imports it back (type-only imports count too).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const domain = join(import.meta.dirname, '../../../src/domain');

export function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(join(dir, f), 'utf8');
    const deps = [...text.matchAll(/from '\.\/([A-Za-z0-9_]+)\.js'/g)].map((m) => `${m[1]}.ts`);
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

export function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const visit = (node: string, path: string[]): void => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next]);
      else visit(next, [...path, next]);
    }
  };
  for (const start of graph.keys()) visit(start, [start]);
  return found;
}

describe('domain imports', () => {
  it('form no circle', () => {
    expect(cycles(importGraph(domain))).toEqual([]);
  });

  it('nothing in the domain imports locker.ts except the remote operations above it', () => {
    const importers = [...importGraph(domain)].filter(([, deps]) => deps.includes('locker.ts')).map(([f]) => f);
    expect(importers).toEqual(['remoteOperations.ts']);
  });
});
