// Alarms: faults and incidents the operator must hear about (jammed latch, door left open or
// forced, silent board, code brute force). Each is an audit record plus an event on the
// operator stream, written together; a carrier whose parcel is affected gets its own event.
import { ErrorCodes } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type EventRecorder } from './eventRecorder.js';
import { type AlarmEvent, type CarrierEvent, Events } from './events.js';
import { type Notify } from './lockerEvents.js';

export interface AlarmRecord {
  id: number;
  type: string;
  compartment?: string;
  ts: number;
  data: Record<string, unknown>;
}

export class LockerAlarms {
  constructor(
    private readonly store: Pick<LockerStore, 'setService' | 'endSession' | 'recentAudit'>,
    private readonly recorder: Pick<EventRecorder, 'commit'>,
    private readonly logger: Logger,
    private readonly emit: Notify,
  ) {}

  /**
   * Records the alarm (audit entry and operator event, plus the affected carriers' events) and
   * shows it on the kiosk's operator stream. audit only: the operator event is not written
   * (alarm.store_failed, raised when the disk refused a write).
   */
  raise(alarm: AlarmEvent, carrierEvents: CarrierEvent[] = [], o: { auditOnly?: boolean } = {}): void {
    const compartment = 'compartment' in alarm.data ? alarm.data.compartment : undefined;
    this.logger.warn({ alarm: alarm.type, ...alarm.data }, 'alarm');
    try {
      this.recorder.commit({
        actor: 'system',
        action: alarm.type,
        subject: compartment ?? null,
        data: alarm.data,
        events: [...(o.auditOnly ? [] : [alarm]), ...carrierEvents],
      });
    } catch (err) {
      // An alarm that cannot be stored (disk full) is still logged and shown.
      this.logger.error({ err, alarm: alarm.type }, 'could not record alarm');
    }
    this.emit({ type: 'alarm', alarm: { type: alarm.type, ...(compartment ? { compartment } : {}) } });
  }

  /** The latch did not release after the retry: out of service, alarm, session failed. */
  latchJammed(compartment: string, sessionId: string, now: number, carrierEvents: CarrierEvent[]): void {
    this.logger.warn({ compartment, sessionId }, 'latch jammed');
    this.recorder.commit(
      {
        actor: 'system',
        action: 'alarm.latch_jammed',
        subject: compartment,
        data: { sessionId },
        events: [Events.latchJammed({ compartment, sessionId }), ...carrierEvents],
      },
      () => {
        this.store.setService(compartment, false, ErrorCodes.LATCH_JAMMED);
        this.store.endSession(sessionId, 'failed', ErrorCodes.LATCH_JAMMED, now);
      },
    );
    this.emit({ type: 'alarm', alarm: { type: 'alarm.latch_jammed', compartment } });
  }

  doorLeftOpen(compartment: string, sessionId: string): void {
    this.raise(Events.doorLeftOpen({ compartment, sessionId }));
  }

  recent(limit = 50): AlarmRecord[] {
    return this.store.recentAudit('alarm.', limit).map((r) => ({ id: r.id, type: r.action, ...(r.subject ? { compartment: r.subject } : {}), ts: r.ts, data: r.data }));
  }
}
