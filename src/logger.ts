// Structured logging through pino. A Logger is injected everywhere; `child` adds a channel
// name such as "serial" or "sync" so one subsystem can be turned up on its own.
import { pino, type Logger as PinoLogger, type DestinationStream } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child' | 'level'>;

export interface LoggerOptions {
  level?: string;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOCKERD_LOG_LEVEL ?? 'info';
  return options.destination ? pino({ level, base: { svc: 'lockerd' } }, options.destination) : pino({ level, base: { svc: 'lockerd' } });
}

/** A logger that drops everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Formats bytes as spaced hex for frame logs: "02 00 30 03 35". */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
