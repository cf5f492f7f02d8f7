// An MQTT broker inside the lockerd process for the one-machine demo (`npm start`): aedes on
// loopback, MQTT 3.1.1 only (aedes has no MQTT 5). Principals authenticate by username (and a
// password when a password table is given) and get exactly the topic rules of the shipped
// Mosquitto ACL, so the demo behaves like a real deployment, refusals included.
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import type { Logger } from '../logger.js';
import { lockerAclRules, mayPublish, maySubscribe, type AclRule } from './topicAcl.js';

export interface EmbeddedBrokerOptions {
  logger: Logger;
  /** 0 picks a free port. */
  port?: number;
  /** Loopback by default: the demo broker is not meant to be reachable from the network. */
  host?: string;
  /** username -> password. Without it any password is accepted (loopback demo only). */
  passwords?: Readonly<Record<string, string>>;
  /** Defaults to the shipped rules for operator "operator". */
  rules?: readonly AclRule[];
}

export interface EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  /** mqtt://host:port, for MqttConfig.url. */
  readonly url: string;
  close(): Promise<void>;
}

/** Aedes reports a refused CONNECT through an error carrying an MQTT return code. */
function authError(message: string, returnCode: 4 | 5): AuthenticateError {
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
  const principals = new WeakMap<object, string>();
  const aedes = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!username) return done(authError('a username (the principal) is required', 5), false);
      const passwords = options.passwords;
      if (passwords !== undefined) {
        const expected = Object.hasOwn(passwords, username) ? passwords[username] : undefined;
        if (expected === undefined || !passwordMatches(expected, password)) {
          log.warn({ username, clientId: client.id }, 'refused connection: bad username or password');
          return done(authError('bad username or password', 4), false);
        }
      }
      // Aedes keeps no username on the client; remember the principal for the ACL hooks.
      principals.set(client, username);
      done(null, true);
    },
    authorizePublish: (client, packet, done) => {
      // Aedes publishes wills of long-gone clients with client null; they passed when set.
      if (client === null) return done(null);
      const user = principals.get(client);
      if (user !== undefined && mayPublish(rules, user, packet.topic)) return done(null);
      log.warn({ user, topic: packet.topic }, 'refused publish');
      done(new Error(`not authorised to publish on ${packet.topic}`));
    },
    authorizeSubscribe: (client, sub, done) => {
      const user = principals.get(client);
      if (user !== undefined && maySubscribe(rules, user, sub.topic)) return done(null, sub);
      log.warn({ user, topic: sub.topic }, 'refused subscription');
      // A null subscription answers SUBACK 0x80 without dropping the connection.
      done(null, null);
    },
  });
  const server: Server = createServer(aedes.handle);
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
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
