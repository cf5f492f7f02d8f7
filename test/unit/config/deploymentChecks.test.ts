import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demoOnlyIssues, isLoopbackHost } from '../../../src/config/deploymentChecks.js';
import { loadConfig, parseConfig, type ConfigIssue } from '../../../src/config/loadConfig.js';
import { guardDeployment } from '../../../src/composition/deploymentGuard.js';
import { LockerError } from '../../../kernel/errors.js';
import { silentLogger } from '../../../src/logger.js';
import { packageRoot } from '../../../src/packageRoot.js';

const examples = join(packageRoot(), 'deploy', 'examples');
const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(examples, name), 'utf8')) as Record<string, unknown>;

async function loadIssues(file: string): Promise<ConfigIssue[]> {
  try {
    await loadConfig(file);
  } catch (e) {
    if (e instanceof LockerError && e.code === 'CONFIG_INVALID') return e.context.issues as ConfigIssue[];
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

function minimal(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    locker: { id: 'locker-1' },
    dataDir: '/tmp/lockerd-unused',
    hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 2 }] }] },
    layout: { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }] },
    ...extra,
  };
}

describe('placeholder keys and demo settings outside --sim', () => {
  it('every shipped example is refused for a real locker, naming each placeholder key', async () => {
    expect((await loadIssues(join(examples, 'lockerd.cu48.json'))).map((i) => i.path)).toEqual([
      'carriers.0.signingKeys.0.x',
      'carriers.0.encryptionKey.x',
      'carriers.1.signingKeys.0.x',
      'carriers.1.encryptionKey.x',
      'operator.signingKeys.0.x',
    ]);
    expect((await loadIssues(join(examples, 'lockerd.gpio.json'))).map((i) => i.path)).toEqual(['carriers.0.signingKeys.0.x', 'carriers.0.encryptionKey.x']);
    expect((await loadIssues(join(examples, 'lockerd.sim.json'))).map((i) => i.path)).toContain('demo.revealCodes');
  });

  it('the same files load for the simulator', async () => {
    for (const f of ['lockerd.sim.json', 'lockerd.cu48.json', 'lockerd.gpio.json']) await expect(loadConfig(join(examples, f), { sim: true })).resolves.toBeDefined();
  });

  it('a placeholder only in the kid still counts; a placeholder broker password too', () => {
    const key = { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43), kid: 'carrier-placeholder' };
    expect(demoOnlyIssues({ operator: { signingKeys: [key] }, mqtt: { url: 'mqtt://x', password: 'PLACEHOLDER' } })).toEqual([
      { path: 'operator.signingKeys.0.kid', message: expect.stringContaining('placeholder') as string },
      { path: 'mqtt.password', message: expect.stringContaining('placeholder') as string },
    ]);
  });

  it('demo.revealCodes is reported together with schema errors, every problem at once', () => {
    try {
      parseConfig(minimal({ demo: { revealCodes: true }, codes: { length: 3 } }));
      expect.unreachable();
    } catch (e) {
      expect((e as LockerError).code).toBe('CONFIG_INVALID');
      expect(((e as LockerError).context.issues as ConfigIssue[]).map((i) => i.path)).toEqual(['codes.length', 'demo.revealCodes']);
    }
    expect(parseConfig(minimal({ demo: { revealCodes: true } }), { sim: true }).demo.revealCodes).toBe(true);
    expect(parseConfig(minimal({ demo: { revealCodes: false } })).demo.revealCodes).toBe(false);
  });

  it('startLockerd refuses a configuration built in code with demo settings when not on the simulator', () => {
    const config = parseConfig(minimal({ demo: { revealCodes: true } }), { sim: true });
    expect(() => guardDeployment(config, { sim: false, logger: silentLogger() })).toThrow(/CONFIG_INVALID[\s\S]*demo\.revealCodes/);
    expect(() => guardDeployment(config, { sim: true, logger: silentLogger() })).not.toThrow();
    const exposed = { ...config, demo: { revealCodes: false }, kiosk: { ...config.kiosk, host: '0.0.0.0', exposeBeyondLoopback: false } };
    expect(() => guardDeployment(exposed, { sim: true, logger: silentLogger() })).toThrow(/kiosk\.host/);
  });
});

describe('the kiosk host', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.20', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['kiosk.local', false],
    ['localhost.evil.example', false],
  ])('%s is loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('a non-loopback host needs kiosk.exposeBeyondLoopback: true', () => {
    expect(() => parseConfig(minimal({ kiosk: { host: '0.0.0.0' } }))).toThrow(/kiosk\.host: "0\.0\.0\.0" is reachable beyond this machine/);
    expect(parseConfig(minimal({ kiosk: { host: '0.0.0.0', exposeBeyondLoopback: true } })).kiosk.host).toBe('0.0.0.0');
    expect(parseConfig(minimal()).kiosk).toMatchObject({ host: '127.0.0.1', exposeBeyondLoopback: false });
  });

  it('the demo example is not a template for exposing the kiosk', () => {
    expect((example('lockerd.sim.json').kiosk as { host: string }).host).toBe('127.0.0.1');
  });
});
