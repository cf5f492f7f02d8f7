// A demo locker configuration for tests: the shipped simulator example with real demo keys,
// a temp data folder, any free port and codes revealed on the local API (demo only).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SystemClock, type Clock } from '../../kernel/clock.js';
import { parseConfig } from '../../src/config/loadConfig.js';
import { type LockerConfig } from '../../src/config/schema.js';
import { loadOrCreateDemoKeys, mintDemoCourierBadge, mintDemoOperatorBadge, withDemoKeys, type DemoKeys } from '../../src/composition/demoKeys.js';
import { packageRoot } from '../../src/packageRoot.js';
import { cryptoRandom } from '../../kernel/random.js';

export type ConfigOverrides = { [K in keyof LockerConfig]?: unknown };

export interface DemoLocker {
  config: LockerConfig;
  keys: DemoKeys;
  mintCourierBadge(carrier: string, courierId: string, perms?: ('deposit' | 'collect')[]): Promise<string>;
  mintOperatorBadge(operatorId?: string): Promise<string>;
}

export function demoConfigInput(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json'), 'utf8')) as Record<string, unknown>;
}

/** The demo locker's hardware on CU16 boards, whose item sensors say whether a compartment is empty. */
export function demoHardwareWithItemSensors(): Record<string, unknown> {
  const hardware = demoConfigInput()['hardware'] as { buses: { boards: Record<string, unknown>[] }[] };
  return {
    ...hardware,
    buses: hardware.buses.map((b) => ({ ...b, protocol: 'kerong-cu16', boards: b.boards.map((board) => ({ ...board, itemSensors: true })) })),
  };
}

export async function makeDemoLocker(dataDir: string, overrides: ConfigOverrides = {}, clock: Clock = new SystemClock()): Promise<DemoLocker> {
  // No broker unless a test brings one: the demo file points at the embedded broker of `npm start`.
  const { mqtt: _mqtt, ...base } = demoConfigInput();
  // A scenario's cleanup stops lockerd with doors still open: no drain unless a test asks for one.
  const input = { ...base, dataDir, kiosk: { port: 0 }, metrics: { port: 0 }, demo: { revealCodes: true }, logLevel: 'silent', shutdown: { drainMs: 0 }, ...overrides };
  const parsed = parseConfig(input, { unknownKeys: 'ignore', sim: true });
  const keys = await loadOrCreateDemoKeys(join(dataDir, 'demo-keys'), parsed.carriers.map((c) => c.id));
  const config = await withDemoKeys(parsed, keys, cryptoRandom());
  return {
    config,
    keys,
    mintCourierBadge: (carrier, courierId, perms) => mintDemoCourierBadge(keys, carrier, courierId, clock, perms),
    mintOperatorBadge: (operatorId = 'ops-1') => mintDemoOperatorBadge(keys, config.operator.id, operatorId, clock),
  };
}
