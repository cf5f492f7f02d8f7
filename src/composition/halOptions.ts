// Maps the validated configuration onto hal's own option types (hal/options.ts). hal never
// imports src/config; this is the one place where the two meet, field by field.
import type { BoardOptions, GpioBusOptions, GpioLockOptions, SerialBusOptions } from '../../hal/options.js';
import type { BoardConfig, GpioBusConfig, SerialBusConfig } from '../config/schema.js';

type Timing = Pick<SerialBusConfig, 'pollIntervalMs' | 'fastPollIntervalMs' | 'fastPollForMs' | 'replyTimeoutMs' | 'silentAfterMisses'>;

function timing(c: Timing): Timing {
  return { pollIntervalMs: c.pollIntervalMs, fastPollIntervalMs: c.fastPollIntervalMs, fastPollForMs: c.fastPollForMs, replyTimeoutMs: c.replyTimeoutMs, silentAfterMisses: c.silentAfterMisses };
}

export function boardOptions(b: BoardConfig): BoardOptions {
  return { address: b.address, locks: b.locks, polarity: b.polarity, energiseMs: b.energiseMs, itemSensors: b.itemSensors };
}

export function serialBusOptions(c: SerialBusConfig): SerialBusOptions {
  const t = c.transport;
  const transport: SerialBusOptions['transport'] =
    t.kind === 'serial' ? { kind: 'serial', path: t.path, ...(t.baudRate !== undefined ? { baudRate: t.baudRate } : {}) } : t.kind === 'tcp' ? { kind: 'tcp', host: t.host, port: t.port } : { kind: 'sim' };
  return { id: c.id, protocol: c.protocol, transport, boards: c.boards.map(boardOptions), ...timing(c) };
}

export function gpioBusOptions(c: GpioBusConfig): GpioBusOptions {
  const t = c.transport;
  const locks: GpioLockOptions[] = c.locks.map((l) => ({
    lock: l.lock,
    relayPin: l.relayPin,
    relayActiveLow: l.relayActiveLow,
    ...(l.doorPin !== undefined ? { doorPin: l.doorPin } : {}),
    doorClosedValue: l.doorClosedValue,
    energiseMs: l.energiseMs,
  }));
  return {
    id: c.id,
    protocol: 'gpio',
    transport: t.kind === 'gpio' ? { kind: 'gpio', ...(t.chipLabel !== undefined ? { chipLabel: t.chipLabel } : {}) } : { kind: 'sim' },
    locks,
    debounceMs: c.debounceMs,
    ...timing(c),
  };
}
