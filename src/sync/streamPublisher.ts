// Drains the outbox to MQTT: per stream in seq order, QoS 1, at most `inflightWindow`
// publishes awaiting PUBACK across all streams, round-robin between streams so one carrier's
// backlog cannot starve another's. A row is marked sent when its PUBACK arrives (marks are
// batched into one commit). After a reconnect each stream resumes at its lowest unsent row; a
// consumer's {replayFrom} rewinds one stream and the rows sent again carry replay: true.
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import type { Logger } from '../logger.js';
import type { DocumentSigner } from './detachedSignature.js';
import { encodeEnvelope } from './envelope.js';
import { carrierOfStream, type Outbox, type OutboxRow, type StreamBacklog } from '../store/outbox.js';
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
  /** PUBACKs collected this long (or 256 of them) are committed together. */
  sentFlushMs?: number;
  /** A stream whose publish was refused waits this long before trying again from that row. */
  retryMs?: number;
}

interface StreamState {
  stream: string;
  topic: string;
  /** The next seq to publish. */
  next: number;
  /** Rows up to this seq are sent again on request: flagged as replays. */
  replayUntil: number;
  buffer: OutboxRow[];
  /** The last read found nothing at `next`; read again only after notify(). */
  drained: boolean;
  /** No publishing before this monotonic time (a refused publish); a wall-clock step does not move it. */
  pausedUntil: number;
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
  private readonly pendingSent = new Map<string, number[]>();
  private pendingCount = 0;
  private flushTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private pumping = false;
  private readonly log: Logger;
  private readonly prefetch: number;
  private readonly sentFlushMs: number;
  private readonly retryMs: number;

  constructor(private readonly o: StreamPublisherOptions) {
    this.log = o.logger.child({ channel: 'outbox' });
    this.prefetch = o.prefetch ?? 256;
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
    this.flushSent();
  }

  /** New rows were appended (or may have been): look again. Cheap; call after every commit. */
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

  /** Commits collected PUBACKs; also called on detach and before acks so the table is current. */
  flushSent(): void {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    if (this.pendingCount === 0) return;
    const now = this.o.clock.now();
    for (const [stream, seqs] of this.pendingSent) this.o.outbox.markSent(stream, seqs, now);
    this.pendingSent.clear();
    this.pendingCount = 0;
  }

  close(): void {
    this.detach();
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

  private take(s: StreamState): OutboxRow | undefined {
    if (s.pausedUntil > this.o.clock.monotonic()) return undefined;
    if (s.buffer.length === 0) {
      if (s.drained) return undefined;
      s.buffer = this.o.outbox.rowsFrom(s.stream, s.next, this.prefetch);
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

  private send(s: StreamState, row: OutboxRow): void {
    const channel = this.channel;
    if (!channel) return;
    const generation = this.generation;
    let payload: Buffer;
    try {
      payload = encodeEnvelope(row, this.o.lockerId, this.o.signer, row.seq <= s.replayUntil, this.o.epoch);
    } catch (e) {
      this.log.error({ err: e, stream: s.stream, seq: row.seq }, 'cannot encode outbox row; it is skipped');
      return;
    }
    this.inflight++;
    channel.publish(s.topic, payload, (err) => {
      if (generation !== this.generation) return;
      this.inflight--;
      if (err) this.refused(s, row.seq, err);
      else this.sent(s.stream, row.seq);
      this.pump();
    });
  }

  private sent(stream: string, seq: number): void {
    let list = this.pendingSent.get(stream);
    if (!list) this.pendingSent.set(stream, (list = []));
    list.push(seq);
    this.pendingCount++;
    if (this.pendingCount >= 256) this.flushSent();
    else this.flushTimer ??= this.o.clock.setTimeout(() => this.flushSent(), this.sentFlushMs);
  }

  /** The broker refused one publish (MQTT 5 reason code): keep order, try that row again later. */
  private refused(s: StreamState, seq: number, err: Error): void {
    this.log.warn({ stream: s.stream, seq, err: err.message }, 'publish refused; retrying the stream later');
    if (seq < s.next) {
      s.next = seq;
      s.buffer = [];
      s.drained = false;
    }
    s.pausedUntil = this.o.clock.monotonic() + this.retryMs;
    this.retryTimer ??= this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryMs);
  }
}
