// Load limits in front of the command processor (issue 7, finding 12). A command topic belongs
// to one tenant (a carrier, or the operator), and the broker's ACL lets only that principal
// publish there, so limits are kept per tenant and checked before any signature is verified:
// one carrier flooding its own topic spends only its own budget.
//
//   rate        a token bucket per tenant; a copy of a command that is still queued or running
//               (a sender's retry) costs nothing and gets the one reply that will follow
//   queue       at most maxQueuedPerTenant commands wait per tenant, and at most maxQueued
//               commands of maxQueuedBytes in all (issue 10: 256 tenants x 16 x 64 KiB would
//               be 256 MiB of waiting payloads); beyond: refused
//   concurrency at most maxRunningPerTenant handlers run per tenant and maxRunning in all;
//               free slots go round-robin over the tenants, so a busy tenant cannot starve
//               another
//   quota       the replay store refuses a new record past its per-issuer quota
//               (ReplayQuotaExceeded), answered like a rate refusal
//   size        a payload over maxPayloadBytes is answered PAYLOAD_TOO_LARGE by the processor
//               unread, out of the same refusal budget (it never queues or takes a slot)
//
// A refusal is a signed reply with code CMD_RATE_LIMITED (context.reason: rate | queue |
// quota, retryAfterMs) on the sender's own res topic. Refusals are budgeted too: past
// refusalBurst (refilled at refusalsPerS) a flood is dropped unanswered and logged once per
// minute per tenant, so the locker never works harder to refuse than the flooder does to send.
import type { Clock } from '../../kernel/clock.js';
import { isLockerError } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';
import { tokenRef, type CommandReply } from './commandReply.js';
import { streamOf } from '../store/outbox.js';
import { parseTopic } from './topics.js';

export interface CommandLimits {
  /** Commands a tenant may send at once. */
  burst: number;
  /** Commands per second a tenant may send over time. */
  perSecond: number;
  maxQueuedPerTenant: number;
  /** Commands waiting over all tenants, and their payload bytes. */
  maxQueued: number;
  maxQueuedBytes: number;
  maxRunningPerTenant: number;
  maxRunning: number;
  /** Coded refusals a tenant may get at once, and per second over time; beyond, drops. */
  refusalBurst: number;
  refusalsPerS: number;
  /** Payloads above this are passed straight to the processor (which refuses them unread). */
  maxPayloadBytes: number;
}

export const COMMAND_LIMITS: CommandLimits = {
  burst: 30,
  perSecond: 1,
  maxQueuedPerTenant: 16,
  maxQueued: 64,
  maxQueuedBytes: 1024 * 1024,
  maxRunningPerTenant: 2,
  maxRunning: 4,
  refusalBurst: 10,
  refusalsPerS: 0.2,
  maxPayloadBytes: 64 * 1024,
};

export type CommandHandle = (topic: string, payload: Uint8Array) => Promise<CommandReply | null>;

export interface CommandDispatcherOptions {
  lockerId: string;
  handle: CommandHandle;
  clock: Clock;
  logger: Logger;
  limits?: Partial<CommandLimits>;
}

export interface DispatcherStats {
  admitted: number;
  refused: number;
  dropped: number;
  coalesced: number;
  running: number;
  queued: number;
  queuedBytes: number;
}

/** A token bucket on an injected clock. */
class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly capacity: number,
    private readonly perS: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is back. */
  waitMs(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 || this.perS <= 0) return 0;
    return Math.ceil(((1 - this.tokens) / this.perS) * 1000);
  }

  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }

  private refill(now: number): void {
    const dt = Math.max(0, now - this.at);
    this.at = now;
    this.tokens = Math.min(this.capacity, this.tokens + (dt / 1000) * this.perS);
  }
}

interface Job {
  topic: string;
  payload: Uint8Array;
  ref: string;
  resolve(reply: CommandReply | null): void;
}

interface TenantState {
  bucket: Bucket;
  refusals: Bucket;
  queue: Job[];
  running: number;
  /** Refs of commands queued or running. */
  inFlight: Set<string>;
  droppedSinceLog: number;
  lastDropLog: number | null;
}

