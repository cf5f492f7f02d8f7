// Mosquitto takes use_username_as_clientid per listener: a line before the first `listener`
// does nothing for it (finding 11 reappeared that way once). Every listener of the shipped
// files must bind the client id to the principal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';

function listenerBlocks(file: string): string[][] {
  const lines = readFileSync(join(packageRoot(), 'deploy', 'mosquitto', file), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const blocks: string[][] = [];
  for (const l of lines) {
    if (l.startsWith('listener ')) blocks.push([l]);
    else blocks.at(-1)?.push(l);
  }
  return blocks;
}

describe.each(['mosquitto.conf', 'mosquitto-tls.conf'])('deploy/mosquitto/%s', (file) => {
  it('sets use_username_as_clientid true on every listener', () => {
    const blocks = listenerBlocks(file);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(b).toContain('use_username_as_clientid true');
  });
});
