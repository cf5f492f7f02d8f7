// Structured logging through pino. A Logger is injected everywhere; `child` adds a channel
// name such as "serial" or "sync" so one subsystem can be turned up on its own. No secret
// (code, badge, PIN, token, key, raw scanner bytes, request body, MQTT payload) is logged at
// any level: call sites log lengths and kinds, and fields named like secrets are redacted.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child' | 'level'>;

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

/**
 * Field names that only ever hold secrets. No call site logs them (log a length or a kind
 * instead); should one slip in, the value is replaced before the line is written. "code" is not
 * here: it names error codes in many log lines, so pickup codes are kept out at the call sites.
 */
export const SECRET_LOG_FIELDS = ['pin', 'badge', 'token', 'password', 'authorization', 'codeJwe', 'pickupCode', 'secret', 'privateKey'] as const;

const redact = { paths: SECRET_LOG_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: '[redacted]' };

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOCKERD_LOG_LEVEL ?? 'info';
  const settings = { level, base: { svc: 'lockerd' }, redact };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Formats bytes as spaced hex for frame logs: "02 00 30 03 35". */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
