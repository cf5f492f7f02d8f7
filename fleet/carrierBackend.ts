// A carrier's back end as the fleet simulator runs it: several MQTT 5 connections in one shared
// subscription group ($share/{group}/lk/v1/c/{carrier}/l/+/evt), so the broker spreads the
// carrier's events over them and events of one stream can arrive out of order. Each envelope is
// verified with the sending locker's enrolled key on arrival; a per-stream cursor then restores
// order by seq (later seqs wait in a small buffer, duplicates are dropped) and delivers each
// event exactly once, in order. A gap that stays open asks the locker for {replayFrom}; progress
// is acknowledged with {upTo} now and then, as docs/protocol.md describes.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { type Ed25519PublicJwk } from '../src/config/schema.js';
import { verifyEnvelope } from '../src/sync/envelope.js';
import { parseTopic, topicFor, carrierTenant } from '../src/sync/topics.js';

export interface CarrierBackendOptions {
  carrier: string;
  url: string;
  password?: string;
  /** Connections in the shared subscription group. */
  members: number;
  group: string;
  /** Enrolled locker keys. */
  lockerKeys: Record<string, Ed25519PublicJwk>;
  stamp: () => number;
  /** A gap still open after this long is asked to be replayed. */
  gapTimeoutMs?: number;
  /** Acknowledge a stream after this many new events, or once it has been idle for ackIdleMs. */
  ackEvery?: number;
  ackIdleMs?: number;
}

interface Arrived {
  seq: number;
  verifiedAt: number;
}

interface StreamCursor {
  locker: string;
  /** The stream epoch being delivered (undefined until an envelope names one). */
  epoch: string | undefined;
  /** Epochs this stream left: late envelopes of them are dropped. */
  retired: Set<string>;
  /** The next seq to deliver. */
  expected: number;
  ahead: Map<number, Arrived>;
  /** Delivery times (monotonic ms), index seq - 1. */
  deliveredAt: number[];
  /** Verification times of the delivered events. */
  verifiedAt: number[];
  ackedUpTo: number;
  lastDeliveryAt: number;
  gapSince: number | null;
  replaysAsked: number;
}

export interface BackendStreamReport {
  locker: string;
  carrier: string;
  /** Events delivered in order: seq 1..delivered. */
  delivered: number;
  deliveredAt: number[];
  verifiedAt: number[];
  /** Events still waiting behind a gap. */
  waiting: number;
}

export interface BackendReport {
  carrier: string;
  members: number;
  received: number;
  /** Per member connection: how the shared subscription spread the events. */
  perMember: number[];
  badSignature: number;
  duplicates: number;
  /** Arrived before an earlier seq of its stream (order restored by the cursor). */
  arrivedAhead: number;
  replaysAsked: number;
  acksSent: number;
  /** Streams that began a new epoch (a locker's database was replaced) and restarted at seq 1. */
  newEpochs: number;
  streams: BackendStreamReport[];
}

export class CarrierBackend {
  private readonly members: MqttClient[] = [];
  private readonly perMember: number[] = [];
  private readonly keys = new Map<string, KeyObject[]>();
  private readonly cursors = new Map<string, StreamCursor>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private received = 0;
  private badSignature = 0;
  private duplicates = 0;
  private arrivedAhead = 0;
  private acksSent = 0;
  private newEpochs = 0;
  private readonly gapTimeoutMs: number;
  private readonly ackEvery: number;
  private readonly ackIdleMs: number;

