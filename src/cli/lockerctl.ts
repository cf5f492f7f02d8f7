#!/usr/bin/env node
// lockerctl: the operator's and carrier integrator's tool for lockers run by lockerd.
// Every subcommand is a thin shell over src/cli/lockerctl/*.ts, which tests call in-process.
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../kernel/clock.js';
import { mintBadge } from '../credentials/badge.js';
import { encryptForLocker } from '../crypto/codeJwe.js';
import { isLockerError } from '../../kernel/errors.js';
import { createIdFactory } from '../ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import { packageRoot } from '../packageRoot.js';
import { toPublicKey } from '../sync/detachedSignature.js';
import { buildRelease } from '../update/releaseBundle.js';
import { carrierTenant, eventSubscription, operatorTenant } from '../sync/topics.js';
import { CreateReservationArgs } from '../domain/lockerOperations.js';
import { signCommand } from './lockerctl/commandToken.js';
import { enrolLocker, enrolledKeyLookup, enrolledLocker } from './lockerctl/enrolment.js';
import { keygen, loadEncryptionKey, loadPublicKeys, loadSigningKey, type PublicKeys } from './lockerctl/keyFiles.js';
import { closeMqttSession, openMqttSession, type MqttSessionOptions } from './lockerctl/mqttSession.js';
import { ProvisionPlan, provision } from './lockerctl/provision.js';
import { REVOCATION_TTL_S, revocationCommand } from './lockerctl/revocation.js';
import { exitCodeOf, sendCommand } from './lockerctl/sendCommand.js';
import { startWatch } from './lockerctl/watch.js';

const usage = `usage: lockerctl <command> [options]
  keygen    --out DIR --name NAME
  badge     --key FILE --issuer ID --subject ID [--role courier|operator] [--perms deposit,collect] [--ttl-hours 12]
  enrol     --locker ID --pub FILE [--home DIR]
  send      --key FILE --issuer ID [--operator] --locker ID --cmd NAME [--args JSON | --args-file FILE]
            [--code DIGITS] [--group ID] [--ttl S] [--timeout S] [--home DIR] MQTT
            (--group: createReservation of a delivery grouped for one recipient; one code opens the group)
  watch     (--carrier ID | --operator) [--locker ID] [--decrypt-key FILE] [--state FILE] [--from SEQ]
            [--seconds N] [--home DIR] MQTT
  revoke    --key FILE --issuer ID [--operator] --locker ID (--badge-id JTI | --badge TOKEN | --subject ID [--not-before S])
            [--badge-issuer ID] [--reason TEXT] [--ttl S] [--timeout S] [--home DIR] MQTT
  provision --plan FILE --key FILE [--operator-id ID] [--home DIR] MQTT
  release   --key FILE --out DIR [--version V] [--source DIR]   (a signed release bundle of a built package;
            --key is the operator's release key; prints the manifest digest for the update command)
MQTT: --url URL [--username U] [--password P] [--mqtt5] [--ca FILE] [--cert FILE] [--tls-key FILE]
      (env LOCKERCTL_URL, LOCKERCTL_PASSWORD; --home defaults to LOCKERCTL_HOME or ./.lockerctl)
exit status: 0 ok, 1 usage or local error, 2 refused by the locker, 3 no reply or broker unreachable`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user interrupts a long-running command (watch). */
  interrupted?: Promise<void>;
}

