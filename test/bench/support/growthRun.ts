// Days of steady traffic on a running lockerd (issue 10, item 4), simulated fast: the whole
// runtime in-process (startLockerd on the simulated boards, its real SQLite file, the real
// store, recorder, publisher, command processor and retention job) on an OffsetClock whose wall
// and monotonic time jump forward between rounds, while doors and boards run on real timers.
//
// Each round: `perRound` courier deposits at once, then their pickups; one carrier command
// (listParcels) and one operator command (inventory) through the command processor, as the
// MQTT client hands them over (signed, verified, claimed in the replay store); the consumers
// acknowledge every stream up to its last row through the publisher, as the MQTT client does on
// an {upTo} (no broker: nothing is published, the acknowledgement is what prunes). Each day a few
// deposits are left in the locker: they expire after the carrier's dwell time and the courier
// collects them. The retention job runs one pass per simulated hour, as its hourly timer would.
//
// Used by the growth benchmark (test/bench/growth.ts, full size) and by a short seeded
// integration test (test/integration/growthDays.test.ts) that asserts row bounds only.
import { rm } from 'node:fs/promises';
import { type RunningLockerd, startLockerd } from '../../../src/composition/startLockerd.js';
import { importSigningKey } from '../../../src/crypto/keys.js';
import { createIdFactory } from '../../../src/ids.js';
import { signCommand } from '../../../src/cli/lockerctl/commandToken.js';
import { databaseBytes, tableBytes, tableRowCounts } from '../../../src/store/database.js';
import { type RetentionRules } from '../../../src/store/retention.js';
import { topicFor } from '../../../src/sync/topics.js';
import { seededRandom } from '../../../kernel/random.js';
import { OffsetClock } from '../../support/offsetClock.js';
import { benchDataDir, benchLocker } from './benchLocker.js';
import { nextWaybill } from './populate.js';
import { freePort } from './processes.js';
import { benchCourier, LockerDriver } from './lockerDriver.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface GrowthRunSpec {
  days: number;
  roundsPerDay: number;
  perRound: number;
  /** Deposits per day left in the locker to expire and be collected. */
  expiringPerDay: number;
  retention?: Partial<RetentionRules>;
  /** Carrier dwell hours (how long a parcel left in the locker stays before it expires). */
  dwellHours?: number;
  /** mqtt.retainAcked: acknowledged rows kept per stream for replays (default the config's, 10,000). */
  retainAcked?: number;
  seed?: string;
  /** Called after each simulated day, and once before the first (day 0). */
  onDay?: (sample: DaySample) => void;
  /** Memory of this process, when the caller measures it (the benchmark child). */
  memory?: () => Record<string, number>;
}

export interface DaySample {
  day: number;
  pairs: number;
  expired: number;
  collected: number;
  commands: number;
  rows: Record<string, number>;
  /** Bytes of pages per table, indexes included. */
  tableBytes: Record<string, number>;
  /** Bytes in pages in use, and the database file's size (pages), without the WAL. */
  dbUsed: number;
  dbFile: number;
  placementsHeld: number;
  memory?: Record<string, number>;
}

export interface GrowthRun {
  running: RunningLockerd;
  clock: OffsetClock;
  samples: DaySample[];
  stop(): Promise<void>;
}

