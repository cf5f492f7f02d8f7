// `lockerd status` as a person at the locker runs it, in its own process: with lockerd running
// (a child process on the simulator) it prints one screen from the running lockerd's /metrics
// and says so; once lockerd has stopped it reads the database read-only, says so, and still
// shows the door cycles and the outbox.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { readLockerStatus, renderLockerStatus } from '../../src/metrics/lockerStatus.js';
import { freePort, LockerHarness, scenarioOverrides, spawnLockerd, tempDataDir, type ChildLockerd } from '../support/lockerHarness.js';
import { KioskClient } from '../support/kioskClient.js';
import { rm } from 'node:fs/promises';

function lockerdStatus(configFile: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'status', '--config', configFile, '--sim'], { cwd: packageRoot(), timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('lockerd status', () => {
  let child: ChildLockerd | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await child?.kill();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints one screen from the running lockerd, then from its database once it stopped', async () => {
    dataDir = await tempDataDir();
    const metricsPort = await freePort();
    const demo = await makeDemoLocker(dataDir, scenarioOverrides({ metrics: { port: metricsPort } }));
    child = await spawnLockerd(demo.config, await freePort());
    const token = await new KioskClient(child.url, demo).courierLogin();
    const stored = await new KioskClient(child.url).deposit(token, 'SP-ST1', 'S');
    const configFile = join(dataDir, 'lockerd.json');

    const running = await lockerdStatus(configFile);
    expect(running.stderr).toBe('');
    expect(running.code).toBe(0);
    const lines = running.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^lockerd demo-locker-1: running \(version \d+\.\d+\.\d+, up \d+ s\)$/);
    expect(lines[1]).toBe(`  read from http://127.0.0.1:${metricsPort}/metrics`);
    expect(running.stdout).toContain('transactions:   deposit/ok 1 (since start)');
    expect(running.stdout).toMatch(/doors: +1 opened after an unlock, mean \d+ ms; 0 jammed/);
    expect(running.stdout).toContain('buses:          no silent board; no errors');
    expect(running.stdout).toContain('scanner:        connected, 0 reads, 0 rejected');
    expect(running.stdout).toContain('outbox:         c/swiftpost 1 unsent/1 unacked');
    expect(running.stdout).toMatch(/host: +disk free [\d.]+ [GMK]i?B, database [\d.]+ [GMK]i?B, memory [\d.]+ MiB, event loop p99 \d+ ms/);
    expect(running.stdout).toContain(`door cycles:    ${stored.compartment} 1/1 (opens/unlocks)`);
    // One screen.
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(120);

    await child.stop();
    const stopped = await lockerdStatus(configFile);
    expect(stopped.stderr).toBe('');
    expect(stopped.code).toBe(3);
    expect(stopped.stdout).toContain('lockerd demo-locker-1: not answering; read from the database (read-only)');
    expect(stopped.stdout).toContain(join(dataDir, 'lockerd.db'));
    expect(stopped.stdout).toContain(`lockerd does not answer on http://127.0.0.1:${metricsPort}/metrics`);
    expect(stopped.stdout).toContain('no health report stored yet');
    // Without a report, nothing live is claimed.
    expect(stopped.stdout).not.toMatch(/^(transactions|buses|scanner|mqtt):/m);
    // The door cycles were written at shutdown and are read back from the database.
    expect(stopped.stdout).toContain(`door cycles:    ${stored.compartment} 1/1 (opens/unlocks)`);
    expect(stopped.stdout).toContain('outbox:         c/swiftpost 1 unsent/1 unacked');
  });

  it('from the database, shows the figures of the last health report and says how old they are', async () => {
    const h = await LockerHarness.start({ overrides: { metrics: { port: null } } });
    try {
      const token = await h.courierLogin();
      await h.deposit(token, 'SP-ST2', 'S');
      expect(await h.running.metrics.health.report()).toBe('appended');
      // lockerd runs, but its listener is off: the database is read beside it, read-only.
      const status = await readLockerStatus(h.config);
      expect(status).toMatchObject({ source: 'database', transactions: { 'deposit/ok': 1 }, doorCycles: { A1: [1, 1] }, mqtt: null });
      expect(status.note).toContain('metrics.port is null');
      const reportedAt = status.reportedAt ?? 0;
      const screen = renderLockerStatus(status, reportedAt + 600_000).join('\n');
      expect(screen).toContain('figures of the last health report, 10 min ago');
      expect(screen).toContain('transactions:   deposit/ok 1');
      expect(screen).toContain('scanner:        connected, 0 reads, 0 rejected');
      expect(screen).toContain('mqtt:           not configured');
      expect(screen).toContain('outbox:         c/swiftpost 1 unsent/1 unacked, op 1 unsent/1 unacked');
    } finally {
      await h.cleanup();
    }
  });
});
