// The fleet simulator, short and seeded: a dozen lockers in two processes against a real
// Mosquitto (password file, the shipped ACL), each locker keeping its outbox in its own SQLite
// file the way lockerd opens it, rows sealed (signed and encoded) at append. Bounded: about two
// seconds of traffic; the big run is `npm run bench -- fleet`.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetCarrierIds, fleetLockerIds, runFleetSimulation } from '../../fleet/fleetSimulation.js';
import { openDatabase } from '../../src/store/database.js';
import { readDatabaseIdentity } from '../../src/store/databaseIdentity.js';
import { migrations } from '../../src/store/migrations.js';
import { Outbox } from '../../src/store/outbox.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';

const LOCKERS = 12;
const PASSWORD = 'fleet-ci';

describe.skipIf(!mosquittoAvailable())('fleet simulator on real SQLite outbox files', () => {
  let broker: MosquittoBroker;
  let dataDir: string;

  beforeAll(async () => {
    const users: Record<string, string> = {};
    for (const id of [...fleetLockerIds(LOCKERS), ...fleetCarrierIds(2)]) users[id] = PASSWORD;
    broker = await MosquittoBroker.start({ users, extra: ['max_inflight_messages 64'] });
    dataDir = mkdtempSync(join(tmpdir(), 'fleet-ci-'));
  });

  afterAll(async () => {
    await broker?.dispose();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every stream 1..last in order from sealed rows kept in one database file per locker', async () => {
    const report = await runFleetSimulation({
      url: broker.url,
      password: PASSWORD,
      lockers: LOCKERS,
      ratePerS: 120,
      durationMs: 1_500,
      lockerProcesses: 2,
      seed: 'fleet-ci',
      dataDir,
      connectTimeoutMs: 20_000,
    });
    expect(report.connected).toBe(LOCKERS);
    expect(report.emitted).toBeGreaterThan(20);
    expect(report.emitFailures).toBe(0);
    expect(report.badSignatures).toBe(0);
    expect(report.missingEvents).toBe(0);
    expect(report.outboxMismatches).toBe(0);
    expect(report.complete).toBe(true);
    expect(report.footprint.map((f) => f.lockers)).toEqual([LOCKERS / 2, LOCKERS / 2]);
    // While the lockers ran: the database, its -wal and -shm for each of them.
    expect(report.databaseFiles).toBe(LOCKERS * 3);
    for (const f of report.footprint) expect(f.openFiles).toBeLessThanOrEqual(f.openFilesLimit);

    // The files outlive the run (the folder was the caller's): read each back through the store's code.
    const folders = readdirSync(dataDir).sort();
    expect(folders).toEqual(fleetLockerIds(LOCKERS));
    let rows = 0;
    for (const locker of folders) {
      const db = openDatabase(join(dataDir, locker, 'lockerd.db'));
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
        const identity = readDatabaseIdentity(db);
        expect(identity?.lockerId).toBe(locker);
        for (const row of new Outbox(db).rows()) {
          rows += 1;
          // Sealed at append, as lockerd's composition root wires the outbox: the stored bytes are the envelope.
          expect(row.wire).not.toBeNull();
          const env = JSON.parse(row.wire?.toString('utf8') ?? '{}') as { locker?: string; seq?: number; epoch?: string; sig?: unknown };
          expect(env).toMatchObject({ locker, seq: row.seq, epoch: identity?.epoch });
        }
      } finally {
        db.close();
      }
    }
    expect(rows).toBe(report.emitted);

    // Those streams would continue at their last seq while the back ends start at 1: a fleet runs on fresh folders only.
    await expect(runFleetSimulation({ url: broker.url, password: PASSWORD, lockers: LOCKERS, ratePerS: 10, durationMs: 500, dataDir, connectTimeoutMs: 5_000 })).rejects.toThrow(
      /already holds data folders of 12 of these lockers .*empty --data-dir/,
    );
  });
});
