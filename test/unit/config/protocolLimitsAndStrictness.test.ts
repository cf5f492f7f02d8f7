// check-config tells the truth in one round (issue 12, section 3): the board families' limits
// are in the schema (a CU48 board at address 12, a CU16 board with 20 locks are refused with
// their paths instead of failing at start), the broker URL must be a URL, and unknown keys are
// reported together with every other problem, not only once the others are fixed.
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigIssue } from '../../../src/config/loadConfig.js';
import { BOARD_LIMITS } from '../../../kernel/protocolLimits.js';
import { CU16_LOCKS } from '../../../hal/codecs/kerongCu16.js';
import { CU48_LOCKS } from '../../../hal/codecs/kerongCu48.js';
import { G8A_MAX_LOCKS } from '../../../hal/codecs/generic8a.js';
import { createLockBoardProtocol } from '../../../hal/buses/protocols.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { LockerError } from '../../../kernel/errors.js';

function base(bus: Record<string, unknown>, compartments: Record<string, unknown>[]): Record<string, unknown> {
  return {
    version: 1,
    locker: { id: 'locker-1' },
    dataDir: '/var/lib/lockerd',
    hardware: { buses: [{ id: 'bus0', transport: { kind: 'sim' }, ...bus }] },
    layout: { version: 1, compartments },
  };
}

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    parseConfig(input);
  } catch (e) {
    if (e instanceof LockerError && e.code === 'CONFIG_INVALID') return (e.context as { issues: ConfigIssue[] }).issues;
    throw e;
  }
  return [];
}

describe('board family limits are part of the schema', () => {
  it('refuses a CU48 board at address 12 with its path', () => {
    const issues = issuesOf(base({ protocol: 'kerong-cu48', boards: [{ address: 12, locks: 8 }] }, [{ id: 'A1', size: 'M', bus: 'bus0', board: 12, lock: 1 }]));
    expect(issues).toContainEqual({ path: 'hardware.buses.0.boards.0.address', message: 'kerong-cu48 boards have addresses 0-9' });
  });

  it('refuses a CU16 board with 20 locks with its path', () => {
    const issues = issuesOf(base({ protocol: 'kerong-cu16', boards: [{ address: 0, locks: 20 }] }, [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }]));
    expect(issues).toContainEqual({ path: 'hardware.buses.0.boards.0.locks', message: 'kerong-cu16 boards have at most 16 locks' });
  });

  it('refuses an 8A board at address 0 and a board configured twice', () => {
    const issues = issuesOf(
      base({ protocol: 'generic-8a', boards: [{ address: 0, locks: 8 }, { address: 3, locks: 8 }, { address: 3, locks: 8 }] }, [{ id: 'A1', size: 'M', bus: 'bus0', board: 3, lock: 1 }]),
    );
    expect(issues).toContainEqual({ path: 'hardware.buses.0.boards.0.address', message: 'generic-8a boards have addresses 1-255' });
    expect(issues).toContainEqual({ path: 'hardware.buses.0.boards.2.address', message: 'board 3 is configured twice' });
  });

  it('accepts every family at its limits, and the drivers accept what the schema accepts', () => {
    for (const [protocol, limit] of Object.entries(BOARD_LIMITS)) {
      const bus = { protocol, boards: [{ address: limit.minAddress, locks: limit.maxLocks }, { address: limit.maxAddress, locks: 1 }] };
      const input = base(bus, [{ id: 'A1', size: 'M', bus: 'bus0', board: limit.maxAddress, lock: 1 }]);
      expect(issuesOf(input)).toEqual([]);
      expect(() => createLockBoardProtocol(SerialBusConfig.parse({ id: 'bus0', transport: { kind: 'sim' }, ...bus }))).not.toThrow();
    }
    // The table matches the codecs' own constants.
    expect(BOARD_LIMITS['kerong-cu16'].maxLocks).toBe(CU16_LOCKS);
    expect(BOARD_LIMITS['kerong-cu48'].maxLocks).toBe(CU48_LOCKS);
    expect(BOARD_LIMITS['generic-8a'].maxLocks).toBe(G8A_MAX_LOCKS);
  });
});

describe('the broker URL', () => {
  const ok = base({ protocol: 'kerong-cu48', boards: [{ address: 0, locks: 8 }] }, [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }]);

  it('refuses "not a url" and a URL of another scheme', () => {
    expect(issuesOf({ ...ok, mqtt: { url: 'not a url' } })).toEqual([{ path: 'mqtt.url', message: 'not a broker URL: use mqtt://host:port or mqtts://host:port (also ws://, wss://)' }]);
    expect(issuesOf({ ...ok, mqtt: { url: 'http://broker.example:1883' } })[0]?.path).toBe('mqtt.url');
  });

  it('accepts mqtt, mqtts, ws and wss URLs', () => {
    for (const url of ['mqtt://127.0.0.1:1883', 'mqtts://broker.example', 'ws://broker.example/mqtt', 'wss://broker.example:443/mqtt']) expect(issuesOf({ ...ok, mqtt: { url } })).toEqual([]);
  });
});

describe('every problem in one round', () => {
  it('reports unknown keys together with malformed values and dangling references', () => {
    const input = {
      ...base({ protocol: 'kerong-cu48', boards: [{ address: 0, locks: 8, polarty: 'latched-low' }] }, [{ id: 'A1', size: 'M', bus: 'nobus', board: 0, lock: 1 }]),
      codes: { maxFailure: 3, length: 4 },
      kiosk: { prot: 8080 },
      $comment: 'allowed',
    };
    const issues = issuesOf(input);
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'codes.maxFailure', message: 'unknown setting "maxFailure"' },
        { path: 'kiosk.prot', message: 'unknown setting "prot"' },
        { path: 'hardware.buses.0.boards.0.polarty', message: 'unknown setting "polarty"' },
        { path: 'layout.compartments.0.bus', message: 'unknown bus "nobus"' },
      ]),
    );
    expect(issues.map((i) => i.path)).toContain('codes.length');
  });

  it('allows "$" keys at any depth and can still ignore unknown keys on request', () => {
    const input = { ...base({ protocol: 'kerong-cu48', boards: [{ address: 0, locks: 8, $comment: 'left board' }] }, [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }]), kiosk: { prot: 1 } };
    expect(issuesOf({ ...input, kiosk: {} })).toEqual([]);
    expect(parseConfig(input, { unknownKeys: 'ignore' }).kiosk.port).toBe(8080);
  });
});
