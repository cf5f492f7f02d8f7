// hal's own option types: what a driver needs to know, in the driver's words. They mirror the
// validated configuration (src/config/schema.ts) today, but hal does not import it: the
// composition root maps config onto these (src/composition/halOptions.ts), so a change to the
// file format cannot reach into a driver unnoticed, and hal can be built without src/.

export type LockBoardProtocolName = 'kerong-cu16' | 'kerong-cu48' | 'generic-8a';

export interface BoardOptions {
  address: number;
  locks: number;
  /** 'latched-high': status bit 1 means the hook is latched; 'latched-low': the reverse. */
  polarity: 'latched-high' | 'latched-low';
  energiseMs: number;
  itemSensors: boolean;
}

export interface BusTimingOptions {
  pollIntervalMs: number;
  fastPollIntervalMs: number;
  fastPollForMs: number;
  replyTimeoutMs: number;
  silentAfterMisses: number;
}

export type SerialBusTransportOptions =
  | { kind: 'serial'; path: string; baudRate?: number | undefined }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'sim' };

export interface SerialBusOptions extends BusTimingOptions {
  id: string;
  protocol: LockBoardProtocolName;
  transport: SerialBusTransportOptions;
  boards: BoardOptions[];
}

export interface GpioLockOptions {
  lock: number;
  relayPin: number;
  relayActiveLow: boolean;
  doorPin?: number | undefined;
  doorClosedValue: 0 | 1;
  energiseMs: number;
}

export interface GpioBusOptions extends BusTimingOptions {
  id: string;
  protocol: 'gpio';
  transport: { kind: 'gpio'; chipLabel?: string | undefined } | { kind: 'sim' };
  locks: GpioLockOptions[];
  debounceMs: number;
}
