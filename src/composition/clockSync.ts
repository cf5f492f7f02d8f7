// Is the wall clock trustworthy? A Raspberry Pi has no battery clock: until NTP has synchronised
// it, timestamps can be days or decades off. Events stamped meanwhile carry clockSynced=false.
// Asks systemd (timedatectl, or timesyncd's flag file); where neither exists, a clock earlier
// than this release was built cannot be right, and a later one is taken as set.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type Logger } from '../logger.js';

/** No locker runs this release before it existed. */
const RELEASE_FLOOR_MS = Date.UTC(2026, 0, 1);

export class ClockSyncMonitor {
  private synced: boolean;
  private timer?: TimerHandle;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly flagFile = '/run/systemd/timesync/synchronized',
  ) {
    this.synced = this.plausible();
  }

  private plausible(): boolean {
    return existsSync(this.flagFile) || this.clock.now() >= RELEASE_FLOOR_MS;
  }

  isSynced(): boolean {
    return this.synced;
  }

  start(everyMs = 60_000): void {
    this.check();
    this.timer = this.clock.setInterval(() => this.check(), everyMs);
  }

  stop(): void {
    this.timer?.cancel();
  }

  private check(): void {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { timeout: 5000 }, (err, stdout) => {
      const was = this.synced;
      if (!err) this.synced = stdout.trim() === 'yes';
      else this.synced = this.plausible();
      if (was !== this.synced) this.logger.info({ clockSynced: this.synced }, this.synced ? 'the clock is synchronised' : 'the clock is not synchronised');
    });
  }
}
