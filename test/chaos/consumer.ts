// The consumer that stays subscribed across every cycle of a chaos run. lockerd on the
// simulator brings its own broker (the demo's embedded broker, on the configured port), so the
// broker goes down with every power cut and comes back on the same URL: the consumer is what a
// carrier back end is, one MQTT client per principal (each carrier, the operator) with the
// demo broker's credentials, that dedupes by (locker, carrier, seq) and asks {replayFrom} for
// the first seq it misses on every (re)connect and whenever it sees a gap. Extra envelope
// fields (an epoch added by a later version) are tolerated; the id of each row is kept, so a
// seq reused for another event shows up as a conflict.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { z } from 'zod';

const Envelope = z.looseObject({
  id: z.string(),
  locker: z.string(),
  carrier: z.string().nullable(),
  seq: z.number().int(),
  type: z.string(),
});

export interface Received {
  id: string;
  type: string;
  /** Other ids seen for the same key (a reused seq shows up here). */
  conflicts: string[];
}

interface StreamClient {
  client: MqttClient;
  stream: string;
  ackTopic: string;
}

export class ChaosConsumer {
  /** key `${locker}|${stream}|${seq}[|epoch]` -> what was received. */
  readonly rows = new Map<string, Received>();
  readonly stats = { messages: 0, duplicates: 0, malformed: 0, connects: 0, replayRequests: 0 };
  private readonly clients: StreamClient[] = [];
  /** The same rows by (locker, stream, seq) whatever their epoch, and each stream's highest seq. */
  private readonly byBase = new Map<string, Received>();
  private readonly top = new Map<string, number>();
  private readonly cursor = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  /**
   * principals: stream name -> broker principal (c/<carrier> -> carrier id, op -> operator id);
   * passwords from <dataDir>/demo-broker-credentials.json once lockerd made it.
   */
  constructor(
    private readonly url: string,
    private readonly locker: string,
    private readonly dataDir: string,
    private readonly principals: Record<string, string>,
  ) {
    this.timer = setInterval(() => this.askAll(false), 500);
  }

  /** Connects, once lockerd's first start made the demo broker's credentials; idempotent. */
  start(): void {
    if (this.clients.length) return;
    for (const [stream, principal] of Object.entries(this.principals)) this.clients.push(this.open(stream, principal));
  }

  private password(principal: string): string {
    try {
      const raw = JSON.parse(readFileSync(join(this.dataDir, 'demo-broker-credentials.json'), 'utf8')) as unknown;
      const parsed = z.record(z.string(), z.unknown()).parse(raw);
      const direct = parsed[principal];
      if (typeof direct === 'string') return direct;
      const nested = z.object({ passwords: z.record(z.string(), z.string()) }).safeParse(raw);
      return nested.success ? (nested.data.passwords[principal] ?? '') : '';
    } catch {
      return '';
    }
  }

  private open(stream: string, principal: string): StreamClient {
    const base = stream === 'op' ? `lk/v1/op/l/${this.locker}` : `lk/v1/${stream}/l/${this.locker}`;
    const client = connect(this.url, { username: principal, password: this.password(principal), clientId: `${principal}:chaos`, clean: true, reconnectPeriod: 100, connectTimeout: 2_000, protocolVersion: 4 });
    const sc: StreamClient = { client, stream, ackTopic: `${base}/ack` };
    client.on('connect', () => {
      this.stats.connects++;
      client.subscribe(`${base}/evt`, { qos: 1 }, () => this.ask(sc));
    });
    client.on('message', (_topic, payload) => this.receive(payload));
    client.on('error', () => undefined);
    return sc;
  }

  static key(locker: string, stream: string, seq: number): string {
    return `${locker}|${stream}|${seq}`;
  }

  /** The first seq of the stream not received yet. */
  nextMissing(stream: string): number {
    let s = this.cursor.get(stream) ?? 1;
    while (this.byBase.has(ChaosConsumer.key(this.locker, stream, s))) s++;
    this.cursor.set(stream, s);
    return s;
  }

  private highest(stream: string): number {
    return this.top.get(stream) ?? 0;
  }

  private ask(sc: StreamClient): void {
    if (!sc.client.connected) return;
    this.stats.replayRequests++;
    sc.client.publish(sc.ackTopic, JSON.stringify({ replayFrom: this.nextMissing(sc.stream) }), { qos: 1 });
  }

  /** Asks every stream for what it misses (all: also where no gap is visible yet). */
  askAll(all: boolean): void {
    for (const sc of this.clients) if (all || this.highest(sc.stream) >= this.nextMissing(sc.stream)) this.ask(sc);
  }

  private receive(payload: Buffer): void {
    this.stats.messages++;
    let parsed: z.infer<typeof Envelope>;
    try {
      parsed = Envelope.parse(JSON.parse(payload.toString('utf8')));
    } catch {
      this.stats.malformed++;
      return;
    }
    const stream = parsed.carrier === null ? 'op' : `c/${parsed.carrier}`;
    const epoch = (parsed as Record<string, unknown>).epoch;
    const key = ChaosConsumer.key(parsed.locker, stream, parsed.seq) + (epoch === undefined ? '' : `|${String(epoch)}`);
    const had = this.rows.get(key);
    if (!had) {
      const row = { id: parsed.id, type: parsed.type, conflicts: [] };
      this.rows.set(key, row);
      const base = ChaosConsumer.key(parsed.locker, stream, parsed.seq);
      if (!this.byBase.has(base)) this.byBase.set(base, row);
      if (parsed.locker === this.locker) this.top.set(stream, Math.max(this.top.get(stream) ?? 0, parsed.seq));
    }
    else if (had.id === parsed.id) this.stats.duplicates++;
    else if (!had.conflicts.includes(parsed.id)) had.conflicts.push(parsed.id);
  }

  /** Looks a row up whatever its epoch. */
  find(locker: string, stream: string, seq: number): Received | undefined {
    return this.byBase.get(ChaosConsumer.key(locker, stream, seq));
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.clients.map((c) => c.client.endAsync(true).catch(() => undefined)));
  }
}
