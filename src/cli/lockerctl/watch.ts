// `lockerctl watch`: follows the event stream of a carrier (or the operator) across lockers,
// through EventConsumer (signatures, dedupe, gaps, acks), and prints one JSON line per event.
// Pickup codes in parcel.stored events are decrypted with the carrier's X25519 key when given.
import type { CryptoKey } from 'jose';
import type { MqttClient } from 'mqtt';
import type { Clock } from '../../../kernel/clock.js';
import { decryptCodeJwe } from '../../crypto/codeJwe.js';
import { catalogue, isEventType } from '../../domain/events.js';
import type { VerifyKey } from '../../sync/detachedSignature.js';
import type { EventEnvelope } from '../../sync/envelope.js';
import { eventSubscription, topicFor, type Tenant } from '../../sync/topics.js';
import { EventConsumer, type ConsumerStats } from './eventConsumer.js';

export interface WatchLine {
  locker: string;
  carrier: string | null;
  /** The stream epoch (a new one when the locker's database was replaced; seqs restart at 1). */
  epoch?: string;
  seq: number;
  id: string;
  type: string;
  ts: number;
  clockSynced: boolean;
  replay?: true;
  data: Record<string, unknown>;
  /** The decrypted pickup code of a parcel.stored event (only with the carrier's key). */
  code?: string;
  /** The decrypted pickup QR token ("LK2:..."): show it as a QR code; it opens the door without the keypad budget. */
  pickupToken?: string;
  codeError?: string;
  /** The data does not match the event catalogue's schema for its type (docs/events.schema.json). */
  dataError?: string;
}

export interface WatchOptions {
  client: MqttClient;
  clock: Clock;
  tenant: Tenant;
  /** One locker id, or undefined for every locker of the tenant. */
  locker?: string;
  /** The locker's keys; a promise when they are read on first use (see EventConsumer). */
  lockerKeys: (locker: string) => readonly VerifyKey[] | undefined | Promise<readonly VerifyKey[] | undefined>;
  /** The carrier's X25519 private key, to reveal codes. */
  decryptKey?: CryptoKey;
  startAt?: Readonly<Record<string, number>>;
  /** The epochs of the startAt cursors (the state file keeps both). */
  startEpochs?: Readonly<Record<string, string>>;
  defaultStart?: number;
  output: (line: WatchLine) => void;
  warn?: (message: string) => void;
  replayRetryMs?: number;
}

export interface WatchHandle {
  consumer: EventConsumer;
  stats(): ConsumerStats;
  /** Acknowledges what was delivered and stops listening (the client stays open). */
  stop(): Promise<void>;
}

/**
 * Checks an event's data against the catalogue (src/domain/events.ts); undefined when it fits.
 * A type this lockerctl does not know yet is passed through unchecked (a newer locker).
 */
export function dataErrorOf(type: string, data: unknown): string | undefined {
  if (!isEventType(type)) return undefined;
  const r = catalogue[type].data.safeParse(data);
  return r.success ? undefined : r.error.issues.map((i) => `${i.path.join('.') || 'data'}: ${i.message}`).join('; ');
}

/** Finds the encrypted code of an event: data.codeJwe (see docs/protocol.md). */
function codeJweOf(data: Record<string, unknown>): string | undefined {
  return typeof data.codeJwe === 'string' ? data.codeJwe : undefined;
}

export async function startWatch(o: WatchOptions): Promise<WatchHandle> {
  const publishAck = (locker: string, msg: object): void => {
    o.client.publish(topicFor(o.tenant, locker, 'ack'), JSON.stringify(msg), { qos: 1 });
  };
  const consumer = new EventConsumer({
    clock: o.clock,
    lockerKeys: o.lockerKeys,
    sendAck: publishAck,
    startAt: o.startAt ?? {},
    ...(o.startEpochs ? { startEpochs: o.startEpochs } : {}),
    onEpoch: (locker, previous, next) =>
      o.warn?.(JSON.stringify({ newEpoch: { locker, previous, epoch: next, note: "the locker's database was replaced (restore, re-initialisation or lost WAL): its stream restarts at seq 1" } })),
    ...(o.defaultStart !== undefined ? { defaultStart: o.defaultStart } : {}),
    ...(o.replayRetryMs !== undefined ? { replayRetryMs: o.replayRetryMs } : {}),
    reject: (reason, topic) => o.warn?.(`refused event on ${topic}: ${reason}`),
    deliver: async (env: EventEnvelope) => {
      const line: WatchLine = {
        locker: env.locker,
        carrier: env.carrier,
        ...(env.epoch !== undefined ? { epoch: env.epoch } : {}),
        seq: env.seq,
        id: env.id,
        type: env.type,
        ts: env.ts,
        clockSynced: env.clockSynced,
        ...(env.replay ? { replay: true as const } : {}),
        data: env.data,
      };
      const dataError = dataErrorOf(env.type, env.data);
      if (dataError) line.dataError = dataError;
      const jwe = codeJweOf(env.data);
      if (jwe !== undefined && o.decryptKey) {
        try {
          const payload = await decryptCodeJwe(jwe, o.decryptKey);
          if (payload.code !== undefined) line.code = payload.code;
          if (payload.pickupToken !== undefined) line.pickupToken = payload.pickupToken;
        } catch (e) {
          line.codeError = (e as Error).message;
        }
      }
      o.output(line);
    },
  });
  const topic = eventSubscription(o.tenant, o.locker ?? '+');
  const onMessage = (t: string, payload: Buffer): void => {
    if (t.endsWith('/evt')) void consumer.receive(t, payload);
  };
  const onConnect = (): void => {
    // A broker restart loses subscriptions of clean sessions and may lose the stream's tail.
    o.client.subscribe(topic, { qos: 1 }, () => consumer.resume());
  };
  o.client.on('message', onMessage);
  o.client.on('connect', onConnect);
  await o.client.subscribeAsync(topic, { qos: 1 });
  consumer.resume();
  return {
    consumer,
    stats: () => ({ ...consumer.stats }),
    stop: async () => {
      o.client.off('message', onMessage);
      o.client.off('connect', onConnect);
      await consumer.idle();
      consumer.flushAcks();
      consumer.close();
    },
  };
}