const options = {
  out: { type: 'string' },
  name: { type: 'string' },
  key: { type: 'string' },
  issuer: { type: 'string' },
  subject: { type: 'string' },
  role: { type: 'string' },
  perms: { type: 'string' },
  'ttl-hours': { type: 'string' },
  locker: { type: 'string' },
  pub: { type: 'string' },
  home: { type: 'string' },
  operator: { type: 'boolean' },
  cmd: { type: 'string' },
  args: { type: 'string' },
  'args-file': { type: 'string' },
  code: { type: 'string' },
  group: { type: 'string' },
  ttl: { type: 'string' },
  timeout: { type: 'string' },
  carrier: { type: 'string' },
  'decrypt-key': { type: 'string' },
  state: { type: 'string' },
  from: { type: 'string' },
  seconds: { type: 'string' },
  plan: { type: 'string' },
  'operator-id': { type: 'string' },
  version: { type: 'string' },
  source: { type: 'string' },
  'badge-id': { type: 'string' },
  badge: { type: 'string' },
  'badge-issuer': { type: 'string' },
  'not-before': { type: 'string' },
  reason: { type: 'string' },
  url: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  mqtt5: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

class UsageError extends Error {}

function need(values: Values, name: keyof Values): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

function num(values: Values, name: keyof Values, fallback: number): number {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

function mqttOptions(values: Values, io: Io, defaultUser: string | undefined): MqttSessionOptions {
  const url = values.url ?? io.env.LOCKERCTL_URL;
  if (!url) throw new UsageError('--url (or LOCKERCTL_URL) is required');
  const username = values.username ?? defaultUser;
  const password = values.password ?? io.env.LOCKERCTL_PASSWORD;
  return {
    url,
    protocolVersion: values.mqtt5 ? 5 : 4,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(values.ca !== undefined ? { ca: values.ca } : {}),
    ...(values.cert !== undefined ? { cert: values.cert } : {}),
    ...(values['tls-key'] !== undefined ? { key: values['tls-key'] } : {}),
  };
}

function homeOf(values: Values, io: Io): string {
  return values.home ?? io.env.LOCKERCTL_HOME ?? '.lockerctl';
}

async function readJsonFile(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

export async function lockerctl(argv: string[], io: Io): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`${(e as Error).message}\n${usage}`);
    return 1;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help || !command) {
    io.out(usage);
    return command || values.help ? 0 : 1;
  }
  const clock = new SystemClock();
  try {
    switch (command) {
      case 'keygen': {
        const r = await keygen(need(values, 'out'), need(values, 'name'));
        io.out(JSON.stringify(r));
        return 0;
      }
      case 'badge': {
        const key = await loadSigningKey(need(values, 'key'));
        const role = values.role ?? 'courier';
        if (role !== 'courier' && role !== 'operator') throw new UsageError('--role is courier or operator');
        const iat = Math.floor(clock.now() / 1000);
        const exp = iat + Math.round(num(values, 'ttl-hours', 12) * 3600);
        const common = { iss: need(values, 'issuer'), sub: need(values, 'subject'), iat, exp, jti: createIdFactory(clock, cryptoRandom())() };
        const perms = values.perms?.split(',').map((p) => p.trim());
        if (perms && !perms.every((p) => p === 'deposit' || p === 'collect')) throw new UsageError('--perms is a list of deposit, collect');
        const claims =
          role === 'operator'
            ? { ...common, role: 'operator' as const }
            : { ...common, role: 'courier' as const, ...(perms ? { perms: perms as ('deposit' | 'collect')[] } : {}) };
        io.out(await mintBadge(key.key, claims, { kid: key.kid }));
        return 0;
      }
      case 'enrol': {
        const file = await enrolLocker(homeOf(values, io), need(values, 'locker'), await loadPublicKeys(need(values, 'pub')));
        io.out(JSON.stringify({ enrolled: need(values, 'locker'), file }));
        return 0;
      }
      case 'send':
        return await send(values, io, clock);
      case 'revoke': {
        const r = revocationCommand({
          issuer: need(values, 'issuer'),
          operator: values.operator === true,
          now: clock.now(),
          ...(values['badge-issuer'] !== undefined ? { badgeIssuer: values['badge-issuer'] } : {}),
          ...(values['badge-id'] !== undefined ? { badgeId: values['badge-id'] } : {}),
          ...(values.badge !== undefined ? { badge: values.badge } : {}),
          ...(values.subject !== undefined ? { subject: values.subject } : {}),
          ...(values['not-before'] !== undefined ? { notBefore: Math.floor(num(values, 'not-before', 0)) } : {}),
          ...(values.reason !== undefined ? { reason: values.reason } : {}),
        });
        return await send(values, io, clock, { ...r, ttlS: num(values, 'ttl', REVOCATION_TTL_S) });
      }
      case 'watch':
        return await watch(values, io, clock);
      case 'provision': {
        const plan = ProvisionPlan.parse(await readJsonFile(need(values, 'plan')));
        const key = await loadSigningKey(need(values, 'key'));
        const operatorId = values['operator-id'] ?? 'operator';
        const client = await openMqttSession(mqttOptions(values, io, operatorId));
        try {
          const steps = await provision({
            client,
            clock,
            ids: createIdFactory(clock, cryptoRandom()),
            home: homeOf(values, io),
            operatorId,
            operatorKey: key.key,
            operatorKid: key.kid,
            plan,
            timeoutMs: num(values, 'timeout', 30) * 1000,
            progress: (s) => io.out(JSON.stringify(s)),
          });
          return steps.every((s) => s.ok) ? 0 : 2;
        } finally {
          await closeMqttSession(client);
        }
      }
      case 'release': {
        const key = await loadSigningKey(need(values, 'key'));
        const built = await buildRelease({
          sourceRoot: values.source ?? packageRoot(),
          outDir: need(values, 'out'),
          key: key.key,
          kid: key.kid,
          clock,
          ...(values.version !== undefined ? { version: values.version } : {}),
        });
        io.out(JSON.stringify({ ...built.manifest, bundleFile: built.bundleFile, manifestFile: built.manifestFile, manifestDigest: built.manifestDigest }));
        return 0;
      }
      default:
        io.err(`unknown command ${command}\n${usage}`);
        return 1;
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n${usage}`);
      return 1;
    }
    io.err(isLockerError(e) ? JSON.stringify({ error: e.toJSON() }) : String((e as Error).message ?? e));
    return isLockerError(e, 'TRANSPORT_ERROR') ? 3 : 1;
  }
}

async function lockerPublicKeys(values: Values, io: Io, locker: string): Promise<PublicKeys | undefined> {
  if (values.pub) return loadPublicKeys(values.pub);
  return enrolledLocker(homeOf(values, io), locker);
}

/** Signs, sends and waits; preset gives the command and arguments instead of --cmd and --args (revoke). */
async function send(values: Values, io: Io, clock: SystemClock, preset?: { cmd: string; args: Record<string, unknown>; ttlS: number }): Promise<number> {
  const keyFile = need(values, 'key');
  const issuer = need(values, 'issuer');
  const locker = need(values, 'locker');
  const cmd = preset?.cmd ?? need(values, 'cmd');
  const key = await loadSigningKey(keyFile);
  const rawArgs = preset ? preset.args : values['args-file'] ? await readJsonFile(values['args-file']) : values.args ? (JSON.parse(values.args) as unknown) : {};
  if (typeof rawArgs !== 'object' || rawArgs === null || Array.isArray(rawArgs)) throw new UsageError('--args must be a JSON object');
  const args = { ...(rawArgs as Record<string, unknown>) };
  if (values.group !== undefined) groupReservation(cmd, args, values.group, values.code !== undefined);
  const lockerKeys = await lockerPublicKeys(values, io, locker);
  if (values.code !== undefined) {
    // A carrier-chosen code travels only encrypted to this locker's X25519 key.
    if (!lockerKeys?.encryptionKey) throw new UsageError('--code needs the locker enrolled (or --pub) with an encryption key');
    if (typeof args.waybill !== 'string') throw new UsageError('--code needs args.waybill');
    args.codeJwe = await encryptForLocker(lockerKeys.encryptionKey, { code: values.code, waybill: args.waybill });
  }
  const command = await signCommand({
    key: key.key,
    kid: key.kid,
    issuer,
    locker,
    cmd,
    args,
    ttlS: preset?.ttlS ?? num(values, 'ttl', cmd === 'remoteOpen' ? 60 : 300),
    clock,
    ids: createIdFactory(clock, cryptoRandom()),
  });
  const client = await openMqttSession(mqttOptions(values, io, issuer));
  try {
    const reply = await sendCommand({
      client,
      clock,
      tenant: values.operator ? operatorTenant : carrierTenant(issuer),
      locker,
      command,
      timeoutMs: num(values, 'timeout', 15) * 1000,
      ...(lockerKeys ? { lockerKeys: [toPublicKey(lockerKeys.signingKey)] } : {}),
    });
    io.out(JSON.stringify(reply));
    return exitCodeOf(reply);
  } finally {
    await closeMqttSession(client);
  }
}

/** The carrier's group id, as the locker validates it (src/domain/lockerOperations.ts). */
const GroupId = CreateReservationArgs.shape.group.unwrap();

/**
 * `send --group ID`: puts the group into a createReservation's args, after the checks the
 * locker would make anyway (so a mistake is told here, before anything is signed or sent):
 * deliveries only, no carrier-chosen code, and the same id as args.group if that is given.
 */
function groupReservation(cmd: string, args: Record<string, unknown>, group: string, withCode: boolean): void {
  if (cmd !== 'createReservation') throw new UsageError('--group is an option of --cmd createReservation');
  const parsed = GroupId.safeParse(group);
  if (!parsed.success) throw new UsageError(`--group: ${parsed.error.issues[0]?.message ?? 'not a group id'}`);
  if (withCode) throw new UsageError('--group takes the locker\'s code for the whole group: leave out --code');
  if (args.kind !== undefined && args.kind !== 'delivery') throw new UsageError('--group is for deliveries (args.kind "delivery")');
  if (args.group !== undefined && args.group !== parsed.data) throw new UsageError('--group and args.group name different groups');
  args.group = parsed.data;
}

async function watch(values: Values, io: Io, clock: SystemClock): Promise<number> {
  if (!values.operator && !values.carrier) throw new UsageError('--carrier ID or --operator is required');
  const tenant = values.operator ? operatorTenant : carrierTenant(need(values, 'carrier'));
  const principal = values.operator ? (values['operator-id'] ?? 'operator') : need(values, 'carrier');
  const home = homeOf(values, io);
  const preload: Record<string, PublicKeys> = {};
  if (values.locker && values.pub) preload[values.locker] = await loadPublicKeys(values.pub);
  const lookup = enrolledKeyLookup(home, preload);
  if (values.locker) await lookup.load(values.locker);
  const decryptKey = values['decrypt-key'] ? await loadEncryptionKey(values['decrypt-key']) : undefined;
  // The state file: {cursors: {locker: next seq}, epochs: {locker: epoch}} (a bare {locker: seq} map before epochs).
  let startAt: Record<string, number> = {};
  let startEpochs: Record<string, string> = {};
  if (values.state) {
    try {
      const saved = (await readJsonFile(values.state)) as { cursors?: Record<string, number>; epochs?: Record<string, string> } & Record<string, unknown>;
      if (saved.cursors && typeof saved.cursors === 'object') {
        startAt = saved.cursors;
        startEpochs = saved.epochs ?? {};
      } else startAt = saved as Record<string, number>;
    } catch {
      startAt = {};
    }
  }
  if (values.from && values.locker) startAt[values.locker] = num(values, 'from', 1);
  const client = await openMqttSession({ ...mqttOptions(values, io, principal), persistentSession: false });
  try {
    // Enrolments are read lazily: the consumer awaits the file of a locker it has not seen yet.
    const handle = await startWatch({
      client,
      clock,
      tenant,
      ...(values.locker ? { locker: values.locker } : {}),
      lockerKeys: lookup.keys,
      ...(decryptKey ? { decryptKey } : {}),
      startAt,
      startEpochs,
      output: (line) => io.out(JSON.stringify(line)),
      warn: (m) => io.err(m),
    });
    // On stderr, so scripts can wait for it: from here on every event is seen.
    io.err(JSON.stringify({ watching: eventSubscription(tenant, values.locker ?? '+') }));
    const seconds = values.seconds !== undefined ? num(values, 'seconds', 1) : undefined;
    await Promise.race([
      io.interrupted ?? new Promise<never>(() => undefined),
      ...(seconds !== undefined ? [clock.sleep(seconds * 1000)] : []),
    ]);
    await handle.stop();
    if (values.state) await writeFile(values.state, JSON.stringify({ cursors: handle.consumer.cursors(), epochs: handle.consumer.epochs() }) + '\n');
    io.err(JSON.stringify({ stats: handle.stats() }));
    return 0;
  } finally {
    await closeMqttSession(client);
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) {
  const interrupted = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  lockerctl(process.argv.slice(2), {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
    env: process.env,
    interrupted,
  }).then(
    (code) => {
      process.exitCode = code;
      // Signal handlers keep nothing alive, but an open handle of a library might.
      setTimeout(() => process.exit(code), 200).unref();
    },
    (e: unknown) => {
      process.stderr.write(`${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
