#!/usr/bin/env node
// lockerd: the locker runtime's command line.
//   lockerd start [--config FILE] [--sim] [--port N]   run the locker (on the simulator with --sim)
//         [--operator-key FILE]                        with --sim: also trust this operator public key
//                                                      (lockerctl keygen's NAME.pub.json), beside the demo's
//         [--first-boot]                               initialise a fresh data folder (a real locker refuses otherwise)
//         [--reinitialise]                             replace a lost database with a new, empty one (new epoch)
//   lockerd init --config FILE                         first boot: create the database and the locker identity
//   lockerd db check --config FILE [--full]            quick_check (integrity_check with --full); exit 1 if damaged
//   lockerd db backup PATH --config FILE               online backup (SQLite backup API), verified, while lockerd runs or not
//   lockerd db restore PATH --config FILE              put a verified backup in place (lockerd stopped); new stream epoch
//   lockerd check-config --config FILE [--sim]         validate a configuration, every error with its path
//                                                      (demo settings and placeholder keys only with --sim)
//   lockerd doctor --config FILE                       probe buses, boards, scanner, clock and broker
//   lockerd status [--config FILE] [--sim]             one screen of health: the running lockerd's
//                                                      /metrics, or its database read-only
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { SystemClock } from '../../kernel/clock.js';
import { isLoopbackHost } from '../config/deploymentChecks.js';
import { loadConfig } from '../config/loadConfig.js';
import { Ed25519PublicJwk, type LockerConfig } from '../config/schema.js';
import { startLockerd } from '../composition/startLockerd.js';
import { systemdNotifier } from '../composition/systemdNotify.js';
import type { EmbeddedBroker } from '../broker/embeddedBroker.js';
import { assertKeypadPolicy, describeKeypadOdds } from '../codes/keypadPolicy.js';
import { isLockerError, LockerError } from '../../kernel/errors.js';
import { createLogger, logFormatFor, resolveLogLevel } from '../logger.js';
import { packageRoot } from '../packageRoot.js';
import { cryptoRandom } from '../../kernel/random.js';
import { RESTART_EXIT_CODE } from '../update/bootGuard.js';

const usage = `usage:
  lockerd start [--config FILE] [--sim [--operator-key FILE]] [--port N] [--first-boot] [--reinitialise]
  lockerd init --config FILE
  lockerd db check --config FILE [--full]
  lockerd db backup PATH --config FILE
  lockerd db restore PATH --config FILE
  lockerd check-config --config FILE [--sim]
  lockerd doctor --config FILE
  lockerd status [--config FILE] [--sim]`;

const cliOptions = {
  config: { type: 'string', short: 'c' },
  sim: { type: 'boolean', default: false },
  'first-boot': { type: 'boolean', default: false },
  reinitialise: { type: 'boolean', default: false },
  full: { type: 'boolean', default: false }, port: { type: 'string' }, 'operator-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** A mistake on the command line: printed with the usage text, exit 2. */
function usageError(message: string): LockerError {
  return new LockerError('USAGE_INVALID', message);
}

/** node:util parseArgs, with its TypeErrors turned into USAGE_INVALID in our words. */
function parseCommandLine(argv: string[]): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof cliOptions }>> {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: cliOptions });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message = (e as Error).message;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw usageError(`unknown option "${(/'([^'\s]+)'/.exec(message)?.[1] ?? '?').slice(0, 40)}"`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw usageError(`${(/--[\w-]+/.exec(message)?.[0] ?? 'an option').slice(0, 40)} needs a value`);
    throw usageError(message.slice(0, 200));
  }
}