const DROP_LOG_EVERY_MS = 60_000;
/** Tenants (carriers and the operator) tracked at once. */
const MAX_TENANTS = 256;

export class CommandDispatcher {
  private readonly limits: CommandLimits;
  private readonly log: Logger;
  private readonly tenants = new Map<string, TenantState>();
  /** Tenant keys in round-robin order. */
  private order: string[] = [];
  private next = 0;
  private running = 0;
  /** Commands waiting in all tenants' queues, and their payload bytes. */
  private queued = 0;
  private queuedBytes = 0;
  private readonly counts = { admitted: 0, refused: 0, dropped: 0, coalesced: 0 };
  private lastTenantCapLog: number | null = null;

  constructor(private readonly o: CommandDispatcherOptions) {
    this.limits = { ...COMMAND_LIMITS, ...o.limits };
    this.log = o.logger.child({ channel: 'commands' });
  }

  /** Takes one message from a cmd topic; resolves with the reply to publish, or null for none. */
  dispatch(topic: string, payload: Uint8Array): Promise<CommandReply | null> {
    const parsed = parseTopic(topic);
    // Foreign topics cost the processor nothing: it ignores them unread.
    if (!parsed || parsed.leaf !== 'cmd') return this.o.handle(topic, payload);
    // One bucket per tenant, keyed like the tenant's event stream.
    const key = streamOf(parsed.tenant.kind === 'operator' ? null : parsed.tenant.carrier);
    const t = this.tenant(key);
    if (!t) {
      // More active tenants than any fleet has: only a broker that ignores its ACL gets here.
      this.counts.dropped++;
      return Promise.resolve(null);
    }
    const now = this.o.clock.now();
    if (payload.byteLength > this.limits.maxPayloadBytes) {
      // The processor answers PAYLOAD_TOO_LARGE without reading it; that signed answer is a
      // refusal and spends the refusal budget like the others (a flood of big payloads got
      // one signed reply each: issue 10). Past the budget it is dropped unread.
      if (!this.spendRefusal(key, t, now, 'size')) return Promise.resolve(null);
      this.counts.refused++;
      return this.o.handle(topic, payload);
    }
    const ref = tokenRef(payload);
    if (t.inFlight.has(ref)) {
      // A retry of a command still waiting or running: its reply is on the way.
      this.counts.coalesced++;
      return Promise.resolve(null);
    }
    if (t.queue.length >= this.limits.maxQueuedPerTenant) return Promise.resolve(this.refuse(key, t, ref, 'queue', 1_000));
    if (this.queued >= this.limits.maxQueued || this.queuedBytes + payload.byteLength > this.limits.maxQueuedBytes) {
      return Promise.resolve(this.refuse(key, t, ref, 'queue', 1_000));
    }
    if (!t.bucket.take(now)) return Promise.resolve(this.refuse(key, t, ref, 'rate', t.bucket.waitMs(now)));
    this.counts.admitted++;
    t.inFlight.add(ref);
    return new Promise((resolve) => {
      t.queue.push({ topic, payload, ref, resolve });
      this.queued++;
      this.queuedBytes += payload.byteLength;
      this.pump();
    });
  }

  stats(): DispatcherStats {
    return { ...this.counts, running: this.running, queued: this.queued, queuedBytes: this.queuedBytes };
  }

  private tenant(key: string): TenantState | undefined {
    let t = this.tenants.get(key);
    if (!t) {
      const now = this.o.clock.now();
      // Idle tenants with full buckets are forgotten, so the map stays as small as the set of
      // tenants active now; past MAX_TENANTS active ones, new tenants are not served.
      if (this.tenants.size >= MAX_TENANTS) this.forgetIdle(now);
      if (this.tenants.size >= MAX_TENANTS) {
        if (this.lastTenantCapLog === null || now - this.lastTenantCapLog >= DROP_LOG_EVERY_MS) {
          this.log.warn({ tenants: this.tenants.size }, 'commands from too many tenants at once: dropped');
          this.lastTenantCapLog = now;
        }
        return undefined;
      }
      t = {
        bucket: new Bucket(this.limits.burst, this.limits.perSecond, now),
        refusals: new Bucket(this.limits.refusalBurst, this.limits.refusalsPerS, now),
        queue: [],
        running: 0,
        inFlight: new Set(),
        droppedSinceLog: 0,
        lastDropLog: null,
      };
      this.tenants.set(key, t);
      this.order.push(key);
    }
    return t;
  }

