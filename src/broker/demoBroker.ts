// The demo's broker for `lockerd start --sim`: the embedded broker with a password per
// principal (the locker, the operator, each carrier), kept in the data folder, and the locker's
// MQTT settings pointed at it. Returns the lines to print at start, so the demo's tools
// (lockerctl, mosquitto_sub) can log in as any principal.
import { join } from 'node:path';
import type { LockerConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { RandomSource } from '../../kernel/random.js';
import { DEMO_BROKER_CREDENTIALS_FILE, loadOrCreateBrokerCredentials } from './demoBrokerCredentials.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embeddedBroker.js';
import { lockerAclRules } from './topicAcl.js';

export interface DemoBroker {
  broker: EmbeddedBroker;
  /** The configuration with mqtt pointed at the broker, as the locker principal. */
  config: LockerConfig;
  /** Principals and passwords, for the start banner. */
  lines: string[];
}

export async function startDemoBroker(config: LockerConfig & { mqtt: NonNullable<LockerConfig['mqtt']> }, logger: Logger, random: RandomSource): Promise<DemoBroker> {
  const credentialsFile = join(config.dataDir, DEMO_BROKER_CREDENTIALS_FILE);
  const lockerId = config.locker.id;
  const principals = [...new Set([lockerId, config.operator.id, ...config.carriers.map((c) => c.id)])];
  const passwords = await loadOrCreateBrokerCredentials(credentialsFile, principals, random);
  const options = { logger: logger.child({ channel: 'broker' }), passwords, rules: lockerAclRules(config.operator.id) };
  const wanted = Number(new URL(config.mqtt.url).port || 1883);
  const broker = await startEmbeddedBroker({ ...options, port: wanted }).catch(() => startEmbeddedBroker({ ...options, port: 0 }));
  return {
    broker,
    // The client id is the principal, on the embedded broker as on the shipped Mosquitto.
    config: { ...config, mqtt: { ...config.mqtt, url: broker.url, username: lockerId, password: passwords[lockerId] ?? '', clientId: lockerId, protocolVersion: 4 } },
    lines: [
      `demo broker principals (username / password; kept in ${credentialsFile}):`,
      ...principals.map((p) => `  ${p} / ${passwords[p] ?? ''}${p === lockerId ? ' (this locker)' : ''}`),
    ],
  };
}
