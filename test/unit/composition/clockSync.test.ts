import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { ClockSyncMonitor } from '../../../src/composition/clockSync.js';
import { silentLogger } from '../../../src/logger.js';

describe('clock synchronisation before NTP', () => {
  const missing = join(tmpdir(), 'no-such-timesync-flag');
  it('a Pi that booted into 1970 is not synchronised', () => {
    expect(new ClockSyncMonitor(new ManualClock(0), silentLogger(), missing).isSynced()).toBe(false);
  });
  it('a clock after this release was built is taken as set when systemd cannot say', () => {
    expect(new ClockSyncMonitor(new ManualClock(Date.UTC(2026, 5, 1)), silentLogger(), missing).isSynced()).toBe(true);
  });
  it("timesyncd's flag file means synchronised", () => {
    const dir = mkdtempSync(join(tmpdir(), 'timesync-'));
    const flag = join(dir, 'synchronized');
    writeFileSync(flag, '');
    expect(new ClockSyncMonitor(new ManualClock(0), silentLogger(), flag).isSynced()).toBe(true);
  });
});
