// Lockers for the benchmarks: the shipped simulator configuration with real demo keys, either
// with its own 24-compartment layout or with a large one (Kerong CU48 boards of 48 locks on one
// simulated bus), and a data folder prepared before lockerd starts (identity, demo keys, the
// layout applied, rows inserted).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodesConfig, type LockerConfig } from '../../../src/config/schema.js';
import { loadOrCreateLockerIdentity, type LockerIdentity } from '../../../src/crypto/lockerIdentity.js';
import { applyProvisionedState } from '../../../src/domain/provisioning.js';
import { silentLogger } from '../../../src/logger.js';
import { cryptoRandom } from '../../../kernel/random.js';
import Database from 'better-sqlite3';
import { migrate, openDatabase } from '../../../src/store/database.js';
import { migrations } from '../../../src/store/migrations.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { demoConfigInput, makeDemoLocker, type DemoLocker } from '../../support/demoLocker.js';
import { populateLocker, type PopulateSpec, type Populated } from './populate.js';

export interface BenchLockerOptions {
  /** Number of CU48 boards (48 locks each); undefined keeps the demo layout (2 boards, 24 compartments). */
  boards?: number;
  /** Latch energise time of the simulated boards; only how soon a door springs open. */
  energiseMs?: number;
  /** How often a board is polled right after an unlock (how soon an open door is seen). */
  fastPollIntervalMs?: number;
  logLevel?: string;
  /** Configure MQTT sync towards this broker URL (lockerd then reads and publishes its outbox). */
  mqttUrl?: string;
}

export const BUS_ID = 'bus0';

const lockSizes = ['S', 'S', 'M', 'M', 'L', 'XL', 'XS', 'S', 'M', 'L', 'L', 'XS'] as const;

export function compartmentId(board: number, lock: number): string {
  return `B${board}-${String(lock).padStart(2, '0')}`;
}

function largeLayout(boards: number): { compartments: Record<string, unknown>[] } {
  const compartments: Record<string, unknown>[] = [];
  for (let board = 0; board < boards; board++) {
    for (let lock = 1; lock <= 48; lock++) {
      compartments.push({
        id: compartmentId(board, lock),
        size: lockSizes[(lock - 1) % lockSizes.length],
        bus: BUS_ID,
        board,
        lock,
        accessible: lock % 8 === 1,
        column: board * 6 + Math.ceil(lock / 8),
        row: ((lock - 1) % 8) + 1,
      });
    }
  }
  return { compartments };
}

export async function benchDataDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `lockerd-bench-${tag}-`));
}

export async function benchLocker(dataDir: string, o: BenchLockerOptions = {}): Promise<DemoLocker> {
  const demoHardware = demoConfigInput().hardware as { scanner?: unknown };
  const busTiming = { fastPollIntervalMs: o.fastPollIntervalMs ?? 100 };
  // The product's default code policy (10 digits), not the demo's shorter kiosk codes: the
  // benchmarks measure what a locker runs with unless its operator chooses otherwise.
  const overrides: Record<string, unknown> = { logLevel: o.logLevel ?? 'info', codes: CodesConfig.parse({}) };
  if (o.mqttUrl !== undefined) {
    const lockerId = (demoConfigInput().locker as { id: string }).id;
    overrides.mqtt = { url: o.mqttUrl, username: lockerId, clientId: lockerId };
  }
  if (o.boards !== undefined) {
    overrides.hardware = {
      buses: [
        {
          id: BUS_ID,
          protocol: 'kerong-cu48',
          transport: { kind: 'sim' },
          boards: Array.from({ length: o.boards }, (_, address) => ({ address, locks: 48, energiseMs: o.energiseMs ?? 500 })),
          ...busTiming,
        },
      ],
      scanner: demoHardware.scanner,
    };
    overrides.layout = { version: 1, ...largeLayout(o.boards) };
  } else if (o.energiseMs !== undefined || o.fastPollIntervalMs !== undefined) {
    const hw = demoConfigInput().hardware as { buses: { boards: Record<string, unknown>[] }[]; scanner?: unknown };
    overrides.hardware = {
      ...hw,
      buses: hw.buses.map((b) => ({ ...b, ...busTiming, boards: b.boards.map((board) => ({ ...board, energiseMs: o.energiseMs ?? 500 })) })),
    };
  }
  return makeDemoLocker(dataDir, overrides);
}

export interface PreparedLocker {
  identity: LockerIdentity;
  populated: Populated;
  /** Seconds spent filling the database. */
  populateS: number;
}

/**
 * Creates the locker identity, applies the layout and carriers as lockerd would, and inserts the
 * rows. `pageSize` creates the database with another SQLite page size first (an experiment:
 * lockerd itself leaves SQLite's default).
 */
export async function prepareLocker(config: LockerConfig, spec: Omit<PopulateSpec, 'now'>, pageSize?: number): Promise<PreparedLocker> {
  const random = cryptoRandom();
  const identity = await loadOrCreateLockerIdentity(config.dataDir, { random, logger: silentLogger() });
  const file = join(config.dataDir, 'lockerd.db');
  if (pageSize !== undefined) {
    const raw = new Database(file);
    raw.pragma(`page_size = ${pageSize}`);
    migrate(raw, migrations);
    raw.close();
  }
  const db = openDatabase(file);
  try {
    const store = new LockerStore(db);
    const now = Date.now();
    applyProvisionedState(store, config, now, silentLogger());
    const t0 = performance.now();
    const populated = populateLocker(store, identity.codeSecret, random, { ...spec, now });
    return { identity, populated, populateS: (performance.now() - t0) / 1000 };
  } finally {
    db.close();
  }
}
