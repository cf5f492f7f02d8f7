// The locker's MQTT connection (DESIGN.md section 7). Owns: connecting with our own
// backoff-with-jitter loop (MQTT.js reconnect disabled, a fresh client per attempt, so no
// in-memory queue of an old connection survives), the retained presence birth and last will,
// subscriptions to this locker's cmd and ack topics, routing acks to the StreamPublisher and
// commands to the command handler, and publishing replies and the reported configuration.
// The outbox is the queue: nothing is published while disconnected.
import { readFileSync } from 'node:fs';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../../kernel/clock.js';
import { type FailurePolicy, reportingPolicy } from '../../kernel/failurePolicy.js';
import type { MqttConfig } from '../config/schema.js';
import { streamOf } from '../store/outbox.js';
import type { Logger } from '../logger.js';
import type { RandomSource } from '../../kernel/random.js';
import { Backoff } from '../../kernel/backoff.js';
import { randomFraction } from '../../kernel/random.js';
import type { ReplayOutcome, SyncControl } from './commandHandlers.js';
import type { CommandReply } from './commandReply.js';
import { signDocument, type DocumentSigner } from './detachedSignature.js';
import type { ReportedConfig } from '../domain/lockerOperations.js';
import type { StreamPublisher, PublisherHealth } from './streamPublisher.js';
import { lockerSubscriptions, operatorTenant, parseTopic, topicFor, type Tenant } from './topics.js';

/**
 * A consumer's acknowledgement on .../ack: {upTo}, {replayFrom}, or both; with `epoch`, only for
 * that stream epoch (an ack of the epoch before a restore must not acknowledge the new seqs).
 */
export const AckMessage = z
  .object({ upTo: z.number().int().min(0).optional(), replayFrom: z.number().int().min(1).optional(), epoch: z.string().min(1).max(64).optional() })
  .refine((a) => a.upTo !== undefined || a.replayFrom !== undefined, 'upTo or replayFrom is required');
export type AckMessage = z.infer<typeof AckMessage>;

const MAX_ACK_BYTES = 1024;
/**
 * The largest MQTT packet the locker takes (MQTT 5 Maximum Packet Size in CONNECT: the broker
 * does not deliver larger ones). MQTT.js buffers a whole packet before it emits it, so this is
 * what one incoming message may cost; equal to the shipped brokers' message_size_limit (256 KiB)
 * plus room for the topic and properties. Commands above COMMAND_LIMITS.maxPayloadBytes (64 KiB)
 * but below this still get their coded PAYLOAD_TOO_LARGE reply. Over MQTT 3.1.1 the broker's
 * own limit is the only bound (docs/operations.md).
 */
export const MAX_INCOMING_PACKET_BYTES = 256 * 1024 + 1024;
/** How long a reply or presence publish may wait for its PUBACK before it is given up. */
const PUBLISH_WAIT_MS = 10_000;

export type CommandHandlerFn = (topic: string, payload: Buffer) => Promise<CommandReply | null>;

export interface SyncClientOptions {
  config: MqttConfig;
  lockerId: string;
  bootId: string;
  signer: DocumentSigner;
  /** Drains the outbox; built by the caller over store/outbox.ts (see startSync). */
  publisher: StreamPublisher;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** The configuration in force, republished retained on .../cfg at every connect. */
  reportedConfig?: () => ReportedConfig | null;
  /** Replaces mqtt.connect, e.g. to count connections in tests. */
  connect?: (url: string, options: IClientOptions) => MqttClient;
  /** Safety poll of the outbox in case a notify() was missed. */
  pollMs?: number;
  /**
   * Where a failure of a connection handler, the poll or a wake-up goes (default: logged). The
   * MQTT client's event handlers run outside any caller: a throw there would end the process.
   */
  failures?: FailurePolicy;
}

export interface SyncHealth {
  connected: boolean;
  connectedSince: number | null;
  connects: number;
  lastError: string | null;
  nextAttemptInMs: number | null;
  publisher: PublisherHealth;
}

export class SyncClient implements SyncControl {
  private readonly log: Logger;
  private readonly backoff: Backoff;
  readonly publisher: StreamPublisher;
  private client: MqttClient | undefined;
  private generation = 0;
  private running = false;
  private connected = false;
  private connectedSince: number | null = null;
  private connects = 0;
  private lastError: string | null = null;
  private retryTimer: TimerHandle | undefined;
  /** Monotonic time of the next connection attempt (for status). */
  private retryAt: number | null = null;
  private pollTimer: TimerHandle | undefined;
  private commandHandler: CommandHandlerFn | undefined;
  private readonly stateTopic: string;
  private readonly cfgTopic: string;
  private readonly failures: FailurePolicy;

