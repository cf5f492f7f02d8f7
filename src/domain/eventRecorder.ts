// Records what happened: a state change, its audit record and its outbound events in ONE
// SQLite transaction (transactional outbox). A crash at any instant leaves all or none.
import { type Clock } from '../../kernel/clock.js';
import { type IdFactory } from '../ids.js';
import { type LockerStore } from '../store/lockerStore.js';
import { type DomainEvent } from './events.js';
import { type Outbox } from '../store/outbox.js';

export interface RecordSpec {
  actor: string;
  action: string;
  subject?: string | null;
  data?: Record<string, unknown>;
  /** Built with the catalogue's constructors (events.ts): nothing else is accepted. */
  events?: DomainEvent[];
}

export class EventRecorder {
  private readonly appended = new Set<() => void>();
  private readonly committed = new Set<(spec: RecordSpec) => void>();
  private readonly failed = new Set<(error: unknown) => void>();

  constructor(
    private readonly store: LockerStore,
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly newId: IdFactory,
    private readonly bootId: string,
    private readonly clockSynced: () => boolean,
  ) {}

  /** Called after every commit that appended events (the sync layer wakes up on it). */
  onAppended(listener: () => void): () => void {
    this.appended.add(listener);
    return () => this.appended.delete(listener);
  }

  /** Called after every commit with what was recorded (the metrics count transactions from it). */
  onCommitted(listener: (spec: RecordSpec) => void): () => void {
    this.committed.add(listener);
    return () => this.committed.delete(listener);
  }

  /** Called when a write is refused (STORE_FULL, STORE_ERROR, ...); health reports the store fault. */
  onFailed(listener: (error: unknown) => void): () => void {
    this.failed.add(listener);
    return () => this.failed.delete(listener);
  }

  private transaction<T>(fn: () => T): T {
    try {
      return this.store.transaction(fn);
    } catch (e) {
      for (const l of this.failed) {
        try {
          l(e);
        } catch {
          // an observer never changes the error
        }
      }
      throw e;
    }
  }

  /**
   * Appends events with no audit record (periodic reports such as `health`), together with
   * `change`, in one transaction.
   */
  append<T>(events: DomainEvent[], change?: () => T): T {
    const ts = this.clock.now();
    const result = this.transaction(() => {
      const r = change ? change() : (undefined as T);
      for (const e of events) this.outbox.append(e, { id: this.newId(), ts, clockSynced: this.clockSynced(), bootId: this.bootId });
      return r;
    });
    if (events.length) for (const l of this.appended) l();
    return result;
  }

  /** Runs `change` and records the audit entry and events with it, atomically. */
  commit<T>(spec: RecordSpec, change?: () => T): T {
    const ts = this.clock.now();
    const result = this.transaction(() => {
      const r = change ? change() : (undefined as T);
      this.store.audit(ts, spec.actor, spec.action, spec.subject ?? null, spec.data ?? {});
      for (const e of spec.events ?? []) {
        this.outbox.append(e, { id: this.newId(), ts, clockSynced: this.clockSynced(), bootId: this.bootId });
      }
      return r;
    });
    if (spec.events?.length) for (const l of this.appended) l();
    for (const l of this.committed) {
      try {
        l(spec);
      } catch {
        // an observer never undoes or fails a commit
      }
    }
    return result;
  }
}
