// The metrics section of the configuration: defaults, the listener off with null, loopback only,
// and the health interval within its bounds, each refused with its path.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { isLockerError } from '../../../kernel/errors.js';

function config(metrics?: unknown): Record<string, unknown> {
  return {
    version: 1,
    locker: { id: 'locker-1' },
    dataDir: 'data',
    hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 12 }] }] },
    layout: { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }] },
    ...(metrics !== undefined ? { metrics } : {}),
  };
}

function problem(metrics: unknown): string {
  try {
    parseConfig(config(metrics));
  } catch (e) {
    if (isLockerError(e)) return e.message;
    throw e;
  }
  throw new Error('accepted');
}

describe('metrics configuration', () => {
  it('listens on 127.0.0.1:9464 and reports health every 5 minutes by default', () => {
    expect(parseConfig(config()).metrics).toEqual({ host: '127.0.0.1', port: 9464, healthIntervalS: 300 });
  });

  it('turns the listener off with port null, and takes ::1 and another port', () => {
    expect(parseConfig(config({ port: null })).metrics.port).toBeNull();
    expect(parseConfig(config({ host: '::1', port: 19464, healthIntervalS: 60 })).metrics).toEqual({ host: '::1', port: 19464, healthIntervalS: 60 });
  });

  it('refuses a listener beyond loopback, a bad port and an interval out of bounds, with their paths', () => {
    expect(problem({ host: '0.0.0.0' })).toMatch(/metrics\.host: .*loopback only/);
    expect(problem({ host: '192.168.1.20' })).toMatch(/metrics\.host/);
    expect(problem({ port: 70000 })).toMatch(/metrics\.port/);
    expect(problem({ healthIntervalS: 1 })).toMatch(/metrics\.healthIntervalS/);
    expect(problem({ healthIntervalS: 864_000 })).toMatch(/metrics\.healthIntervalS/);
    expect(problem({ prot: 1 })).toMatch(/metrics\.prot: unknown setting/);
  });
});
