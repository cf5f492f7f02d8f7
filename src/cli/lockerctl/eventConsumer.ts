// The consumer side of an event stream (what a carrier back end or `lockerctl watch` runs):
// verifies each envelope with the locker's enrolled key, delivers each seq exactly once and in
// order, asks for a replay when it sees a gap ({replayFrom}), acknowledges what it has
// ({upTo}), and on every (re)connect asks for everything after its cursor, which also
// recovers events a restarted broker lost at the tail of a stream. A stream is identified by
// (locker, carrier, epoch): when a locker's database is replaced (restore, re-initialisation, a
// lost WAL) its envelopes carry a new epoch and the seqs count from 1 again; the consumer reports
// the new epoch, starts that stream over at seq 1, and drops late envelopes of epochs it left.
import type { Clock, TimerHandle } from '../../../kernel/clock.js';
import { verifyEnvelope, type EventEnvelope } from '../../sync/envelope.js';
import type { VerifyKey } from '../../sync/detachedSignature.js';

export type CursorVerdict = 'deliver' | 'duplicate' | 'gap';

/** The position in one (locker, carrier) stream: the next seq expected. */
export class StreamCursor {
  constructor(private expectedSeq: number | undefined) {}

  /** Without a starting point, the first envelope seen sets it (tail -f behaviour). */
  check(seq: number): CursorVerdict {
    if (this.expectedSeq === undefined) this.expectedSeq = seq;
    if (seq < this.expectedSeq) return 'duplicate';
    if (seq > this.expectedSeq) return 'gap';
    return 'deliver';
  }

  advance(): void {
    if (this.expectedSeq !== undefined) this.expectedSeq++;
  }

  get expected(): number | undefined {
    return this.expectedSeq;
  }

  /** The highest seq delivered, 0 when none. */
  get delivered(): number {
    return this.expectedSeq === undefined ? 0 : this.expectedSeq - 1;
  }
}

export interface AckRequest {
  upTo?: number;
  replayFrom?: number;
  /** The stream epoch the request is about (the locker ignores a request for another one). */
  epoch?: string;
}

/** Epochs a consumer remembers having left, per locker (late envelopes of them are dropped). */
const RETIRED_EPOCHS = 8;

export interface ConsumerOptions {
  clock: Clock;
  /**
   * Public keys per locker id; an envelope of a locker not listed is refused. May answer with a
   * promise (keys read from an enrolment file on first use): the envelope waits for it, in order.
   */
  lockerKeys: (locker: string) => readonly VerifyKey[] | undefined | Promise<readonly VerifyKey[] | undefined>;
  /** Sends {upTo} / {replayFrom} to the locker's ack topic of this stream. */
  sendAck: (locker: string, msg: AckRequest) => void;
  /** Called once per seq, in order. May be async; the next delivery waits for it. */
  deliver: (env: EventEnvelope) => void | Promise<void>;
  /** Envelopes refused (bad signature, unreadable): for stderr. */
  reject?: (reason: string, topic: string) => void;
  /** Starting cursors (the seq expected next) per locker, e.g. from a state file. */
  startAt?: Readonly<Record<string, number>>;
  /** The stream epoch of each startAt cursor (from the same state file); unknown = the first seen is taken. */
  startEpochs?: Readonly<Record<string, string>>;
  /** A locker's stream began a new epoch (its database was replaced): seqs restart at 1. */
  onEpoch?: (locker: string, previous: string, next: string) => void;
  /** Default starting seq for a locker without one; undefined = start at the first seen. */
  defaultStart?: number;
  ackEvery?: number;
  ackDelayMs?: number;
  /** A replay request with no progress is repeated after this long. */
  replayRetryMs?: number;
}

interface LockerState {
  cursor: StreamCursor;
  epoch: string | undefined;
  retired: string[];
  ackedUpTo: number;
  ackTimer: TimerHandle | undefined;
  /** The seq a replay was requested from, and when. */
  replayAskedFrom: number | undefined;
  replayAskedAt: number;
  retryTimer: TimerHandle | undefined;
}

export interface ConsumerStats {
  delivered: number;
  duplicates: number;
  gaps: number;
  rejected: number;
  replayRequests: number;
  /** New stream epochs seen (a locker's database was replaced). */
  epochs: number;
  /** Late envelopes of an epoch already left, dropped. */
  staleEpoch: number;
}

export class EventConsumer {
  private readonly lockers = new Map<string, LockerState>();
  private queue: Promise<void> = Promise.resolve();
  readonly stats: ConsumerStats = { delivered: 0, duplicates: 0, gaps: 0, rejected: 0, replayRequests: 0, epochs: 0, staleEpoch: 0 };

  constructor(private readonly o: ConsumerOptions) {
    for (const [locker, seq] of Object.entries(o.startAt ?? {})) this.state(locker, seq).epoch = o.startEpochs?.[locker];
  }

  /** Feeds one MQTT message from an evt topic. Messages are processed strictly one at a time. */
  receive(topic: string, payload: Uint8Array): Promise<void> {
    const copy = Buffer.from(payload);
    this.queue = this.queue.then(() => this.process(topic, copy)).catch((e: unknown) => this.o.reject?.(`delivery failed: ${(e as Error).message}`, topic));
    return this.queue;
  }

  /** Waits until every message received so far is processed. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** After (re)connecting: ask every known stream for what follows its cursor. */
  resume(): void {
    for (const [locker, s] of this.lockers) {
      if (s.cursor.expected === undefined) continue;
      this.askReplay(locker, s, s.cursor.expected, true);
    }
  }