  constructor(private readonly o: SyncClientOptions) {
    this.log = o.logger.child({ channel: 'sync' });
    this.failures = o.failures ?? reportingPolicy((path, err) => this.log.error({ path, err }, 'background path failed'));
    this.backoff = new Backoff({ baseMs: o.config.reconnectMinMs, maxMs: o.config.reconnectMaxMs, fraction: () => randomFraction(o.random) });
    this.publisher = o.publisher;
    this.stateTopic = topicFor(operatorTenant, o.lockerId, 'state');
    this.cfgTopic = topicFor(operatorTenant, o.lockerId, 'cfg');
  }

  /** Where verified commands go; the reply it returns is published on the matching res topic. */
  setCommandHandler(handler: CommandHandlerFn): void {
    this.commandHandler = handler;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.pollTimer = this.o.clock.setInterval(() => this.notify(), this.o.pollMs ?? 1_000);
    this.attempt();
  }

  /** Disconnects cleanly: the broker then publishes nothing (no will), so say offline first. */
  async stop(): Promise<void> {
    this.running = false;
    this.pollTimer?.cancel();
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    this.generation++;
    this.publisher.close();
    this.connected = false;
    if (!client) return;
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const timer = this.o.clock.setTimeout(resolve, 1_000);
        client.publish(this.stateTopic, this.presence(false), { qos: 1, retain: true }, () => {
          timer.cancel();
          resolve();
        });
      });
    }
    await new Promise<void>((resolve) => {
      const timer = this.o.clock.setTimeout(() => {
        client.end(true);
        resolve();
      }, 2_000);
      client.end(false, {}, () => {
        timer.cancel();
        resolve();
      });
    });
    client.removeAllListeners();
    client.on('error', () => undefined);
  }

  /** Rows were appended: publish them (coalesced by the publisher). */
  notify(): void {
    this.publisher.notifySoon();
  }

  health(): SyncHealth {
    return {
      connected: this.connected,
      connectedSince: this.connectedSince,
      connects: this.connects,
      lastError: this.lastError,
      nextAttemptInMs: this.retryAt === null ? null : Math.max(0, this.retryAt - this.o.clock.monotonic()),
      publisher: this.publisher.health(),
    };
  }

  // ---- SyncControl (used by commands) ----

  async rebirth(): Promise<void> {
    await this.publishNow(this.stateTopic, this.presence(true), true);
    const report = this.o.reportedConfig?.();
    if (report) await this.reportConfig(report);
  }

  replay(carrier: string | null, fromSeq: number): ReplayOutcome {
    return this.publisher.replay(streamOf(carrier), fromSeq);
  }

  async reportConfig(report: ReportedConfig): Promise<void> {
    if (report.desired.sync) this.publisher.configure(report.desired.sync);
    const doc = signDocument({ v: 1 as const, locker: this.o.lockerId, bootId: this.o.bootId, reported: report }, this.o.signer);
    await this.publishNow(this.cfgTopic, Buffer.from(JSON.stringify(doc)), true);
  }

  // ---- connection ----

  private attempt(): void {
    if (!this.running) return;
    this.retryAt = null;
    const generation = ++this.generation;
    const c = this.o.config;
    const options: IClientOptions = {
      protocolVersion: c.protocolVersion,
      // The principal is the client id (the shipped broker configs enforce it: issue 7, 11),
      // so the session is the same whether or not the broker rewrites the id.
      clientId: c.clientId ?? c.username ?? this.o.lockerId,
      keepalive: c.keepaliveS,
      // A persistent session lets the broker hold commands sent while the locker was away.
      clean: false,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
      queueQoSZero: false,
      // The default keeps 65,536 small Buffers (about 6 MiB of heap) for the life of the process.
      writeCache: false,
      resubscribe: false,
      will: {
        topic: this.stateTopic,
        payload: this.presence(false),
        qos: 1,
        retain: true,
        // MQTT 5: a locker that is back within seconds (same session) is never reported offline.
        ...(c.protocolVersion === 5 ? { properties: { willDelayInterval: 5 } } : {}),
      },
      ...(c.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 7 * 24 * 3600, maximumPacketSize: MAX_INCOMING_PACKET_BYTES } } : {}),
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.tls ? this.tlsOptions(c.tls) : {}),
    };
    let client: MqttClient;
    try {
      client = (this.o.connect ?? mqttConnect)(c.url, options);
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.error({ err: e }, 'cannot create the MQTT client');
      this.scheduleRetry();
      return;
    }
    this.client = client;
    client.on('connect', () => {
      if (generation === this.generation) this.failures.run('sync.connect', () => this.onConnect(client));
    });
    client.on('message', (topic, payload) => {
      if (generation === this.generation) this.failures.run('sync.message', () => this.onMessage(topic, payload));
    });
    client.on('error', (err) => {
      if (generation !== this.generation) return;
      this.lastError = err.message;
      this.log.warn({ err: err.message }, 'MQTT error');
    });
    client.on('close', () => {
      if (generation === this.generation) this.failures.run('sync.close', () => this.onClose(client));
    });
  }

  private tlsOptions(tls: NonNullable<MqttConfig['tls']>): Partial<IClientOptions> {
    // Config holds file paths; reading them per attempt picks up renewed certificates.
    return {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca !== undefined ? { ca: readFileSync(tls.ca) } : {}),
      ...(tls.cert !== undefined ? { cert: readFileSync(tls.cert) } : {}),
      ...(tls.key !== undefined ? { key: readFileSync(tls.key) } : {}),
    };
  }

  private onConnect(client: MqttClient): void {
    this.connected = true;
    this.connects++;
    this.connectedSince = this.o.clock.now();
    this.backoff.reset();
    this.log.info({ url: this.o.config.url, connects: this.connects }, 'connected to the broker');
    client.subscribe(
      lockerSubscriptions(this.o.lockerId),
      { qos: 1 },
      (err, granted) => {
        if (err) this.log.error({ err: err.message }, 'subscribe failed');
        for (const g of granted ?? []) if (g.qos === 128) this.log.error({ topic: g.topic }, 'the broker refused a subscription: check its ACL');
      },
    );
    client.publish(this.stateTopic, this.presence(true), { qos: 1, retain: true });
    const report = this.o.reportedConfig?.();
    if (report) void this.reportConfig(report).catch((e: unknown) => this.log.warn({ err: e }, 'cannot publish the reported config'));
    this.publisher.attach({
      publish: (topic, payload, done) => {
        client.publish(topic, payload, { qos: 1 }, (err) => done(err ?? undefined));
      },
    });
  }

  private onClose(client: MqttClient): void {
    if (this.connected) this.log.warn({ lastError: this.lastError }, 'disconnected from the broker');
    this.connected = false;
    this.connectedSince = null;
    this.publisher.detach();
    this.generation++;
    client.removeAllListeners();
    // Keep an error listener: a late socket error on a dropped client must not crash the process.
    client.on('error', () => undefined);
    client.end(true);
    if (this.client === client) this.client = undefined;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    const delay = this.backoff.next();
    this.retryAt = this.o.clock.monotonic() + delay;
    this.log.debug({ delay }, 'reconnecting after backoff');
    this.retryTimer = this.o.clock.setTimeout(() => {
      this.retryTimer = undefined;
      this.attempt();
    }, delay);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.locker !== this.o.lockerId) return;
    // Commands are size-checked (and answered) by the command handler; an ack is a few bytes.
    if (parsed.leaf === 'ack' && payload.length <= MAX_ACK_BYTES) this.onAck(parsed.tenant, payload);
    else if (parsed.leaf === 'cmd') this.onCommand(topic, parsed.tenant, payload);
  }

  private onAck(tenant: Tenant, payload: Buffer): void {
    let msg: AckMessage;
    try {
      const r = AckMessage.safeParse(JSON.parse(payload.toString('utf8')));
      if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'invalid');
      msg = r.data;
    } catch (e) {
      // JSON.parse quotes the input in its message: log the payload's size and the kind of fault only.
      this.log.warn({ tenant, bytes: payload.length, reason: e instanceof SyntaxError ? 'not JSON' : (e as Error).message }, 'unreadable ack ignored');
      return;
    }
    // The topic decides the stream: a carrier can only ever acknowledge its own.
    const stream = streamOf(tenant.kind === 'carrier' ? tenant.carrier : null);
    if (msg.epoch !== undefined && msg.epoch !== this.publisher.epoch) {
      this.log.info({ stream, epoch: msg.epoch }, 'ack of another stream epoch ignored');
      return;
    }
    if (msg.upTo !== undefined) this.publisher.ack(stream, msg.upTo);
    if (msg.replayFrom !== undefined) this.publisher.replay(stream, msg.replayFrom);
  }

  private onCommand(topic: string, tenant: Tenant, payload: Buffer): void {
    const handler = this.commandHandler;
    if (!handler) {
      this.log.warn({ topic }, 'command received before a handler was set; ignored');
      return;
    }
    const resTopic = topicFor(tenant, this.o.lockerId, 'res');
    handler(topic, payload)
      .then((reply) => {
        if (reply) return this.publishNow(resTopic, Buffer.from(JSON.stringify(signDocument(reply, this.o.signer))), false);
        return undefined;
      })
      .catch((e: unknown) => this.log.error({ err: e, topic }, 'command handling failed'));
  }

  /** Publishes now if connected; otherwise drops it (replies are re-requested by retrying the command). */
  private publishNow(topic: string, payload: Buffer, retain: boolean): Promise<void> {
    const client = this.client;
    if (!client || !this.connected) return Promise.resolve();
    return new Promise((resolve) => {
      // A connection that drops before the PUBACK may never call back; do not hang on it.
      const timer = this.o.clock.setTimeout(resolve, PUBLISH_WAIT_MS);
      client.publish(topic, payload, { qos: 1, retain }, (err) => {
        if (err) this.log.warn({ topic, err: err.message }, 'publish failed');
        timer.cancel();
        resolve();
      });
    });
  }

  private presence(online: boolean): Buffer {
    return Buffer.from(JSON.stringify({ online, bootId: this.o.bootId }));
  }
}
