// lockerctl's MQTT connection: one client for the duration of a command, with the broker
// credentials of the principal acting (a carrier, the operator). MQTT.js reconnects by itself
// here: lockerctl is a short-lived tool, its state is the consumer's seq cursor, not a queue.
import { readFileSync } from 'node:fs';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { LockerError } from '../../../kernel/errors.js';
import { cryptoRandom, type RandomSource } from '../../../kernel/random.js';

export interface MqttSessionOptions {
  url: string;
  username?: string;
  password?: string;
  protocolVersion?: 4 | 5;
  clientId?: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Keep the broker-side session (queued events) across runs of `watch`. */
  persistentSession?: boolean;
  connectTimeoutMs?: number;
  /** For the default client id's suffix. */
  random?: RandomSource;
}

/**
 * A client id that belongs to the principal: "<username>:lockerctl-..." (the embedded broker
 * refuses ids of other principals; the shipped Mosquitto replaces any id by the username).
 * A persistent session needs the same id every run.
 */
export function defaultClientId(o: MqttSessionOptions): string | undefined {
  if (o.clientId !== undefined) return o.clientId;
  if (o.username === undefined) return undefined;
  if (o.persistentSession) return `${o.username}:lockerctl-watch`;
  return `${o.username}:lockerctl-${Buffer.from((o.random ?? cryptoRandom()).bytes(6)).toString('hex')}`;
}

export async function openMqttSession(o: MqttSessionOptions): Promise<MqttClient> {
  const clientId = defaultClientId(o);
  const options: IClientOptions = {
    protocolVersion: o.protocolVersion ?? 4,
    clean: !o.persistentSession,
    reconnectPeriod: 1_000,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
    queueQoSZero: false,
    ...(clientId !== undefined ? { clientId } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.ca !== undefined ? { ca: readFileSync(o.ca) } : {}),
    ...(o.cert !== undefined ? { cert: readFileSync(o.cert) } : {}),
    ...(o.key !== undefined ? { key: readFileSync(o.key) } : {}),
    ...(o.persistentSession && o.protocolVersion === 5 ? { properties: { sessionExpiryInterval: 24 * 3600 } } : {}),
  };
  try {
    return await connectAsync(o.url, options);
  } catch (e) {
    throw new LockerError('TRANSPORT_ERROR', `cannot connect to ${o.url}: ${(e as Error).message}`, { url: o.url }, { cause: e });
  }
}

export async function closeMqttSession(client: MqttClient): Promise<void> {
  await client.endAsync().catch(() => client.end(true));
}
