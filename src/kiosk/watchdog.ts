// The kiosk watchdog: the page on the locker's screen sends a heartbeat (POST
// /api/kiosk/heartbeat, paired terminal only) while its JavaScript runs. A tab that crashed or
// hangs while the browser process lives on sends none; after `silenceS` without one, lockerd
// raises alarm.kiosk_silent on the operator stream (once per outage) and runs the configured
// restart command (argv, no shell, bounded in time and output). While the silence lasts the
// command is run again with an exponential backoff (initialS doubling up to maxS), so a kiosk
// that cannot come back does not cause a restart storm. The next heartbeat ends the outage:
// alarm.kiosk_back, and the backoff starts again from initialS.
import { execFile } from 'node:child_process';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { Logger } from '../logger.js';
import { Events, type AlarmEvent } from '../domain/events.js';

export interface KioskWatchdogConfig {
  /** Silence (no heartbeat) after which the kiosk counts as dead. */
  silenceS: number;
  /** argv of the restart command, e.g. ["systemctl", "restart", "lockerd-kiosk"]; run without a shell. */
  restartCommand: readonly string[];
  /** A restart command still running after this long is killed. */
  restartTimeoutS: number;
  /** Delay before the second restart of one outage; doubled each time up to maxS. */
  backoffInitialS: number;
  backoffMaxS: number;
}

export interface RestartOutcome {
  ok: boolean;
  /** Exit code, or the signal / error name. */
  status: string;
}

/** Runs argv without a shell, killed after timeoutMs, output capped (only its size is kept). */
export type CommandRunner = (argv: readonly string[], timeoutMs: number) => Promise<RestartOutcome>;

export const execRunner: CommandRunner = (argv, timeoutMs) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    if (file === undefined) return resolve({ ok: false, status: 'no command' });
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, shell: false, windowsHide: true }, (err) => {
      if (!err) return resolve({ ok: true, status: '0' });
      const e = err as NodeJS.ErrnoException & { signal?: string | null; killed?: boolean };
      const code = typeof e.code === 'number' ? String(e.code) : (e.code ?? '');
      resolve({ ok: false, status: e.killed ? `timed out (${e.signal ?? 'killed'})` : e.signal ? `signal ${e.signal}` : code || 'failed' });
    });
  });

export interface KioskWatchdogDeps {
  config: KioskWatchdogConfig;
  clock: Clock;
  logger: Logger;
  /** Raises an operator alarm (locker.alarms.raise). */
  /** Raises an operator alarm (built with the event catalogue). */
  alarm: (event: Extract<AlarmEvent, { type: 'alarm.kiosk_silent' | 'alarm.kiosk_back' }>) => void;
  run?: CommandRunner;
}

export interface KioskWatchdogStatus {
  lastBeatAt: number;
  silent: boolean;
  restarts: number;
  nextRestartAt: number | undefined;
}

export class KioskWatchdog {
  /** Wall time of the last beat, for status() only. */
  private lastBeatAt: number;
  /** Silence and backoff are durations: measured on monotonic time (a wall-clock step moves neither). */
  private lastBeatMono: number;
  private silent = false;
  private restarts = 0;
  /** Restarts of the current outage (for the backoff). */
  private outageRestarts = 0;
  /** Monotonic time of the next restart while silent. */
  private nextRestartAt: number | undefined;
  private restarting = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly run: CommandRunner;

  constructor(private readonly d: KioskWatchdogDeps) {
    this.run = d.run ?? execRunner;
    // Boot counts as a beat: the kiosk has silenceS to load and send its first one.
    this.lastBeatAt = d.clock.now();
    this.lastBeatMono = d.clock.monotonic();
  }

  start(): void {
    this.stopped = false;
    this.schedule(this.d.config.silenceS * 1000);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** A heartbeat of the paired kiosk page. */
  beat(): void {
    this.lastBeatAt = this.d.clock.now();
    this.lastBeatMono = this.d.clock.monotonic();
    if (this.silent) {
      this.silent = false;
      this.outageRestarts = 0;
      this.nextRestartAt = undefined;
      this.d.logger.info('kiosk heartbeat is back');
      this.d.alarm(Events.kioskBack({}));
      // The next check is a silence from now, not the pending restart of the outage that ended.
      if (!this.restarting) this.schedule(this.d.config.silenceS * 1000);
    }
  }

  status(): KioskWatchdogStatus {
    const next = this.nextRestartAt === undefined ? undefined : this.d.clock.now() + (this.nextRestartAt - this.d.clock.monotonic());
    return { lastBeatAt: this.lastBeatAt, silent: this.silent, restarts: this.restarts, nextRestartAt: next };
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.d.clock.setTimeout(() => void this.check(), Math.max(100, ms));
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const c = this.d.config;
    const now = this.d.clock.monotonic();
    const silenceMs = now - this.lastBeatMono;
    if (silenceMs < c.silenceS * 1000) {
      this.schedule(c.silenceS * 1000 - silenceMs);
      return;
    }
    if (!this.silent) {
      this.silent = true;
      this.d.logger.warn({ silentS: Math.round(silenceMs / 1000) }, 'kiosk page sends no heartbeat: restarting the kiosk browser');
      this.d.alarm(Events.kioskSilent({ silentS: Math.round(silenceMs / 1000) }));
      this.nextRestartAt = now;
    }
    if (this.nextRestartAt !== undefined && now >= this.nextRestartAt && !this.restarting) await this.restart();
    if (!this.silent) return this.schedule(c.silenceS * 1000);
    this.schedule((this.nextRestartAt ?? now + c.silenceS * 1000) - this.d.clock.monotonic());
  }

  private async restart(): Promise<void> {
    const c = this.d.config;
    this.restarting = true;
    this.restarts++;
    this.outageRestarts++;
    const backoffS = Math.min(c.backoffMaxS, c.backoffInitialS * 2 ** (this.outageRestarts - 1));
    this.nextRestartAt = this.d.clock.monotonic() + backoffS * 1000;
    try {
      const r = await this.run(c.restartCommand, c.restartTimeoutS * 1000);
      if (r.ok) this.d.logger.info({ command: c.restartCommand[0], attempt: this.outageRestarts }, 'kiosk browser restarted');
      else this.d.logger.error({ command: c.restartCommand[0], attempt: this.outageRestarts, status: r.status }, 'kiosk restart command failed');
    } finally {
      this.restarting = false;
      // The backoff counts from the end of the command.
      if (this.silent) this.nextRestartAt = this.d.clock.monotonic() + backoffS * 1000;
      else this.nextRestartAt = undefined;
    }
  }
}
