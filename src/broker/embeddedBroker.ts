// An MQTT broker inside the lockerd process for the one-machine demo (`npm start`): aedes on
// loopback, MQTT 3.1.1 only (aedes has no MQTT 5). Principals authenticate by username and
// password (a table is required: there is no "any password" mode) and get exactly the topic
// rules of the shipped Mosquitto ACL, so the demo behaves like a real deployment, refusals
// included. Like the shipped Mosquitto configuration, a client id belongs to its principal:
// it must be the username itself or start with "<username>:" (":" never occurs in an id), so
// no principal can take over another's session. Bounded: packet size (checked on the wire,
// before parsing), retained messages per principal (count, bytes) and in total.
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import type { Logger } from '../logger.js';
import { guardPacketSize } from './packetSizeGuard.js';
import { lockerAclRules, mayPublish, maySubscribe, type AclRule } from './topicAcl.js';

export interface BrokerLimits {
  /** Largest MQTT packet (remaining length) accepted; larger ones close the connection. */
  maxPacketBytes: number;
  /** Largest payload of a retained message. */
  maxRetainedMessageBytes: number;
  /** Retained topics one principal may hold. */
  maxRetainedPerPrincipal: number;
  /** Retained payload bytes one principal may hold. */
  maxRetainedBytesPerPrincipal: number;
  /** Retained payload bytes of the whole broker. */
  maxRetainedBytesTotal: number;
}

export const BROKER_LIMITS: BrokerLimits = {
  maxPacketBytes: 256 * 1024,
  maxRetainedMessageBytes: 64 * 1024,
  maxRetainedPerPrincipal: 64,
  maxRetainedBytesPerPrincipal: 512 * 1024,
  maxRetainedBytesTotal: 4 * 1024 * 1024,
};

/** True when clientId is one the principal may use: the principal itself or "<principal>:...". */
export function clientIdBelongsTo(principal: string, clientId: string): boolean {
  return clientId === principal || (clientId.startsWith(`${principal}:`) && clientId.length <= principal.length + 65);
}

export interface EmbeddedBrokerOptions {
  logger: Logger;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback by default: the demo broker is not meant to be reachable from the network. */
  host?: string;
  /** username -> password: the only principals that may connect. */
  passwords: Readonly<Record<string, string>>;
  /** Defaults to the shipped rules for operator "operator". */
  rules?: readonly AclRule[];
  limits?: Partial<BrokerLimits>;
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** mqtt://host:port, for MqttConfig.url. */
  readonly url: string;
  /** Retained messages held now: count and payload bytes. */
  retained(): { count: number; bytes: number };
  close(): Promise<void>;
}

/** Aedes reports a refused CONNECT through an error carrying an MQTT return code. */
function authError(message: string, returnCode: 2 | 4 | 5): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function passwordMatches(expected: string, given: Buffer | undefined): boolean {
  if (given === undefined) return false;
  // Digests first: timingSafeEqual needs equal lengths, and lengths must not leak either.
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const log = options.logger.child({ channel: 'broker' });
  const rules = options.rules ?? lockerAclRules();
  const host = options.host ?? '127.0.0.1';
  const limits: BrokerLimits = { ...BROKER_LIMITS, ...options.limits };
  const passwords = options.passwords;
  const principals = new WeakMap<object, string>();
  // Retained messages by topic, with the principal whose quota they count against.
  const retained = new Map<string, { owner: string; bytes: number }>();
  const perOwner = new Map<string, { count: number; bytes: number }>();
  let retainedBytes = 0;
  const ownerUse = (owner: string): { count: number; bytes: number } => perOwner.get(owner) ?? { count: 0, bytes: 0 };
  const forgetRetained = (topic: string): void => {
    const old = retained.get(topic);
    if (!old) return;
    retained.delete(topic);
    retainedBytes -= old.bytes;
    const use = ownerUse(old.owner);
    perOwner.set(old.owner, { count: use.count - 1, bytes: use.bytes - old.bytes });
  };
  /** Accounts a retained publish; returns why it is refused, or null. */
  const admitRetained = (owner: string, topic: string, bytes: number): string | null => {
    if (bytes === 0) {
      // An empty retained message deletes the topic's retained message.
      forgetRetained(topic);
      return null;
    }
    if (bytes > limits.maxRetainedMessageBytes) return `a retained message may hold at most ${limits.maxRetainedMessageBytes} bytes`;
    const old = retained.get(topic);
    const use = ownerUse(owner);
    const sameOwner = old?.owner === owner;
    const count = use.count + (sameOwner ? 0 : 1);
    const ownerBytes = use.bytes - (sameOwner ? (old?.bytes ?? 0) : 0) + bytes;
    const total = retainedBytes - (old?.bytes ?? 0) + bytes;
    if (count > limits.maxRetainedPerPrincipal) return `at most ${limits.maxRetainedPerPrincipal} retained messages per principal`;
    if (ownerBytes > limits.maxRetainedBytesPerPrincipal) return `at most ${limits.maxRetainedBytesPerPrincipal} retained bytes per principal`;
    if (total > limits.maxRetainedBytesTotal) return 'the broker holds as many retained bytes as it may';
    forgetRetained(topic);
    retained.set(topic, { owner, bytes });
    const now = ownerUse(owner);
    perOwner.set(owner, { count: now.count + 1, bytes: now.bytes + bytes });
    retainedBytes += bytes;
    return null;
  };
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!username) return done(authError('a username (the principal) is required', 5), false);
      const expected = Object.hasOwn(passwords, username) ? passwords[username] : undefined;
      if (expected === undefined || !passwordMatches(expected, password)) {
        log.warn({ username: username.slice(0, 64) }, 'refused connection: bad username or password');
        return done(authError('bad username or password', 4), false);
      }
      // Checked before aedes looks for a session with this id: a refused client never
      // closes the connection that holds it.
      if (!clientIdBelongsTo(username, client.id)) {
        log.warn({ username, clientId: client.id.slice(0, 128) }, 'refused connection: client id of another principal');
        return done(authError(`the client id must be "${username}" or start with "${username}:"`, 2), false);
      }
      // Aedes keeps no username on the client; remember the principal for the ACL hooks.
      principals.set(client, username);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      // Aedes publishes wills of long-gone clients with client null; they passed when set.
      if (client === null) return done(null);
      const user = principals.get(client);
      if (user === undefined || !mayPublish(rules, user, packet.topic)) {
        log.warn({ user, topic: packet.topic }, 'refused publish');
        return done(new Error(`not authorised to publish on ${packet.topic}`));
      }
      if (packet.retain) {
        const why = admitRetained(user, packet.topic, packet.payload.length);
        if (why !== null) {
          log.warn({ user, topic: packet.topic, bytes: packet.payload.length }, `refused retained publish: ${why}`);
          return done(new Error(`retained publish refused: ${why}`));
        }
      }
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      const user = principals.get(client);
      if (user !== undefined && maySubscribe(rules, user, sub.topic)) return done(null, sub);
      log.warn({ user, topic: sub.topic }, 'refused subscription');
      // A null subscription answers SUBACK 0x80 without dropping the connection.
      done(null, null);
    },
  });
  const server: Server = createServer((socket) => {
    aedes.handle(
      guardPacketSize(socket, limits.maxPacketBytes, () => log.warn({ maxPacketBytes: limits.maxPacketBytes }, 'closed a connection that sent an oversized packet')),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host, port }, 'embedded MQTT broker listening');
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    retained: () => ({ count: retained.size, bytes: retainedBytes }),
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