  /** The next seq expected per locker, for a state file. */
  cursors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [locker, s] of this.lockers) if (s.cursor.expected !== undefined) out[locker] = s.cursor.expected;
    return out;
  }

  /** The stream epoch per locker, for the state file beside cursors(). */
  epochs(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [locker, s] of this.lockers) if (s.epoch !== undefined) out[locker] = s.epoch;
    return out;
  }

  /** Acknowledges everything delivered now (on exit). */
  flushAcks(): void {
    for (const [locker, s] of this.lockers) this.ack(locker, s);
  }

  close(): void {
    for (const s of this.lockers.values()) {
      s.ackTimer?.cancel();
      s.retryTimer?.cancel();
    }
  }

  private state(locker: string, start?: number): LockerState {
    let s = this.lockers.get(locker);
    if (!s) {
      const from = start ?? this.o.defaultStart;
      s = {
        cursor: new StreamCursor(from),
        epoch: undefined,
        retired: [],
        ackedUpTo: from === undefined ? 0 : from - 1,
        ackTimer: undefined,
        replayAskedFrom: undefined,
        replayAskedAt: 0,
        retryTimer: undefined,
      };
      this.lockers.set(locker, s);
    }
    return s;
  }

  private async process(topic: string, payload: Buffer): Promise<void> {
    const locker = topic.split('/').at(-2);
    if (!locker) return;
    const keys = await this.o.lockerKeys(locker);
    if (!keys || keys.length === 0) {
      this.stats.rejected++;
      this.o.reject?.(`no enrolled key for locker "${locker}"`, topic);
      return;
    }
    const verdict = verifyEnvelope(payload, keys, locker);
    if (!verdict.ok) {
      this.stats.rejected++;
      this.o.reject?.(verdict.reason, topic);
      return;
    }
    const env = verdict.envelope;
    const s = this.state(locker);
    if (env.epoch !== undefined && env.epoch !== s.epoch) {
      if (s.retired.includes(env.epoch)) {
        this.stats.staleEpoch++;
        return;
      }
      if (s.epoch === undefined) s.epoch = env.epoch;
      else this.newEpoch(locker, s, env.epoch);
    }
    const check = s.cursor.check(env.seq);
    if (check === 'duplicate') {
      this.stats.duplicates++;
      return;
    }
    if (check === 'gap') {
      this.stats.gaps++;
      // Later rows are dropped, not buffered: the replay brings them again, in order.
      const expected = s.cursor.expected;
      if (expected !== undefined) this.askReplay(locker, s, expected, false);
      return;
    }
    await this.o.deliver(env);
    s.cursor.advance();
    this.stats.delivered++;
    if (s.replayAskedFrom !== undefined && s.cursor.expected !== undefined && s.cursor.expected > s.replayAskedFrom) {
      s.replayAskedFrom = undefined;
      s.retryTimer?.cancel();
      s.retryTimer = undefined;
    }
    this.scheduleAck(locker, s);
  }

  /** The locker's stream restarts at seq 1 in a new epoch: start over, forget the old position. */
  private newEpoch(locker: string, s: LockerState, epoch: string): void {
    const previous = s.epoch ?? '';
    s.retired = [previous, ...s.retired.filter((e) => e !== previous)].slice(0, RETIRED_EPOCHS);
    s.epoch = epoch;
    s.cursor = new StreamCursor(1);
    s.ackedUpTo = 0;
    s.ackTimer?.cancel();
    s.ackTimer = undefined;
    s.retryTimer?.cancel();
    s.retryTimer = undefined;
    s.replayAskedFrom = undefined;
    this.stats.epochs++;
    this.o.onEpoch?.(locker, previous, epoch);
  }

  private askReplay(locker: string, s: LockerState, from: number, force: boolean): void {
    const now = this.o.clock.now();
    const retryMs = this.o.replayRetryMs ?? 2_000;
    // One request per gap; in-flight later rows arriving meanwhile must not multiply it.
    if (!force && s.replayAskedFrom === from && now - s.replayAskedAt < retryMs) return;
    s.replayAskedFrom = from;
    s.replayAskedAt = now;
    this.stats.replayRequests++;
    this.o.sendAck(locker, { replayFrom: from, ...(s.epoch !== undefined ? { epoch: s.epoch } : {}) });
    s.retryTimer?.cancel();
    s.retryTimer = this.o.clock.setTimeout(() => {
      s.retryTimer = undefined;
      if (s.replayAskedFrom !== undefined && s.cursor.expected === s.replayAskedFrom) this.askReplay(locker, s, s.replayAskedFrom, true);
    }, retryMs);
  }

  private scheduleAck(locker: string, s: LockerState): void {
    if (s.cursor.delivered - s.ackedUpTo >= (this.o.ackEvery ?? 100)) {
      this.ack(locker, s);
      return;
    }
    s.ackTimer ??= this.o.clock.setTimeout(() => {
      s.ackTimer = undefined;
      this.ack(locker, s);
    }, this.o.ackDelayMs ?? 250);
  }

  private ack(locker: string, s: LockerState): void {
    s.ackTimer?.cancel();
    s.ackTimer = undefined;
    const upTo = s.cursor.delivered;
    if (upTo <= s.ackedUpTo) return;
    s.ackedUpTo = upTo;
    this.o.sendAck(locker, { upTo, ...(s.epoch !== undefined ? { epoch: s.epoch } : {}) });
  }
}
