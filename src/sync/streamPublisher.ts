// Drains the outbox to MQTT: per stream in seq order, QoS 1, at most `inflightWindow`
// publishes awaiting PUBACK across all streams, round-robin between streams so one carrier's
// backlog cannot starve another's. Rows were signed and encoded when they were appended: the
// drain reads seq and bytes (bounded by rows and by bytes) and publishes them. PUBACKs move a
// per-stream watermark ("every row up to seq had its PUBACK"), committed in batches. After a
// reconnect each stream resumes above its watermark; a consumer's {replayFrom} rewinds one
// stream and the rows sent again carry replay: true, signed anew.
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import { type FailurePolicy, reportingPolicy } from '../../kernel/failurePolicy.js';
import type { Logger } from '../logger.js';
import type { DocumentSigner } from './detachedSignature.js';
import { encodeEnvelope, replayPayload } from './envelope.js';
import { carrierOfStream, type Outbox, type StreamBacklog, type WireRow } from '../store/outbox.js';
import type { ReplayOutcome } from './commandHandlers.js';
import { tenantOfCarrier, topicFor } from './topics.js';

/** The connection as the publisher sees it; done fires once: no error on PUBACK. */
export interface PublishChannel {
  publish(topic: string, payload: Buffer, done: (err?: Error) => void): void;
}

export interface StreamPublisherOptions {
  outbox: Outbox;
  signer: DocumentSigner;
  lockerId: string;
  /** The stream epoch every envelope carries (the database's, src/store/databaseIdentity.ts). */
  epoch?: string;
  clock: Clock;
  logger: Logger;
  inflightWindow: number;
  retainAcked: number;
  /** Rows read from SQLite per stream at a time. */
  prefetch?: number;
  /** Wire bytes read from SQLite per stream at a time (at least one row). */
  prefetchBytes?: number;
  /** PUBACKs collected this long (or 256 of them) are committed together. */
  sentFlushMs?: number;
  /** A stream whose publish was refused waits this long before trying again from that row. */
  retryMs?: number;
  /** Where failures of the publisher's own timers and PUBACK callbacks go (default: logged). */
  failures?: FailurePolicy;
}

interface StreamState {
  stream: string;
  topic: string;
  /** The next seq to publish. */
  next: number;
  /** Rows up to this seq are sent again on request: flagged as replays. */
  replayUntil: number;
  buffer: WireRow[];
  /** Publishes of this connection awaiting PUBACK, in the order they were sent. */
  flight: Flight[];
  /** The watermark: every row up to this seq had its PUBACK. */
  sentUpTo: number;
  /** The last read found nothing at `next`; read again only after notify(). */
  drained: boolean;
  /** No publishing before this monotonic time (a refused publish); a wall-clock step does not move it. */
  pausedUntil: number;
}

interface Flight {
  seq: number;
  done: boolean;
}

export interface PublisherHealth {
  attached: boolean;
  inflight: number;
  streams: (StreamBacklog & { nextToPublish: number | null })[];
}

export class StreamPublisher {
  private channel: PublishChannel | undefined;
  /** Bumped on attach and detach, so callbacks of an old connection change nothing. */
  private generation = 0;
  private inflight = 0;
  private readonly streams = new Map<string, StreamState>();
  private order: string[] = [];
  private cursor = 0;
  /** Watermarks moved since the last commit. */
  private readonly pendingSent = new Map<string, number>();
  private pendingCount = 0;
  private flushTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private pumping = false;
  private wakeQueued = false;
  private readonly log: Logger;
  private readonly prefetch: number;
  private readonly prefetchBytes: number;
  private readonly sentFlushMs: number;
  private readonly retryMs: number;
  private readonly failures: FailurePolicy;
  /** The last mark of PUBACKs was refused: the next try waits for its timer (retryMs). */
  private flushFailing = false;

  constructor(private readonly o: StreamPublisherOptions) {
    this.log = o.logger.child({ channel: 'outbox' });
    this.failures = o.failures ?? reportingPolicy((path, err) => this.log.error({ path, err }, 'background path failed'));
    this.prefetch = o.prefetch ?? 256;
    this.prefetchBytes = o.prefetchBytes ?? 256 * 1024;
    this.sentFlushMs = o.sentFlushMs ?? 20;
    this.retryMs = o.retryMs ?? 5_000;
  }

  /** Changes window and retention at run time (remote config). */
  configure(next: { inflightWindow?: number; retainAcked?: number }): void {
    if (next.inflightWindow !== undefined) this.o.inflightWindow = next.inflightWindow;
    if (next.retainAcked !== undefined) this.o.retainAcked = next.retainAcked;
    this.pump();
  }

