// The logger as every layer sees it: the injected interface (pino's, narrowed) and the hex
// formatting of frame bytes. Creating and configuring loggers stays in src/logger.ts.
import { type Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'child' | 'level'>;

/** Formats bytes as spaced hex for frame logs: "02 00 30 03 35". */
export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(' ');
}