function requireConfig(file: string | undefined): string {
  if (!file) throw usageError('--config FILE is required');
  return file;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv);
  const command = positionals[0];
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (!command) throw usageError('no command given');
  switch (command) {
    case 'check-config': {
      values.config = requireConfig(values.config);
      const config = await loadConfig(values.config, { sim: values.sim === true });
      process.stdout.write(`${values.config}: valid (locker ${config.locker.id}, ${config.layout.compartments.length} compartments, ${config.hardware.buses.length} buses)\n`);
      process.stdout.write(`${checkKeypadPolicy(config)}\n`);
      for (const line of deploymentWarnings(config)) process.stdout.write(`${line}\n`);
      return 0;
    }
    case 'doctor': {
      values.config = requireConfig(values.config);
      // The report says what failed; the drivers' own log lines only with LOCKERD_LOG_LEVEL, and
      // then readable on stderr, never JSON in the middle of the report.
      const level = process.env.LOCKERD_LOG_LEVEL ? resolveLogLevel(undefined, process.env) : 'silent';
      // Loaded only for this command: the probes are no part of a running locker's footprint.
      const { runDoctor } = await import('./doctor.js');
      const report = await runDoctor(await loadConfig(values.config), { clock: new SystemClock(), logger: createLogger({ level, format: 'pretty', destination: process.stderr }) });
      const mark = { ok: 'ok  ', fail: 'FAIL', unknown: '??  ' } as const;
      for (const line of report.lines) process.stdout.write(`${mark[line.status]}  ${line.what}: ${line.detail}\n`);
      return report.lines.some((l) => l.status === 'fail') ? 1 : 0;
    }
    case 'status': {
      const file = values.config ?? (values.sim ? join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json') : undefined);
      if (!file) throw new Error('--config is required (or --sim for the demo on the simulator)');
      const { readLockerStatus, renderLockerStatus } = await import('../metrics/lockerStatus.js');
      const status = await readLockerStatus(await loadConfig(file, { sim: values.sim === true }));
      process.stdout.write(`${renderLockerStatus(status, Date.now()).join('\n')}\n`);
      return status.source === 'metrics' ? 0 : 3;
    }
    case 'init': {
      // The explicit first boot of a real locker (deploy/install.sh runs it once).
      const config = await loadConfig(requireConfig(values.config), { sim: values.sim === true });
      const { initialiseDataFolder } = await import('./databaseCommands.js');
      process.stdout.write(`${(await initialiseDataFolder(config)).join('\n')}\n`);
      return 0;
    }
    case 'db': {
      const config = await loadConfig(requireConfig(values.config), { sim: values.sim === true });
      const { runDatabaseCommand } = await import('./databaseCommands.js');
      const r = await runDatabaseCommand(config, positionals.slice(1), { full: values.full === true });
      process.stdout.write(`${r.lines.join('\n')}\n`);
      return r.code;
    }
    case 'start':
      if (values['operator-key'] !== undefined && !values.sim) throw usageError('--operator-key is for the demo (--sim); a real locker trusts the operator keys of its config');
      return start(values.config, values.sim === true, values.port ? Number(values.port) : undefined, values['operator-key'], {
        // A real locker initialises a fresh data folder only when asked; the simulator does it for you.
        ...(values.sim ? {} : { firstBoot: values['first-boot'] === true }),
        reinitialise: values.reinitialise === true,
      });
    default:
      throw usageError(`unknown command "${command.slice(0, 40)}"`);
  }
}