  private forgetIdle(now: number): void {
    for (const [key, t] of this.tenants) {
      if (t.running === 0 && t.queue.length === 0 && t.bucket.full(now) && t.refusals.full(now)) this.tenants.delete(key);
    }
    this.order = this.order.filter((k) => this.tenants.has(k));
    this.next = 0;
  }

  /** Starts queued jobs while slots are free, one tenant at a time in turn. */
  private pump(): void {
    while (this.running < this.limits.maxRunning) {
      const key = this.pickTenant();
      if (key === undefined) return;
      const t = this.tenants.get(key);
      const job = t?.queue.shift();
      if (!t || !job) return;
      this.queued--;
      this.queuedBytes -= job.payload.byteLength;
      this.run(key, t, job);
    }
  }

  private pickTenant(): string | undefined {
    const n = this.order.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.next + i) % n;
      const key = this.order[idx];
      if (key === undefined) continue;
      const t = this.tenants.get(key);
      if (t && t.queue.length > 0 && t.running < this.limits.maxRunningPerTenant) {
        // Taken modulo the length at the next pick: tenants may have joined by then.
        this.next = idx + 1;
        return key;
      }
    }
    return undefined;
  }

  private run(key: string, t: TenantState, job: Job): void {
    t.running++;
    this.running++;
    const done = (reply: CommandReply | null): void => {
      t.running--;
      this.running--;
      t.inFlight.delete(job.ref);
      job.resolve(reply);
      this.pump();
    };
    let started: Promise<CommandReply | null>;
    try {
      started = this.o.handle(job.topic, job.payload);
    } catch (e) {
      started = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    started.then(done, (e: unknown) => {
      if (isLockerError(e, 'CMD_RATE_LIMITED')) {
        // The replay store's per-issuer quota is full: the command did not run.
        done(this.refuse(key, t, job.ref, 'quota', 60_000));
        return;
      }
      this.log.error({ err: e, tenant: key }, 'command handling failed');
      done(null);
    });
  }

  /** Takes one refusal token of the tenant; false (counted, logged once a minute) when the budget is spent. */
  private spendRefusal(key: string, t: TenantState, now: number, reason: 'rate' | 'queue' | 'quota' | 'size'): boolean {
    if (t.refusals.take(now)) return true;
    this.counts.dropped++;
    t.droppedSinceLog++;
    if (t.lastDropLog === null || now - t.lastDropLog >= DROP_LOG_EVERY_MS) {
      this.log.warn({ tenant: key, reason, dropped: t.droppedSinceLog }, 'command flood: commands dropped without a reply');
      t.lastDropLog = now;
      t.droppedSinceLog = 0;
    }
    return false;
  }

  private refuse(key: string, t: TenantState, ref: string, reason: 'rate' | 'queue' | 'quota', retryAfterMs: number): CommandReply | null {
    const now = this.o.clock.now();
    if (!this.spendRefusal(key, t, now, reason)) return null;
    this.counts.refused++;
    const message =
      reason === 'rate'
        ? `too many commands from this tenant; at most ${this.limits.burst} at once and ${this.limits.perSecond} per second`
        : reason === 'queue'
          ? `too many commands waiting (at most ${this.limits.maxQueuedPerTenant} of this tenant, ${this.limits.maxQueued} in all)`
          : 'this issuer holds as many live commands as the locker keeps; wait for some to expire';
    return {
      v: 1,
      // The token was not read: the sender matches the reply by ref (the token's digest).
      id: null,
      ref,
      locker: this.o.lockerId,
      cmd: null,
      ok: false,
      error: { code: 'CMD_RATE_LIMITED', message, context: { reason, retryAfterMs: Math.max(0, Math.round(retryAfterMs)) } },
      ts: now,
    };
  }
}
