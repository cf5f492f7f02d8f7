// Structured logging through pino. A Logger is injected everywhere; `child` adds a channel
// name such as "serial" or "sync" so one subsystem can be turned up on its own. No secret
// (code, badge, PIN, token, key, raw scanner bytes, request body, MQTT payload) is logged at
// any level: call sites log lengths and kinds, and fields named like secrets are redacted.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';
import { type Logger } from '../kernel/log.js';
import { ErrorCodes, LockerError } from '../kernel/errors.js';

// The Logger interface and hex() live in the shared kernel (kernel/log.ts).
export { hex, type Logger } from '../kernel/log.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** 'json': one JSON object per line (journald, pipes); 'pretty': readable lines for a terminal. */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
  /** Default 'json'. 'pretty' formats each line with formatLogLine before it is written. */
  format?: LogFormat;
}

/**
 * Field names that only ever hold secrets. No call site logs them (log a length or a kind
 * instead); should one slip in, the value is replaced before the line is written. "code" is not
 * here: it names error codes in many log lines, so pickup codes are kept out at the call sites.
 */
export const SECRET_LOG_FIELDS = ['pin', 'badge', 'token', 'password', 'authorization', 'codeJwe', 'pickupCode', 'secret', 'privateKey'] as const;

const redact = { paths: SECRET_LOG_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' };

/**
 * The level in force: LOCKERD_LOG_LEVEL when set (so an operator can turn one locker up without
 * editing its configuration), else the configuration's logLevel, else info. An unknown name is
 * CONFIG_INVALID rather than pino's stack trace.
 */
export function resolveLogLevel(configured: string | undefined, env: Readonly<Record<string, string | undefined>>): LogLevel {
  const fromEnv = env.LOCKERD_LOG_LEVEL?.trim();
  const level = fromEnv !== undefined && fromEnv !== '' ? fromEnv : (configured ?? 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    const where = fromEnv ? 'LOCKERD_LOG_LEVEL' : 'logLevel';
    throw new LockerError(ErrorCodes.CONFIG_INVALID, `${where} "${level.slice(0, 20)}" is not one of ${LOG_LEVELS.join(', ')}`, { issues: [{ path: where, message: 'unknown level' }] });
  }
  return level as LogLevel;
}

/** Readable lines on a terminal, JSON otherwise; LOCKERD_LOG_FORMAT=json|pretty decides when set. */
export function logFormatFor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): LogFormat {
  const forced = env.LOCKERD_LOG_FORMAT?.trim();
  if (forced === 'json' || forced === 'pretty') return forced;
  if (forced !== undefined && forced !== '') throw new LockerError(ErrorCodes.CONFIG_INVALID, `LOCKERD_LOG_FORMAT "${forced.slice(0, 20)}" is not json or pretty`, { issues: [{ path: 'LOCKERD_LOG_FORMAT', message: 'unknown format' }] });
  return stream.isTTY === true ? 'pretty' : 'json';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOCKERD_LOG_LEVEL ?? 'info';
  const settings = { level, base: { svc: 'lockerd' }, redact };
  const target: DestinationStream | undefined =
    options.format === 'pretty' ? prettyStream(options.destination ?? process.stdout) : options.destination;
  const root = target ? pino(settings, target) : pino(settings);
  return withFlatBindings(root);
}

/**
 * pino appends a child's bindings to its parent's, so logger.child({channel: 'sync'}) handed to
 * a module that narrows it again with its own channel wrote "channel" twice. Every child here is
 * made from the root with the merged bindings instead: each key once, the newest value winning,
 * and the parent's level kept.
 */
function withFlatBindings(root: PinoLogger): PinoLogger {
  const original = root.child;
  // Without options a pino child follows its parent's later level changes (setConfig's logLevel);
  // a level is passed only for a parent that was given a level of its own.
  const pinoChild = (bindings: Record<string, unknown>, level: string): PinoLogger =>
    (level === root.level ? original.call(root, bindings) : original.call(root, bindings, { level })) as unknown as PinoLogger;
  const attach = (logger: PinoLogger, bound: Record<string, unknown>): PinoLogger => {
    logger.child = ((bindings: Record<string, unknown>, childOptions?: { level?: string }) => {
      const merged = { ...bound, ...bindings };
      return attach(pinoChild(merged, childOptions?.level ?? logger.level), merged);
    }) as unknown as PinoLogger['child'];
    return logger;
  };
  return attach(root, {});
}

const levelNames: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const headerFields = new Set(['level', 'time', 'pid', 'hostname', 'svc', 'channel', 'msg']);

/**
 * One pino JSON line as a readable line: "10:30:05.123 WARN  [serial] board silent bus=b0".
 * Times are UTC (as on a locker without a time zone). Anything that is not a JSON object is
 * passed through. Secrets are redacted before this runs (pino redacts while serialising).
 */
export function formatLogLine(line: string): string {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return line;
  const r = o as Record<string, unknown>;
  const t = typeof r.time === 'number' ? new Date(r.time) : undefined;
  const time = t ? t.toISOString().slice(11, 23) : '--:--:--.---';
  const level = (typeof r.level === 'number' ? (levelNames[r.level] ?? String(r.level)) : 'INFO').padEnd(5);
  const channel = typeof r.channel === 'string' ? ` [${r.channel}]` : '';
  const msg = typeof r.msg === 'string' ? ` ${r.msg}` : '';
  const fields = Object.entries(r)
    .filter(([k]) => !headerFields.has(k))
    .map(([k, v]) => ` ${k}=${fieldText(v)}`)
    .join('');
  return `${time} ${level}${channel}${msg}${fields}\n`;
}

function fieldText(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    // An error: its code and message, not its stack (the JSON format keeps the stack).
    const e = v as Record<string, unknown>;
    if (typeof e.message === 'string') return JSON.stringify(typeof e.code === 'string' ? `${e.code}: ${e.message}` : e.message);
  }
  return JSON.stringify(v) ?? String(v);
}

/** A pino destination writing formatLogLine of every line to `out`. */
export function prettyStream(out: { write(s: string): unknown }): DestinationStream {
  return { write: (s: string) => void out.write(formatLogLine(s)) };
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