  constructor(private readonly o: CarrierBackendOptions) {
    // Keys are turned into KeyObjects once: verifying with a JWK would convert it per message.
    for (const [locker, jwk] of Object.entries(o.lockerKeys)) this.keys.set(locker, [createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' })]);
    this.gapTimeoutMs = o.gapTimeoutMs ?? 2_000;
    this.ackEvery = o.ackEvery ?? 100;
    this.ackIdleMs = o.ackIdleMs ?? 5_000;
  }

  get carrierId(): string {
    return this.o.carrier;
  }

  get sharedFilter(): string {
    return `$share/${this.o.group}/lk/v1/c/${this.o.carrier}/l/+/evt`;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.o.members; i++) {
      this.perMember.push(0);
      const client = connect(this.o.url, {
        protocolVersion: 5,
        clientId: `${this.o.carrier}:backend-${i}-${process.pid}`,
        username: this.o.carrier,
        ...(this.o.password !== undefined ? { password: this.o.password } : {}),
        clean: true,
        reconnectPeriod: 1_000,
        keepalive: 30,
      });
      this.members.push(client);
      client.on('message', (topic, payload) => this.onMessage(i, topic, payload));
      client.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      const granted = await client.subscribeAsync(this.sharedFilter, { qos: 1 });
      if (granted.some((g) => g.qos !== 1)) throw new Error(`the broker refused ${this.sharedFilter} for ${this.o.carrier}: ${JSON.stringify(granted)}`);
    }
    this.sweepTimer = setInterval(() => this.sweep(), 250);
  }

  private cursor(locker: string): StreamCursor {
    let c = this.cursors.get(locker);
    if (!c) {
      c = { locker, epoch: undefined, retired: new Set(), expected: 1, ahead: new Map(), deliveredAt: [], verifiedAt: [], ackedUpTo: 0, lastDeliveryAt: 0, gapSince: null, replaysAsked: 0 };
      this.cursors.set(locker, c);
    }
    return c;
  }

  private onMessage(member: number, topic: string, payload: Buffer): void {
    this.received += 1;
    this.perMember[member] = (this.perMember[member] ?? 0) + 1;
    const parsed = parseTopic(topic);
    if (!parsed || parsed.leaf !== 'evt' || parsed.tenant.kind !== 'carrier' || parsed.tenant.carrier !== this.o.carrier) return;
    const keys = this.keys.get(parsed.locker);
    const verdict = keys ? verifyEnvelope(payload, keys, parsed.locker) : { ok: false as const, reason: 'locker not enrolled' };
    if (!verdict.ok || verdict.envelope.carrier !== this.o.carrier) {
      this.badSignature += 1;
      return;
    }
    const now = this.o.stamp();
    const c = this.cursor(parsed.locker);
    const epoch = verdict.envelope.epoch;
    // Dedupe by (locker, carrier, epoch, seq): a new epoch restarts the stream at seq 1.
    if (epoch !== undefined && epoch !== c.epoch) {
      if (c.retired.has(epoch)) {
        this.duplicates += 1;
        return;
      }
      if (c.epoch !== undefined) {
        c.retired.add(c.epoch);
        this.newEpochs += 1;
        Object.assign(c, { expected: 1, ahead: new Map(), deliveredAt: [], verifiedAt: [], ackedUpTo: 0, gapSince: null });
      }
      c.epoch = epoch;
    }
    const seq = verdict.envelope.seq;
    if (seq < c.expected || c.ahead.has(seq)) {
      this.duplicates += 1;
      return;
    }
    if (seq > c.expected) {
      this.arrivedAhead += 1;
      c.ahead.set(seq, { seq, verifiedAt: now });
      c.gapSince ??= now;
      return;
    }
    this.deliver(c, seq, now, now);
    for (let next = c.ahead.get(c.expected); next; next = c.ahead.get(c.expected)) {
      c.ahead.delete(next.seq);
      this.deliver(c, next.seq, next.verifiedAt, now);
    }
    c.gapSince = c.ahead.size > 0 ? now : null;
    if (c.expected - 1 - c.ackedUpTo >= this.ackEvery) this.ack(c);
  }

  /** Hands one event to the application: here, record when it became available in order. */
  private deliver(c: StreamCursor, seq: number, verifiedAt: number, now: number): void {
    c.deliveredAt[seq - 1] = now;
    c.verifiedAt[seq - 1] = verifiedAt;
    c.expected = seq + 1;
    c.lastDeliveryAt = now;
  }

  private control(locker: string, message: Record<string, number | string>): void {
    const client = this.members[0];
    if (!client?.connected) return;
    client.publish(topicFor(carrierTenant(this.o.carrier), locker, 'ack'), JSON.stringify(message), { qos: 1 });
  }

  private ack(c: StreamCursor): void {
    const upTo = c.expected - 1;
    if (upTo <= c.ackedUpTo) return;
    c.ackedUpTo = upTo;
    this.acksSent += 1;
    this.control(c.locker, { upTo, ...(c.epoch !== undefined ? { epoch: c.epoch } : {}) });
  }

  private sweep(): void {
    const now = this.o.stamp();
    for (const c of this.cursors.values()) {
      if (c.gapSince !== null && now - c.gapSince >= this.gapTimeoutMs) {
        c.replaysAsked += 1;
        c.gapSince = now;
        this.control(c.locker, { replayFrom: c.expected, ...(c.epoch !== undefined ? { epoch: c.epoch } : {}) });
      }
      if (c.expected - 1 > c.ackedUpTo && now - c.lastDeliveryAt >= this.ackIdleMs) this.ack(c);
    }
  }

  /** Events delivered in order per locker stream. */
  deliveredUpTo(locker: string): number {
    return (this.cursors.get(locker)?.expected ?? 1) - 1;
  }

  report(): BackendReport {
    let replaysAsked = 0;
    const streams: BackendStreamReport[] = [];
    for (const c of this.cursors.values()) {
      replaysAsked += c.replaysAsked;
      streams.push({ locker: c.locker, carrier: this.o.carrier, delivered: c.expected - 1, deliveredAt: c.deliveredAt, verifiedAt: c.verifiedAt, waiting: c.ahead.size });
    }
    return {
      carrier: this.o.carrier,
      members: this.o.members,
      received: this.received,
      perMember: [...this.perMember],
      badSignature: this.badSignature,
      duplicates: this.duplicates,
      arrivedAhead: this.arrivedAhead,
      replaysAsked,
      acksSent: this.acksSent,
      newEpochs: this.newEpochs,
      streams,
    };
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await Promise.all(this.members.map((m) => m.endAsync()));
  }
}
