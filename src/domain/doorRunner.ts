// Executes one door session: feeds inputs to the pure state machine in doorSession.ts and
// carries out its effects (unlock through the bus, timers on the injected clock). Outcomes go
// to one callback; nothing here knows about parcels.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { toLockerError } from '../../kernel/errors.js';
import {
  type DoorReading,
  type DoorSessionEffect,
  type DoorSessionInput,
  type DoorSessionSettings,
  type DoorSessionState,
  type DoorTimer,
  isTerminal,
  startDoorSession,
  stepDoorSession,
} from './doorSession.js';

export type DoorOutcome = Exclude<DoorSessionEffect, { type: 'unlock' } | { type: 'start_timer' } | { type: 'cancel_timer' } | { type: 'read_door' }>;

/** Reads the door now (the controller asks the board); rejects when the board cannot be read. */
export type DoorReader = () => Promise<DoorReading>;

export class DoorRunner {
  private current: DoorSessionState = { tag: 'unlocking', attempt: 0 };
  private readonly timers = new Map<DoorTimer, TimerHandle>();
  private disposed = false;
  private reportedFinished = false;

  constructor(
    readonly id: string,
    readonly compartmentId: string,
    private readonly unlock: () => Promise<void>,
    private readonly clock: Clock,
    private readonly settings: DoorSessionSettings,
    private readonly onOutcome: (outcome: DoorOutcome, runner: DoorRunner) => void,
    /** Called once the session has ended, before its last outcome is reported (the door is free again). */
    private readonly onFinished: (runner: DoorRunner) => void = () => undefined,
    private readonly read: DoorReader = () => Promise.reject(new Error('no door reader')),
  ) {}

  get state(): DoorSessionState {
    return this.current;
  }

  get finished(): boolean {
    return isTerminal(this.current);
  }

  start(): void {
    const t = startDoorSession();
    this.current = t.state;
    this.run(t.effects);
  }

  feed(input: DoorSessionInput): void {
    if (this.disposed) return;
    const t = stepDoorSession(this.current, input, this.settings);
    this.current = t.state;
    this.run(t.effects);
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private run(effects: DoorSessionEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'unlock':
          this.unlock().then(
            () => this.feed({ type: 'unlock_sent' }),
            (err: unknown) => {
              const le = toLockerError(err);
              this.feed({ type: 'unlock_failed', code: le.code, message: le.detail });
            },
          );
          break;
        case 'start_timer':
          this.timers.get(e.timer)?.cancel();
          this.timers.set(
            e.timer,
            this.clock.setTimeout(() => {
              this.timers.delete(e.timer);
              this.feed({ type: 'timeout', timer: e.timer });
            }, e.ms),
          );
          break;
        case 'read_door':
          this.read().then(
            (reading) => this.feed({ type: 'door_read', reading }),
            () => this.feed({ type: 'door_read_failed' }),
          );
          break;
        case 'cancel_timer':
          this.timers.get(e.timer)?.cancel();
          this.timers.delete(e.timer);
          break;
        default:
          if (isTerminal(this.current) && !this.reportedFinished) {
            this.reportedFinished = true;
            this.onFinished(this);
          }
          this.onOutcome(e, this);
      }
    }
    if (isTerminal(this.current)) {
      for (const t of this.timers.values()) t.cancel();
      this.timers.clear();
    }
  }
}
