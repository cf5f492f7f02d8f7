// The hardware contract. Domain code (src/) imports only this file from hal/.
// Drivers in hal/ and simulators in sim/ implement these interfaces; the composition root
// (src/composition/) picks one set from configuration.
//
// Conventions:
// - `board` is the board address on its bus as configured (CU16: 0-15, CU48: 0-9, 8A: 1-255,
//   GPIO: always 0).
// - `lock` is 1-based, as printed on the boards (lock 1 is CU48 LOCK byte 0x00).
// - Every method that talks to a device returns a promise that rejects with a LockerError
//   (kernel/errors.ts codes such as BOARD_SILENT, BUS_CLOSED, FRAME_INVALID); nothing throws
//   synchronously and nothing crashes the process on a device fault.

/** What one lock position reports. `undefined` means the hardware has no such sensor. */
export interface LockReading {
  lock: number;
  /** Hook (latch) microswitch: true while the hook holds the door shut. Already corrected for polarity. */
  latched: boolean;
  /** Separate door sensor (reed/hall), true when the door stands open. Absent on boards that only report the hook. */
  doorOpen?: boolean;
  /** Item (infrared) sensor: true when a parcel is inside. Absent where the board has none. */
  itemPresent?: boolean;
}

export interface BoardStatus {
  board: number;
  /** One entry per lock the board reports, in lock order. */
  locks: LockReading[];
  /** Clock time (ms) at which the reply arrived. */
  at: number;
}

export type LockBusEvent =
  /** A reading changed between two polls (or since the first poll). */
  | { type: 'reading'; bus: string; board: number; reading: LockReading; previous: LockReading | undefined }
  /** A board stopped answering status queries (after the configured number of misses). */
  | { type: 'board-silent'; bus: string; board: number; code: string; message: string }
  /** A status query got no reply or a garbled one (counted per board for the metrics; silence comes after several). */
  | { type: 'bus-error'; bus: string; board: number; code: string }
  /** A silent board answered again. */
  | { type: 'board-back'; bus: string; board: number }
  /** The transport closed or reopened (serial unplugged, TCP bridge lost). */
  | { type: 'transport'; bus: string; connected: boolean; message?: string }
  /**
   * Every door of a board read open at the board's first status since start: almost always a
   * board whose polarity is configured the wrong way round (a real locker never has them all open).
   */
  | { type: 'all-doors-open'; bus: string; board: number; locks: number };

export type LockBusListener = (event: LockBusEvent) => void;

export interface LockBus {
  /** Configured bus id (e.g. "bus0"). */
  readonly id: string;
  /** Opens the transport and starts status polling. Resolves when the port is open. */
  open(): Promise<void>;
  /** Stops polling, rejects queued commands with BUS_CLOSED and closes the transport. */
  close(): Promise<void>;
  /**
   * Energises one lock. Resolves once the frame has been written (CU16/CU48 send no reply) or,
   * for boards that reply (8A), once the reply arrived. It does NOT mean the door opened:
   * watch `reading` events (or call status) for the hook to release.
   * Triggers a fast poll of that board for a few seconds.
   */
  unlock(board: number, lock: number): Promise<void>;
  /** Queries one board now (goes through the bus queue). Rejects with BOARD_SILENT on timeout. */
  status(board: number): Promise<BoardStatus>;
  /** Last known status of a board, or undefined before the first successful poll. */
  lastStatus(board: number): BoardStatus | undefined;
  /** Boards currently considered silent. */
  silentBoards(): number[];
  on(listener: LockBusListener): () => void;
}

export type ScannerEvent =
  | { type: 'scan'; text: string; symbology?: string }
  /** A frame was dropped: over the maximum length, or not decodable text. */
  | { type: 'rejected'; code: string; length: number }
  | { type: 'connected' }
  | { type: 'disconnected'; message: string };

export type ScannerListener = (event: ScannerEvent) => void;

export interface Scanner {
  /** Starts reading; reconnects with backoff by itself while started. Never rejects on a missing device. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly connected: boolean;
  on(listener: ScannerListener): () => void;
}

/** Optional buzzer and per-compartment LEDs. */
export interface Indicator {
  beep(pattern: 'ok' | 'error' | 'alarm'): Promise<void>;
  light(compartmentId: string, on: boolean): Promise<void>;
}