async function start(configPath: string | undefined, sim: boolean, port: number | undefined, operatorKeyFile?: string, boot: { firstBoot?: boolean; reinitialise?: boolean } = {}): Promise<number> {
  const clock = new SystemClock();
  const file = configPath ?? (sim ? join(packageRoot(), 'deploy', 'examples', 'lockerd.sim.json') : undefined);
  if (!file) throw usageError('--config FILE is required (or --sim for the demo on the simulator)');
  // Without --sim, demo settings and the examples' placeholder keys are refused here.
  let config: LockerConfig = await loadConfig(file, { sim });
  const extraOperatorKey = operatorKeyFile !== undefined ? await readOperatorPublicKey(operatorKeyFile) : undefined;
  // LOCKERD_LOG_LEVEL overrides the file's logLevel; readable lines on a terminal, JSON otherwise.
  const logger = createLogger({ level: resolveLogLevel(config.logLevel, process.env), format: logFormatFor(process.stdout, process.env) });
  let demo: string[] = [];
  if (sim) {
    // The demo's keys and badges only with --sim: a production start does not load them (issue 10).
    const { loadOrCreateDemoKeys, mintDemoCourierBadge, mintDemoOperatorBadge, withDemoKeys, DEMO_COURIER_ID, DEMO_COURIER_PIN } = await import('../composition/demoKeys.js');
    const keys = await loadOrCreateDemoKeys(join(config.dataDir, 'demo-keys'), config.carriers.map((c) => c.id));
    config = { ...(await withDemoKeys(config, keys, cryptoRandom())), demo: { revealCodes: true } };
    // The README's provisioning walk-through signs with a key of lockerctl keygen: trust it too.
    if (extraOperatorKey) config = withExtraOperatorKey(config, extraOperatorKey);
    const carrier = config.carriers.find((c) => c.adHocDeposit) ?? config.carriers[0];
    if (carrier) {
      const badge = await mintDemoCourierBadge(keys, carrier.id, DEMO_COURIER_ID, clock);
      const op = await mintDemoOperatorBadge(keys, config.operator.id, 'demo-operator', clock);
      demo = [
        `demo courier (${carrier.name}) badge:`,
        `  ${badge}`,
        `  or log in with carrier "${carrier.id}", courier "${DEMO_COURIER_ID}", PIN ${DEMO_COURIER_PIN}`,
        'demo operator badge:',
        `  ${op}`,
        ...(operatorKeyFile !== undefined ? [`operator commands signed with the key of ${operatorKeyFile} are accepted too (kid ${extraOperatorKey?.kid ?? '-'})`] : []),
      ];
    }
  }
  // The demo brings its own MQTT broker on loopback, with the same topic rules as production.
  let broker: EmbeddedBroker | undefined;
  // Each principal has its own password there (made at the first start, printed below).
  let brokerLines: string[] = [];
  if (sim && config.mqtt) {
    const { startDemoBroker } = await import('../broker/demoBroker.js');
    const demoBroker = await startDemoBroker({ ...config, mqtt: config.mqtt }, logger, cryptoRandom());
    ({ broker, config, lines: brokerLines } = demoBroker);
  }
  // The updater switched releases: stop like on SIGTERM, then exit so the supervisor starts the new one.
  let restartRequested = false;
  let requestStop: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const onRestartRequested = (): void => {
    restartRequested = true;
    requestStop();
  };
  const running = await startLockerd({ config, sim, logger, clock, onRestartRequested, ...boot, ...(port !== undefined ? { port } : {}) });
  const lines = [
    `lockerd ${config.locker.id} is running${sim ? ' on the simulator' : ''}`,
    `  kiosk:      ${running.url}/`,
    `  local API:  ${running.url}/api/health`,
    ...(sim ? [`  simulator:  ${running.url}/sim/`] : []),
    ...(config.mqtt ? [`  MQTT:       ${config.mqtt.url}${broker ? ' (embedded broker)' : ''}`] : []),
    `  public keys: ${running.publicKeysFile}`,
    ...demo,
    ...brokerLines,
    'Ctrl-C stops it.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const systemd = systemdNotifier({ warn: (m) => logger.warn(m) });
  systemd.notify('READY=1');
  const watchdogUs = Number(process.env.WATCHDOG_USEC ?? 0);
  const watchdog = watchdogUs > 0 ? setInterval(() => systemd.notify('WATCHDOG=1'), Math.max(1000, watchdogUs / 2000)) : undefined;

  await stopRequested;
  if (watchdog) clearInterval(watchdog);
  systemd.notify('STOPPING=1');
  await running.stop();
  await broker?.close();
  return restartRequested ? RESTART_EXIT_CODE : 0;
}

/** The operator's public signing key from lockerctl keygen's NAME.pub.json (or a bare public JWK). */
async function readOperatorPublicKey(file: string): Promise<Ed25519PublicJwk> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new LockerError('INPUT_INVALID', `--operator-key: cannot read ${file}: ${(e as Error).message}`, { file });
  }
  const doc = z.union([z.object({ signingKey: Ed25519PublicJwk }).transform((d) => d.signingKey), Ed25519PublicJwk]).safeParse(raw);
  if (!doc.success) throw new LockerError('INPUT_INVALID', `--operator-key: ${file} is not a public key document {signingKey} nor a public Ed25519 JWK`, { file });
  return doc.data;
}

/** Appends one operator signing key to the config (the demo's own key stays valid). */
function withExtraOperatorKey(config: LockerConfig, key: Ed25519PublicJwk): LockerConfig {
  if (config.operator.signingKeys.some((k) => k.x === key.x)) return config;
  return { ...config, operator: { ...config.operator, signingKeys: [...config.operator.signingKeys, key] } };
}

/** What check-config says about a valid file that is still worth a second look. */
function deploymentWarnings(config: LockerConfig): string[] {
  const out: string[] = [];
  if (!isLoopbackHost(config.kiosk.host))
    out.push(`warning: the kiosk API listens on ${config.kiosk.host}, beyond loopback (kiosk.exposeBeyondLoopback): anyone who can reach it can try codes, badges and PINs`);
  if (config.updates?.allowHttpLoopback) out.push('warning: updates.allowHttpLoopback fetches releases over plain http from loopback: for tests and the simulator only');
  return out;
}

/**
 * The keypad part of check-config: the chance that a stranger at the best pacing opens any door
 * within 30 days (src/codes/keypadPolicy.ts). Throws CODE_POLICY_WEAK above 0.1 %.
 */
function checkKeypadPolicy(config: LockerConfig): string {
  const policy = { length: config.codes.length, burst: config.codes.burst, refillPerHour: config.codes.refillPerHour, liveCodes: config.codes.maxLiveCodes ?? config.layout.compartments.length };
  return describeKeypadOdds(policy, assertKeypadPolicy(policy));
}


main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (isLockerError(err, 'USAGE_INVALID')) {
      process.stderr.write(`${err.message}\n${usage}\n`);
      process.exit(2);
    }
    if (isLockerError(err)) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