export async function runGrowthDays(spec: GrowthRunSpec): Promise<GrowthRun> {
  const clock = new OffsetClock();
  const dir = await benchDataDir('growth');
  // MQTT configured towards an address where nothing listens: the publisher and the command
  // processor are composed as in service; the acknowledgements come in below.
  const demo = await benchLocker(dir, { logLevel: 'silent', energiseMs: 50, fastPollIntervalMs: 20, mqttUrl: `mqtt://127.0.0.1:${await freePort()}` });
  const dwellHours = spec.dwellHours ?? 48;
  const mqtt = demo.config.mqtt;
  if (!mqtt) throw new Error('the growth run needs an mqtt section');
  const config = {
    ...demo.config,
    carriers: demo.config.carriers.map((c) => ({ ...c, dwellHours })),
    mqtt: { ...mqtt, ...(spec.retainAcked !== undefined ? { retainAcked: spec.retainAcked } : {}) },
  };
  const running = await startLockerd({ config, sim: true, port: 0, clock, ...(spec.retention ? { retention: spec.retention } : {}) });
  const sync = running.sync;
  if (!sync) throw new Error('the growth run needs the MQTT sync composed');
  const driver = new LockerDriver(running);
  await driver.doorsKnown();

  const lockerId = config.locker.id;
  const carrier = benchCourier.carrier;
  const carrierKeys = demo.keys.carriers[carrier];
  if (!carrierKeys) throw new Error(`no demo keys for ${carrier}`);
  const carrierKey = await importSigningKey(carrierKeys.signing);
  const operatorKey = await importSigningKey(demo.keys.operator.signing);
  const ids = createIdFactory(clock, seededRandom(spec.seed ?? 'growth'));
  let commands = 0;
  const command = async (tenant: 'carrier' | 'operator', cmd: string): Promise<void> => {
    const t = await signCommand({ key: tenant === 'carrier' ? carrierKey : operatorKey, issuer: tenant === 'carrier' ? carrier : config.operator.id, locker: lockerId, cmd, clock, ids });
    const topic = topicFor(tenant === 'carrier' ? { kind: 'carrier', carrier } : { kind: 'operator' }, lockerId, 'cmd');
    const reply = await sync.commands.handle(topic, Buffer.from(t.token));
    if (!reply?.ok) throw new Error(`${cmd} was refused: ${JSON.stringify(reply)}`);
    commands += 1;
  };
  const ackAll = (): void => {
    for (const s of running.outbox.streams()) if (s.nextSeq - 1 > s.ackedUpTo) sync.sync.publisher.ack(s.stream, s.nextSeq - 1);
  };

  const samples: DaySample[] = [];
  let pairs = 0;
  let expired = 0;
  let collected = 0;
  const sample = (day: number): void => {
    const bytes = databaseBytes(running.db);
    const s: DaySample = {
      day,
      pairs,
      expired,
      collected,
      commands,
      rows: tableRowCounts(running.db),
      tableBytes: tableBytes(running.db),
      dbUsed: bytes.used,
      dbFile: bytes.file,
      placementsHeld: running.locker.placementsHeld(),
      ...(spec.memory ? { memory: spec.memory() } : {}),
    };
    samples.push(s);
    spec.onDay?.(s);
  };
  // The retention job's hourly pass, for each simulated hour the clock crossed.
  let nextPass = clock.now() + HOUR;
  const jump = (ms: number): void => {
    clock.jump(ms);
    while (nextPass <= clock.now()) {
      running.retention.runOnce();
      nextPass += HOUR;
    }
  };

  sample(0);
  const stepMs = Math.floor(DAY / spec.roundsPerDay);
  for (let day = 1; day <= spec.days; day++) {
    // The courier first collects what expired (the expiry sweep runs as they ask).
    for (const c of running.locker.collections(benchCourier)) {
      if (c.kind !== 'expired') continue;
      expired += 1;
      await driver.takeAndClose(await running.locker.openCollection(benchCourier, c.parcelId));
      collected += 1;
    }
    for (let i = 0; i < spec.expiringPerDay; i++) await driver.deposit(nextWaybill(carrier), 'S');
    for (let r = 0; r < spec.roundsPerDay; r++) {
      const deposits = await Promise.all(Array.from({ length: spec.perRound }, () => driver.deposit(nextWaybill(carrier), 'S')));
      await Promise.all(deposits.map((d) => driver.pickup(d.code)));
      pairs += deposits.length;
      await command('carrier', 'listParcels');
      await command('operator', 'inventory');
      ackAll();
      jump(stepMs);
    }
    sample(day);
  }
  return {
    running,
    clock,
    samples,
    stop: async () => {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
