// Alarms: faults and incidents the operator must hear about (jammed latch, door left open or
// forced, silent board, code brute force). Each is an audit record plus an event on the
// operator stream, written together; a carrier whose parcel is affected gets its own event.
import { ErrorCodes } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { type LockerStore, type OutboxEventInput } from '../store/lockerStore.js';
import { type EventRecorder } from './eventRecorder.js';
import { type LockerEvent } from './locker.js';

export interface AlarmRecord {
  id: number;
  type: string;
  compartment?: string;
  ts: number;
  data: Record<string, unknown>;
}

export class LockerAlarms {
  constructor(
    private readonly store: LockerStore,
    private readonly recorder: EventRecorder,
    private readonly logger: Logger,
    private readonly emit: (e: LockerEvent) => void,
  ) {}

  raise(type: string, compartment: string | undefined, data: Record<string, unknown>, toOperator = true, carrierEvents: OutboxEventInput[] = []): void {
    this.logger.warn({ alarm: type, compartment, ...data }, 'alarm');
    try {
      this.recorder.commit({
        actor: 'system',
        action: type,
        subject: compartment ?? null,
        data,
        events: [...(toOperator ? [{ carrier: null, type, data: { ...(compartment ? { compartment } : {}), ...data } }] : []), ...carrierEvents],
      });
    } catch (err) {
      // An alarm that cannot be stored (disk full) is still logged and shown.
      this.logger.error({ err, alarm: type }, 'could not record alarm');
    }
    this.emit({ type: 'alarm', alarm: { type, ...(compartment ? { compartment } : {}) } });
  }

  /** The latch did not release after the retry: out of service, alarm, session failed. */
  latchJammed(compartment: string, sessionId: string, now: number, carrierEvents: OutboxEventInput[]): void {
    this.logger.warn({ compartment, sessionId }, 'latch jammed');
    this.recorder.commit(
      {
        actor: 'system',
        action: 'alarm.latch_jammed',
        subject: compartment,
        data: { sessionId },
        events: [{ carrier: null, type: 'alarm.latch_jammed', data: { compartment, sessionId } }, ...carrierEvents],
      },
      () => {
        this.store.setService(compartment, false, ErrorCodes.LATCH_JAMMED);
        this.store.endSession(sessionId, 'failed', ErrorCodes.LATCH_JAMMED, now);
      },
    );
    this.emit({ type: 'alarm', alarm: { type: 'alarm.latch_jammed', compartment } });
  }

  doorLeftOpen(compartment: string, sessionId: string): void {
    this.raise('alarm.door_left_open', compartment, { sessionId });
  }

  recent(limit = 50): AlarmRecord[] {
    return this.store.recentAudit('alarm.', limit).map((r) => ({ id: r.id, type: r.action, ...(r.subject ? { compartment: r.subject } : {}), ts: r.ts, data: r.data }));
  }
}