  /** A connection is up: every stream resumes at its lowest unsent row (or its pending replay). */
  attach(channel: PublishChannel): void {
    this.flushSent();
    this.generation++;
    this.channel = channel;
    this.inflight = 0;
    this.refreshStreams();
    for (const s of this.streams.values()) {
      s.flight = [];
      s.sentUpTo = this.o.outbox.sentUpTo(s.stream);
      const resume = this.o.outbox.firstUnsentSeq(s.stream) ?? this.o.outbox.stream(s.stream)?.nextSeq ?? s.next;
      // A replay asked for before the drop continues; otherwise anything without PUBACK goes again.
      s.next = s.replayUntil >= s.next ? Math.min(s.next, resume) : resume;
      s.buffer = [];
      s.drained = false;
      s.pausedUntil = 0;
    }
    this.pump();
  }

  /** The connection is gone: in-flight publishes are forgotten (they go again after attach). */
  detach(): void {
    this.generation++;
    this.channel = undefined;
    this.inflight = 0;
    for (const s of this.streams.values()) s.flight = [];
    this.flushSent();
  }

  /** New rows were appended (or may have been): look again. Cheap; call after every commit. */
  /**
   * The core committed rows: publish them soon. Coalesced, so a burst of commits in one turn
   * costs one pump; the recorder calls this directly (startSync subscribes it).
   */
  notifySoon(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    queueMicrotask(() => {
      this.wakeQueued = false;
      // Runs outside any caller: a throw goes to the failure policy, never to the event loop.
      this.failures.run('sync.publish', () => this.notify());
    });
  }

  notify(): void {
    this.refreshStreams();
    for (const s of this.streams.values()) s.drained = false;
    this.pump();
  }

  /** The stream epoch of this publisher's envelopes (undefined for none). */
  get epoch(): string | undefined {
    return this.o.epoch;
  }

  /** A consumer's {upTo}: acknowledges rows of this stream only, then prunes beyond retention. */
  ack(stream: string, upTo: number): number {
    this.flushSent();
    const acked = this.o.outbox.ackUpTo(stream, upTo, this.o.clock.now(), this.o.retainAcked);
    const s = this.streams.get(stream);
    // Rows the consumer already has need not be published (again).
    if (s && acked >= s.next) {
      s.next = acked + 1;
      s.buffer = [];
      s.drained = false;
      this.pump();
    }
    return acked;
  }

  /** A consumer's {replayFrom}: sends the stream again from fromSeq, in order, flagged as replays. */
  replay(stream: string, fromSeq: number): ReplayOutcome {
    this.refreshStreams();
    const info = this.o.outbox.stream(stream);
    const s = this.streams.get(stream);
    const lastSeq = info ? info.nextSeq - 1 : 0;
    if (!info || !s || lastSeq === 0) return { fromSeq, lastSeq, truncated: false };
    const first = this.o.outbox.firstRetainedSeq(stream) ?? lastSeq + 1;
    const from = Math.max(fromSeq, first);
    if (from < s.next) {
      s.replayUntil = Math.max(s.replayUntil, s.next - 1);
      s.next = from;
      s.buffer = [];
      s.drained = false;
      this.log.info({ stream, from, until: s.replayUntil }, 'replay requested');
      this.pump();
    }
    return { fromSeq: from, lastSeq, truncated: fromSeq < first };
  }

  health(): PublisherHealth {
    return {
      attached: this.channel !== undefined,
      inflight: this.inflight,
      streams: this.o.outbox.backlog().map((b) => ({ ...b, nextToPublish: this.streams.get(b.stream)?.next ?? null })),
    };
  }

  /** Commits the moved watermarks in one transaction; also called on detach and before acks so the table is current. */
  flushSent(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    if (this.pendingSent.size === 0) return;
    const marks = new Map(this.pendingSent);
    // A refused mark (disk full) loses nothing: the marks stay pending and are tried again
    // later; the rows stay above the watermark, which at worst sends them again (at least once).
    const ok = this.failures.run('outbox.flush', () => {
      this.o.outbox.markSent(marks);
      return true;
    });
    this.flushFailing = !ok;
    if (!ok) {
      this.flushTimer = this.o.clock.setTimeout(() => this.flushSent(), this.retryMs);
      return;
    }
    this.pendingSent.clear();
    this.pendingCount = 0;
  }

  close(): void {
    this.detach();
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
  }

  private refreshStreams(): void {
    for (const info of this.o.outbox.streams()) {
      if (this.streams.has(info.stream)) continue;
      const carrier = info.carrier ?? carrierOfStream(info.stream);
      if (carrier === undefined) {
        this.log.warn({ stream: info.stream }, 'outbox stream with an unknown name is not published');
        continue;
      }
      const resume = this.o.outbox.firstUnsentSeq(info.stream) ?? info.nextSeq;
      this.streams.set(info.stream, {
        flight: [],
        sentUpTo: info.sentUpTo,
        stream: info.stream,
        topic: topicFor(tenantOfCarrier(carrier), this.o.lockerId, 'evt'),
        next: resume,
        replayUntil: 0,
        buffer: [],
        drained: false,
        pausedUntil: 0,
      });
      this.order.push(info.stream);
    }
  }

