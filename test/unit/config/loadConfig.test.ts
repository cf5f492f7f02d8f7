import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig, type ConfigIssue } from '../../../src/config/loadConfig.js';
import type { LockerConfigInput } from '../../../src/config/schema.js';
import { LockerError } from '../../../kernel/errors.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const examples = join(repo, 'deploy/examples');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lockerd-config-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function minimal(): LockerConfigInput {
  return {
    version: 1,
    locker: { id: 'locker-1' },
    dataDir: 'data',
    hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 12 }] }] },
    layout: {
      version: 1,
      compartments: [
        { id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 },
        { id: 'A2', size: 'L', bus: 'bus0', board: 0, lock: 2 },
      ],
    },
  };
}

function issuesOf(input: unknown, options: Parameters<typeof parseConfig>[1] = {}): ConfigIssue[] {
  try {
    parseConfig(input, options);
  } catch (e) {
    if (e instanceof LockerError && e.code === 'CONFIG_INVALID') return e.context.issues as ConfigIssue[];
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

async function loadFailure(file: string): Promise<LockerError> {
  try {
    await loadConfig(file);
  } catch (e) {
    if (e instanceof LockerError) return e;
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

// The examples are templates: their keys are placeholders, which only the simulator accepts
// (test/unit/config/deploymentChecks.test.ts shows them refused for a real locker).
describe('the shipped examples', () => {
  it('lockerd.sim.json loads: the demo locker on the simulator', async () => {
    const cfg = await loadConfig(join(examples, 'lockerd.sim.json'), { sim: true });
    expect(cfg.locker.id).toBe('demo-locker-1');
    expect(cfg.hardware.buses).toHaveLength(1);
    const bus = cfg.hardware.buses[0]!;
    expect(bus).toMatchObject({ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' } });
    expect(bus.protocol !== 'gpio' && bus.boards.map((b) => [b.address, b.locks])).toEqual([
      [0, 12],
      [1, 12],
    ]);
    expect(cfg.layout.compartments).toHaveLength(24);
    expect(new Set(cfg.layout.compartments.map((c) => c.size))).toEqual(new Set(['XS', 'S', 'M', 'L', 'XL']));
    const accessible = cfg.layout.compartments.filter((c) => c.accessible);
    expect(accessible).toHaveLength(2);
    for (const c of accessible) expect(c.row).toBeGreaterThanOrEqual(5);
    expect(cfg.hardware.scanner?.transport.kind).toBe('sim');
    expect(cfg.carriers.map((c) => c.id)).toEqual(['swiftpost', 'parcelgo']);
    expect(cfg.demo.revealCodes).toBe(true);
    expect(cfg.dataDir).toBe(join(repo, '.lockerd/sim'));
  });

  it('lockerd.cu48.json loads: serial CU48 bus, scanner on its udev name, MQTT', async () => {
    const cfg = await loadConfig(join(examples, 'lockerd.cu48.json'), { sim: true });
    const bus = cfg.hardware.buses[0]!;
    expect(bus.protocol).toBe('kerong-cu48');
    expect(bus.transport.kind === 'serial' && bus.transport.path).toBe('/dev/lockerbus0');
    expect(cfg.hardware.scanner?.transport).toMatchObject({ kind: 'serial', path: '/dev/lockerscanner' });
    expect(cfg.mqtt?.url).toMatch(/^mqtts:\/\//);
    expect(cfg.dataDir).toBe('/var/lib/lockerd');
    expect(cfg.demo.revealCodes).toBe(false);
  });

  it('lockerd.gpio.json loads: four GPIO relay compartments', async () => {
    const cfg = await loadConfig(join(examples, 'lockerd.gpio.json'), { sim: true });
    const bus = cfg.hardware.buses[0]!;
    expect(bus.protocol).toBe('gpio');
    expect(bus.protocol === 'gpio' && bus.locks).toHaveLength(4);
    expect(cfg.layout.compartments).toHaveLength(4);
    expect(cfg.codes.length).toBe(10);
  });
});

describe('parseConfig', () => {
  it('fills defaults and keeps dataDir as written without a base directory', () => {
    const cfg = parseConfig(minimal());
    expect(cfg.dataDir).toBe('data');
    expect(cfg.codes).toMatchObject({ length: 10, burst: 10, refillPerHour: 60 });
    expect(cfg.codes.maxLiveCodes).toBeUndefined();
    expect(cfg.courierPins).toEqual({ perCourier: { burst: 5, refillPerHour: 1 }, perLocker: { burst: 20, refillPerHour: 10 } });
    expect(cfg.layout.compartments[0]).toMatchObject({ accessible: false, row: 1, column: 1 });
  });

  it('resolves a relative dataDir against the base directory, leaves an absolute one', () => {
    expect(parseConfig(minimal(), { baseDir: '/etc/lockerd' }).dataDir).toBe('/etc/lockerd/data');
    expect(parseConfig({ ...minimal(), dataDir: '/srv/locker' }, { baseDir: '/etc/lockerd' }).dataDir).toBe('/srv/locker');
  });

  it('reports every problem at once, each with its dotted path', () => {
    const cfg = minimal() as Record<string, unknown> & LockerConfigInput;
    cfg.layout.compartments.push(
      { id: 'A3', size: 'XXL' as 'XL', bus: 'bus0', board: 0, lock: 3 },
      { id: 'A4', size: 'S', bus: 'bus9', board: 0, lock: 4 },
      { id: 'A1', size: 'S', bus: 'bus0', board: 0, lock: 13 },
    );
    cfg.locker = { id: 'bad id!' };
    cfg.codes = { length: 12 };
    const issues = issuesOf(cfg);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'locker.id', message: expect.stringContaining('letters, digits') as string },
        { path: 'layout.compartments.2.size', message: expect.stringContaining('"XL"') as string },
        { path: 'layout.compartments.3.bus', message: 'unknown bus "bus9"' },
        { path: 'layout.compartments.4.id', message: 'duplicate compartment id "A1"' },
        { path: 'layout.compartments.4.lock', message: 'board 0 on "bus0" has 12 locks' },
        { path: 'codes.length', message: expect.stringContaining('10') as string },
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  it('puts every issue in the message, one per line', () => {
    const input = { ...minimal(), version: 2, dataDir: '' };
    try {
      parseConfig(input, { source: 'test.json' });
      expect.unreachable();
    } catch (e) {
      const err = e as LockerError;
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toMatch(/^CONFIG_INVALID: test\.json has 2 problems:\n {2}version: .+\n {2}dataDir: .+$/);
    }
  });

  it('names the field inside the bus variant the author meant, not "Invalid input"', () => {
    const input = {
      ...minimal(),
      hardware: {
        buses: [
          { id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 12 }] },
          { id: 'gpio0', protocol: 'gpio', transport: { kind: 'gpio' }, locks: [{ lock: 1, relayPin: 'GPIO17' }] },
          { id: 'bus2', protocol: 'kerong-cu48', transport: { kind: 'usb' }, boards: [{ address: 0, locks: 12 }] },
        ],
      },
    };
    const issues = issuesOf(input);
    expect(issues.map((i) => i.path)).toEqual(['hardware.buses.1.locks.0.relayPin', 'hardware.buses.2.transport.kind']);
    expect(issues.every((i) => i.message !== 'Invalid input')).toBe(true);
  });

  it('lists the accepted protocols when none matches', () => {
    const input = { ...minimal(), hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu32', transport: { kind: 'sim' }, boards: [] }] } };
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('hardware.buses.0.protocol');
    for (const p of ['kerong-cu16', 'kerong-cu48', 'generic-8a', 'gpio']) expect(issues[0]!.message).toContain(p);
  });

  it('refuses unknown settings (a typo would silently keep the default)', () => {
    const input = { ...minimal(), codes: { maxFailure: 3 }, kiosk: { prot: 8080 }, $comment: 'allowed' };
    expect(issuesOf(input)).toEqual([
      { path: 'codes.maxFailure', message: 'unknown setting "maxFailure"' },
      { path: 'kiosk.prot', message: 'unknown setting "prot"' },
    ]);
    expect(() => parseConfig(input, { unknownKeys: 'ignore' })).not.toThrow();
  });

  it('flags a carrier that takes the operator id and duplicate carriers', () => {
    const key = { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) };
    const carrier = (id: string): object => ({ id, name: id, signingKeys: [key] });
    const issues = issuesOf({ ...minimal(), carriers: [carrier('operator'), carrier('swiftpost'), carrier('swiftpost')] });
    expect(issues).toEqual([
      { path: 'carriers.0.id', message: 'a carrier cannot use the operator id' },
      { path: 'carriers.2.id', message: 'duplicate carrier "swiftpost"' },
    ]);
  });

  it('refuses something that is not an object', () => {
    expect(issuesOf(null)[0]!.path).toBe('(root)');
    expect(issuesOf([])[0]!.path).toBe('(root)');
  });
});

describe('loadConfig', () => {
  it('names the file and the position of a JSON syntax error', async () => {
    const file = join(tmp, 'broken.json');
    await writeFile(file, '{ "version": 1, }');
    const e = await loadFailure(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(file);
    expect(e.message).toContain('not valid JSON');
  });

  it('does not quote the file in a JSON syntax error (it holds passwords)', async () => {
    const file = join(tmp, 'unquoted.json');
    await writeFile(file, '{"mqtt": {"password": hunter2-secret}}');
    const e = await loadFailure(file);
    expect(e.message).toContain('not valid JSON');
    expect(JSON.stringify(e)).not.toContain('hunter2');
    expect(e.cause).toBeUndefined();
    expect(e.message).not.toContain('hunter2');
  });

  it('reports a missing file as CONFIG_INVALID', async () => {
    const e = await loadFailure(join(tmp, 'nope.json'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain('file not found');
  });

  it('lists the problems of a file with its path', async () => {
    const file = join(tmp, 'bad.json');
    const cfg = minimal();
    cfg.layout.compartments[1] = { id: 'A2', size: 'L', bus: 'bus9', board: 0, lock: 2 };
    await writeFile(file, JSON.stringify(cfg));
    const e = await loadFailure(file);
    expect(e.message).toContain(`${file} has 1 problem:\n  layout.compartments.1.bus: unknown bus "bus9"`);
  });

  it('resolves dataDir relative to the file', async () => {
    const file = join(tmp, 'ok.json');
    await writeFile(file, JSON.stringify({ ...minimal(), dataDir: './state' }));
    expect((await loadConfig(file)).dataDir).toBe(join(tmp, 'state'));
  });
});
