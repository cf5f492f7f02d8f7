// Inner dimensions per size class in the layout (issue 11, flow 7): optional, whole
// millimetres, bounded, only for size classes the layout actually has.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { LockerError } from '../../../kernel/errors.js';

function withSizes(sizes: unknown): unknown {
  return {
    version: 1,
    locker: { id: 'locker-1' },
    dataDir: 'data',
    hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 12 }] }] },
    layout: {
      version: 1,
      ...(sizes === undefined ? {} : { sizes }),
      compartments: [
        { id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 },
        { id: 'A2', size: 'L', bus: 'bus0', board: 0, lock: 2 },
      ],
    },
  };
}

function messagesOf(input: unknown): string {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof LockerError) return `${e.code} ${JSON.stringify(e.detail ?? {})} ${e.message}`;
    throw e;
  }
  return '';
}

describe('layout.sizes', () => {
  it('keeps the inner dimensions of each size class', () => {
    const cfg = parseConfig(withSizes({ M: { widthMm: 380, heightMm: 190, depthMm: 640 }, L: { widthMm: 380, heightMm: 410, depthMm: 640 } }));
    expect(cfg.layout.sizes).toEqual({ M: { widthMm: 380, heightMm: 190, depthMm: 640 }, L: { widthMm: 380, heightMm: 410, depthMm: 640 } });
  });

  it('is optional: a layout without it has none', () => {
    expect(parseConfig(withSizes(undefined)).layout.sizes).toBeUndefined();
  });

  it('refuses zero, fractions, absurd sizes and unknown keys', () => {
    expect(messagesOf(withSizes({ M: { widthMm: 0, heightMm: 190, depthMm: 640 } }))).toMatch(/sizes/);
    expect(messagesOf(withSizes({ M: { widthMm: 380.5, heightMm: 190, depthMm: 640 } }))).toMatch(/sizes/);
    expect(messagesOf(withSizes({ M: { widthMm: 380, heightMm: 190, depthMm: 100_000 } }))).toMatch(/sizes/);
    expect(messagesOf(withSizes({ M: { widthMm: 380, heightMm: 190, depthMm: 640, weightKg: 3 } }))).toMatch(/sizes/);
    expect(messagesOf(withSizes({ XXL: { widthMm: 380, heightMm: 190, depthMm: 640 } }))).toMatch(/sizes/);
  });

  it('refuses dimensions for a size class no compartment has', () => {
    expect(messagesOf(withSizes({ XS: { widthMm: 380, heightMm: 40, depthMm: 640 } }))).toMatch(/no compartment of size XS/);
  });

  it('the shipped examples give every size they use its dimensions', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { packageRoot } = await import('../../../src/packageRoot.js');
    for (const name of ['lockerd.sim.json', 'lockerd.cu48.json', 'lockerd.gpio.json']) {
      const input = JSON.parse(readFileSync(join(packageRoot(), 'deploy', 'examples', name), 'utf8')) as { layout: { sizes?: Record<string, unknown>; compartments: { size: string }[] } };
      const used = new Set(input.layout.compartments.map((c) => c.size));
      expect(Object.keys(input.layout.sizes ?? {}).sort(), name).toEqual([...used].sort());
    }
  });
});
