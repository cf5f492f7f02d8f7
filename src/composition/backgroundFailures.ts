// The failure policy of every background path (kernel/failurePolicy.ts), as the composition
// root runs it: a failure is logged (once per outage of that path, then counted), named in
// health as a degraded fault, and alarmed to the operator (alarm.background_failed). The alarm
// is an outbox event, so while the database refuses writes it waits here and is written as
// soon as a write succeeds. A path's fault ends when the path next succeeds.
//
// The store probe: while the store refuses writes (STORE_FULL, STORE_ERROR), a tiny write is
// tried every probeMs, so the locker notices by itself that space has returned even when
// nobody uses it; the first write that succeeds ends the store fault and records
// alarm.store_refused with the outage's span.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { ErrorCodes, type ErrorCode, isLockerError } from '../../kernel/errors.js';
import { type FailurePolicy } from '../../kernel/failurePolicy.js';
import { type Logger } from '../logger.js';
import { storeErrorCode } from '../store/database.js';
import { type HealthFault, type StoreCondition } from './healthReport.js';

/** Bounds: a path name is short, and at most this many distinct paths are tracked. */
const MAX_PATHS = 64;
const MAX_PATH_LENGTH = 64;
/** A path that fails again this soon after its last alarm is logged and counted, not alarmed again (flapping). */
const ALARM_QUIET_MS = 10 * 60_000;

interface PathFault {
  code: ErrorCode;
  since: number;
  failures: number;
  alarmed: boolean;
}

export interface BackgroundFailuresOptions {
  clock: Clock;
  logger: Logger;
  store: StoreCondition;
  /** Records the operator alarm; throws when the database refuses it (it is tried again later). */
  alarm: (data: { path: string; code: string; since: number; failures: number; at: number }) => void;
  /** Records that the store accepts writes again (alarm.store_refused); throws when it does not. */
  storeResumed: (data: { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number; resumedAt: number }) => void;
  /** The tiny write of the probe (one row of the settings table); throws while the store refuses writes. */
  probeWrite: () => void;
  /** How often the probe tries a write while the store refuses them (default 5 s). */
  probeMs?: number;
}

export class BackgroundFailures implements FailurePolicy {
  private readonly faults = new Map<string, PathFault>();
  /** When each path was last alarmed (bounded like the faults). */
  private readonly lastAlarm = new Map<string, number>();
  private readonly pendingResumed: { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number; resumedAt: number }[] = [];
  private probeTimer: TimerHandle | undefined;
  private lastResumedAlarm: number | undefined;
  private readonly probeMs: number;
  private readonly offRecovered: () => void;
  private stopped = false;

  constructor(private readonly o: BackgroundFailuresOptions) {
    this.probeMs = o.probeMs ?? 5_000;
    this.offRecovered = o.store.onRecovered((ended) => {
      // A store that flaps (the probe's small write fits, the next transaction does not) is
      // recorded once per ALARM_QUIET_MS, not once per flap; the log has every end.
      const now = o.clock.now();
      o.logger.info({ code: ended.code, since: ended.since }, 'the database accepts writes again');
      const waiting = this.pendingResumed[this.pendingResumed.length - 1];
      // An alarm not yet written covers this flap too: it now ends here.
      if (waiting) waiting.resumedAt = now;
      else if (this.lastResumedAlarm === undefined || now - this.lastResumedAlarm >= ALARM_QUIET_MS) this.pendingResumed.push({ ...ended, resumedAt: now });
      // After the write that succeeded has returned: never inside someone else's commit.
      queueMicrotask(() => this.flushAlarms());
    });
  }

  run<T>(path: string, fn: () => T): T | undefined {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.report(path, e);
      return undefined;
    }
    if (this.faults.has(path)) this.succeeded(path);
    return result;
  }

  report(path: string, error: unknown): void {
    if (this.stopped) return;
    const name = path.slice(0, MAX_PATH_LENGTH);
    const code: ErrorCode = storeErrorCode(error) ?? (isLockerError(error) ? error.code : ErrorCodes.INTERNAL);
    this.o.store.failed(error);
    const known = this.faults.get(name);
    if (known) {
      known.failures++;
      known.code = code;
      this.o.logger.debug({ path: name, code, failures: known.failures }, 'background path failed again');
    } else {
      if (this.faults.size >= MAX_PATHS) {
        const oldest = this.faults.keys().next().value;
        if (oldest !== undefined) this.faults.delete(oldest);
      }
      const now = this.o.clock.now();
      const last = this.lastAlarm.get(name);
      this.faults.set(name, { code, since: now, failures: 1, alarmed: last !== undefined && now - last < ALARM_QUIET_MS });
      // The error's message is SQLite's or ours: no code, badge or PIN is ever in it.
      this.o.logger.error({ path: name, code, err: error }, `${code}: background path ${name} failed; running degraded until it succeeds again`);
    }
    this.armProbe();
    this.flushAlarms();
  }

  /** A background path that failed worked again: its fault ends. */
  succeeded(path: string): void {
    const f = this.faults.get(path);
    if (!f) return;
    this.faults.delete(path);
    this.o.logger.info({ path, code: f.code, failures: f.failures }, 'background path works again');
  }

  /** The health faults of the background paths that failed and have not succeeded since. */
  healthFaults(): HealthFault[] {
    return [...this.faults].map(([path, f]) => ({ code: f.code, path, since: f.since, failures: f.failures }));
  }

  /** Starts the store probe if the store refuses writes (also called on every reported failure). */
  armProbe(): void {
    if (this.stopped || this.probeTimer || !this.o.store.fault()) return;
    this.probeTimer = this.o.clock.setInterval(() => this.probe(), this.probeMs);
  }

  /** One probe: a tiny write; its success ends the store fault (StoreCondition tells the listeners). */
  probe(): void {
    const fault = this.o.store.fault();
    if (!fault || fault.code === ErrorCodes.STORE_CORRUPT) {
      // Nothing to find out: the store works, or the file is damaged (only a restart checks it again).
      this.probeTimer?.cancel();
      this.probeTimer = undefined;
      return;
    }
    try {
      this.o.probeWrite();
    } catch (e) {
      this.o.store.failed(e);
      return;
    }
    this.o.store.succeeded();
    this.probeTimer?.cancel();
    this.probeTimer = undefined;
  }

  /** Writes the alarms that wait for the database; stops at the first refusal. */
  flushAlarms(): void {
    if (this.stopped) return;
    try {
      while (this.pendingResumed.length) {
        const next = this.pendingResumed[0];
        if (!next) break;
        this.o.storeResumed(next);
        this.pendingResumed.shift();
        this.lastResumedAlarm = next.resumedAt;
      }
      for (const [path, f] of this.faults) {
        if (f.alarmed) continue;
        const at = this.o.clock.now();
        this.o.alarm({ path, code: f.code, since: f.since, failures: f.failures, at });
        f.alarmed = true;
        this.lastAlarm.delete(path);
        this.lastAlarm.set(path, at);
        if (this.lastAlarm.size > MAX_PATHS) {
          const oldest = this.lastAlarm.keys().next().value;
          if (oldest !== undefined) this.lastAlarm.delete(oldest);
        }
      }
    } catch (e) {
      this.o.store.failed(e);
      this.armProbe();
    }
  }

  stop(): void {
    this.stopped = true;
    this.probeTimer?.cancel();
    this.probeTimer = undefined;
    this.offRecovered();
  }
}
