// Logging that behaves as the README says (issue 12, section 3): LOCKERD_LOG_LEVEL works when
// the configuration leaves logLevel out (and overrides it when set), a line carries "channel"
// once however often a logger is narrowed, and a terminal gets readable lines, a pipe JSON.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/loadConfig.js';
import { createLogger, formatLogLine, logFormatFor, resolveLogLevel } from '../../src/logger.js';
import { LockerError } from '../../kernel/errors.js';

function raw(): { text: string[]; destination: { write(s: string): void } } {
  const text: string[] = [];
  return { text, destination: { write: (s) => void text.push(s) } };
}

const minimal = {
  version: 1,
  locker: { id: 'locker-1' },
  dataDir: '/var/lib/lockerd',
  hardware: { buses: [{ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 8 }] }] },
  layout: { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'bus0', board: 0, lock: 1 }] },
};

describe('the log level', () => {
  it('LOCKERD_LOG_LEVEL applies when the configuration has no logLevel', () => {
    const config = parseConfig(minimal);
    expect(resolveLogLevel(config.logLevel, { LOCKERD_LOG_LEVEL: 'debug' })).toBe('debug');
    const { text, destination } = raw();
    createLogger({ level: resolveLogLevel(config.logLevel, { LOCKERD_LOG_LEVEL: 'debug' }), destination }).debug('frame 02 00 30 03 35');
    expect(text).toHaveLength(1);
  });

  it('the environment overrides the configuration; info when neither says', () => {
    expect(resolveLogLevel('warn', { LOCKERD_LOG_LEVEL: 'trace' })).toBe('trace');
    expect(resolveLogLevel('warn', {})).toBe('warn');
    expect(resolveLogLevel(undefined, {})).toBe('info');
    expect(resolveLogLevel('warn', { LOCKERD_LOG_LEVEL: '' })).toBe('warn');
  });

  it('refuses a level that does not exist, with a code', () => {
    expect(() => resolveLogLevel(undefined, { LOCKERD_LOG_LEVEL: 'verbose' })).toThrow(LockerError);
    expect(() => resolveLogLevel(undefined, { LOCKERD_LOG_LEVEL: 'verbose' })).toThrow(/^CONFIG_INVALID: LOCKERD_LOG_LEVEL/);
  });
});

describe('channel bindings', () => {
  it('a child of a child with the same channel writes "channel" once', () => {
    const { text, destination } = raw();
    createLogger({ level: 'info', destination }).child({ channel: 'sync' }).child({ channel: 'sync', stream: 'op' }).info('connected');
    expect(text[0]?.match(/"channel"/g)).toHaveLength(1);
    expect(JSON.parse(text[0] ?? '{}')).toMatchObject({ channel: 'sync', stream: 'op', msg: 'connected' });
  });

  it('a narrower channel replaces the wider one, and other bindings stay', () => {
    const { text, destination } = raw();
    createLogger({ level: 'info', destination }).child({ channel: 'serial', bus: 'b0' }).child({ channel: 'frames' }).info('x');
    expect(text[0]?.match(/"channel"/g)).toHaveLength(1);
    expect(JSON.parse(text[0] ?? '{}')).toMatchObject({ channel: 'frames', bus: 'b0' });
  });

  it('a level set later on the root (setConfig) reaches children made before', () => {
    const { text, destination } = raw();
    const root = createLogger({ level: 'info', destination });
    const child = root.child({ channel: 'serial' }).child({ channel: 'frames' });
    child.debug('hidden');
    root.level = 'debug';
    child.debug('shown');
    expect(text).toHaveLength(1);
    const quiet = child.child({ channel: 'x' }, { level: 'error' });
    quiet.child({ channel: 'y' }).warn('still quiet');
    expect(text).toHaveLength(1);
  });

  it('redaction still applies to children', () => {
    const { text, destination } = raw();
    createLogger({ level: 'info', destination }).child({ channel: 'a' }).child({ channel: 'b' }).info({ pin: '123456' }, 'x');
    expect(text.join('')).not.toContain('123456');
  });
});

describe('readable lines on a terminal', () => {
  it('JSON to a pipe, readable to a TTY, and LOCKERD_LOG_FORMAT decides when set', () => {
    expect(logFormatFor({ isTTY: true }, {})).toBe('pretty');
    expect(logFormatFor({ isTTY: false }, {})).toBe('json');
    expect(logFormatFor({}, {})).toBe('json');
    expect(logFormatFor({ isTTY: true }, { LOCKERD_LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormatFor({ isTTY: false }, { LOCKERD_LOG_FORMAT: 'pretty' })).toBe('pretty');
  });

  it('formats a line as time, level, channel, message and the other fields', () => {
    const line = JSON.stringify({ level: 40, time: Date.UTC(2026, 11, 1, 10, 30, 5, 123), pid: 7, hostname: 'h', svc: 'lockerd', channel: 'serial', bus: 'b0', msg: 'board silent', board: 3 });
    expect(formatLogLine(line)).toBe('10:30:05.123 WARN  [serial] board silent bus=b0 board=3\n');
  });

  it('a pretty logger writes no JSON and keeps secrets out', () => {
    const { text, destination } = raw();
    const log = createLogger({ level: 'info', destination, format: 'pretty' }).child({ channel: 'kiosk' });
    log.info({ pin: '654321', err: { code: 'PIN_INVALID', message: 'wrong' } }, 'login refused');
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}\[kiosk\] login refused /);
    expect(text[0]).not.toContain('654321');
    expect(() => JSON.parse(text[0] ?? '')).toThrow();
  });

  it('passes through what is not a JSON line', () => {
    expect(formatLogLine('plain\n')).toBe('plain\n');
  });
});