  private pump(): void {
    // Publish callbacks may fire synchronously inside publish(); one loop at a time.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.channel && this.inflight < this.o.inflightWindow) {
        let progressed = false;
        for (let i = 0; i < this.order.length && this.channel && this.inflight < this.o.inflightWindow; i++) {
          const name = this.order[(this.cursor + i) % this.order.length];
          const s = name === undefined ? undefined : this.streams.get(name);
          if (!s) continue;
          const row = this.take(s);
          if (!row) continue;
          this.send(s, row);
          progressed = true;
        }
        this.cursor = this.order.length > 0 ? (this.cursor + 1) % this.order.length : 0;
        if (!progressed) break;
      }
    } finally {
      this.pumping = false;
    }
  }

  private take(s: StreamState): WireRow | undefined {
    if (s.pausedUntil > this.o.clock.monotonic()) return undefined;
    if (s.buffer.length === 0) {
      if (s.drained) return undefined;
      s.buffer = this.o.outbox.wireFrom(s.stream, s.next, this.prefetch, this.prefetchBytes);
      if (s.buffer.length === 0) {
        s.drained = true;
        return undefined;
      }
    }
    const row = s.buffer.shift();
    if (!row) return undefined;
    if (row.seq !== s.next) {
      // Only pruned (acknowledged) rows can be missing below the first retained one.
      this.log.debug({ stream: s.stream, expected: s.next, found: row.seq }, 'outbox skips missing rows');
    }
    s.next = row.seq + 1;
    return row;
  }

  /** The bytes to publish: stored at append; signed now only for a replay or a row appended without a sealer. */
  private payloadOf(s: StreamState, row: WireRow): Buffer {
    const replay = row.seq <= s.replayUntil;
    if (row.wire) return replay ? replayPayload(row.wire, this.o.signer) : row.wire;
    const full = this.o.outbox.row(s.stream, row.seq);
    if (!full) throw new Error('the row is gone');
    return encodeEnvelope(full, this.o.lockerId, this.o.signer, replay, this.o.epoch);
  }

  private send(s: StreamState, row: WireRow): void {
    const channel = this.channel;
    if (!channel) return;
    const generation = this.generation;
    const flight: Flight = { seq: row.seq, done: false };
    s.flight.push(flight);
    let payload: Buffer;
    try {
      payload = this.payloadOf(s, row);
    } catch (e) {
      // Skipped for good (it would fail again): the watermark passes it.
      this.log.error({ err: e, stream: s.stream, seq: row.seq }, 'cannot encode outbox row; it is skipped');
      this.sent(s, flight);
      return;
    }
    this.inflight++;
    channel.publish(s.topic, payload, (err) => {
      if (generation !== this.generation) return;
      this.inflight--;
      // Called by the MQTT client: nothing may be thrown back into it.
      this.failures.run('outbox.puback', () => {
        if (err) this.refused(s, row.seq, err);
        else this.sent(s, flight);
        this.pump();
      });
    });
  }

  /**
   * A PUBACK: the watermark moves over the PUBACKed prefix of what was sent, in send order, so
   * it never passes a row still waiting (or refused). Replays below the watermark leave it.
   */
  private sent(s: StreamState, flight: Flight): void {
    flight.done = true;
    let moved = false;
    let head = 0;
    while (head < s.flight.length && s.flight[head]?.done) {
      const seq = s.flight[head]?.seq ?? 0;
      if (seq > s.sentUpTo) {
        s.sentUpTo = seq;
        moved = true;
      }
      head++;
    }
    if (head > 0) s.flight.splice(0, head);
    if (!moved) return;
    this.pendingSent.set(s.stream, s.sentUpTo);
    this.pendingCount++;
    if (this.pendingCount >= 256 && !this.flushFailing) this.flushSent();
    else this.flushTimer ??= this.o.clock.setTimeout(() => this.flushSent(), this.sentFlushMs);
  }

  /** The broker refused one publish (MQTT 5 reason code): keep order, try that row again later. */
  private refused(s: StreamState, seq: number, err: Error): void {
    this.log.warn({ stream: s.stream, seq, err: err.message }, 'publish refused; retrying the stream later');
    // This row and whatever was sent after it go again: their PUBACKs no longer move the watermark.
    const at = s.flight.findIndex((f) => f.seq >= seq);
    if (at >= 0) s.flight.length = at;
    if (seq < s.next) {
      s.next = seq;
      s.buffer = [];
      s.drained = false;
    }
    s.pausedUntil = this.o.clock.monotonic() + this.retryMs;
    this.retryTimer ??= this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.failures.run('outbox.retry', () => this.pump());
    }, this.retryMs);
  }
}
