// Kerong CU16 wire format (see docs protocols/lock-boards.md): 5-byte host frames
// `STX ADDR CMD ETX SUM` with ADDR = board<<4 | lockIndex, and the 9-byte status reply
// `STX ADDR 35 D1 D2 D3 D4 ETX SUM` (D1/D2 hook bits, D3/D4 infrared item bits).
// Pure functions only: the bus and the board simulator both build on them.
import { type BoardOptions as BoardConfig } from '../options.js';
import { type LockReading } from '../types.js';
import { type FrameGrammar, type FrameMatch, StreamingFrameParser, bitAt, latchedFromBit, sum8 } from './frameParser.js';

export const CU16_STX = 0x02;
export const CU16_ETX = 0x03;
export const CU16_LOCKS = 16;
export const CU16_BAUD_RATES = [19200, 9600] as const;

export const Cu16Cmd = {
  status: 0x30,
  unlock: 0x31,
  statusAll: 0x32,
  unlockAll: 0x33,
  energiseTime: 0x37,
  statusReply: 0x35,
} as const;

/** ADDR the documented bus-wide status uses. */
const STATUS_ALL_ADDR = 0xf0;
const HOST_FRAME_LENGTH = 5;
const REPLY_LENGTH = 9;

export type Cu16Frame =
  | { type: 'status-query'; board: number }
  | { type: 'unlock'; board: number; lock: number }
  | { type: 'status-all' }
  | { type: 'unlock-all'; board: number }
  | { type: 'energise-time-query'; board: number }
  /** `hooks`/`items`: 16-bit fields, bit 0 = lock 1, exactly as on the wire (no polarity applied). */
  | { type: 'status-reply'; board: number; hooks: number; items: number };

function checkBoard(board: number): void {
  if (!Number.isInteger(board) || board < 0 || board > 15) throw new RangeError(`CU16 board ${board} is outside 0-15`);
}

function checkLock(lock: number): void {
  if (!Number.isInteger(lock) || lock < 1 || lock > CU16_LOCKS) throw new RangeError(`CU16 lock ${lock} is outside 1-${CU16_LOCKS}`);
}

function hostFrame(addr: number, cmd: number): Uint8Array {
  const f = Uint8Array.of(CU16_STX, addr & 0xff, cmd, CU16_ETX, 0);
  f[4] = sum8(f, 4);
  return f;
}

export function encodeCu16Status(board: number): Uint8Array {
  checkBoard(board);
  return hostFrame(board << 4, Cu16Cmd.status);
}

/** `lock` is 1-based as printed on the board; the wire carries lockIndex = lock - 1. */
export function encodeCu16Unlock(board: number, lock: number): Uint8Array {
  checkBoard(board);
  checkLock(lock);
  return hostFrame((board << 4) | (lock - 1), Cu16Cmd.unlock);
}

export function encodeCu16StatusAll(): Uint8Array {
  return hostFrame(STATUS_ALL_ADDR, Cu16Cmd.statusAll);
}

/** The board opens its locks itself, one after another. */
export function encodeCu16UnlockAll(board: number): Uint8Array {
  checkBoard(board);
  return hostFrame(board << 4, Cu16Cmd.unlockAll);
}

export function encodeCu16EnergiseTimeQuery(board: number): Uint8Array {
  checkBoard(board);
  return hostFrame(board << 4, Cu16Cmd.energiseTime);
}

/** Status reply as a board sends it; the simulator uses this. */
export function encodeCu16StatusReply(board: number, hooks: number, items: number): Uint8Array {
  checkBoard(board);
  const f = Uint8Array.of(CU16_STX, board << 4, Cu16Cmd.statusReply, hooks & 0xff, (hooks >> 8) & 0xff, items & 0xff, (items >> 8) & 0xff, CU16_ETX, 0);
  f[8] = sum8(f, 8);
  return f;
}

const cu16Grammar: FrameGrammar<Cu16Frame> = {
  maxFrameLength: REPLY_LENGTH,
  isStart: (b) => b === CU16_STX,
  match(bytes): FrameMatch<Cu16Frame> {
    if (bytes.length < 3) return { kind: 'more' };
    const addr = bytes[1] as number;
    const cmd = bytes[2] as number;
    const length = cmd === Cu16Cmd.statusReply ? REPLY_LENGTH : isHostCmd(cmd) ? HOST_FRAME_LENGTH : 0;
    if (length === 0) return { kind: 'invalid', reason: 'malformed' };
    // Check ETX as soon as it can be seen, so a false STX inside noise is dropped early.
    if (bytes.length >= length - 1 && bytes[length - 2] !== CU16_ETX) return { kind: 'invalid', reason: 'malformed' };
    if (bytes.length < length) return { kind: 'more' };
    if (sum8(bytes, length - 1) !== bytes[length - 1]) return { kind: 'invalid', reason: 'checksum' };
    const board = addr >> 4;
    let frame: Cu16Frame;
    switch (cmd) {
      case Cu16Cmd.statusReply:
        frame = {
          type: 'status-reply',
          board,
          hooks: (bytes[3] as number) | ((bytes[4] as number) << 8),
          items: (bytes[5] as number) | ((bytes[6] as number) << 8),
        };
        break;
      case Cu16Cmd.status:
        frame = { type: 'status-query', board };
        break;
      case Cu16Cmd.unlock:
        frame = { type: 'unlock', board, lock: (addr & 0x0f) + 1 };
        break;
      case Cu16Cmd.statusAll:
        frame = { type: 'status-all' };
        break;
      case Cu16Cmd.unlockAll:
        frame = { type: 'unlock-all', board };
        break;
      default:
        frame = { type: 'energise-time-query', board };
    }
    return { kind: 'frame', length, frame };
  },
};

function isHostCmd(cmd: number): boolean {
  return cmd === Cu16Cmd.status || cmd === Cu16Cmd.unlock || cmd === Cu16Cmd.statusAll || cmd === Cu16Cmd.unlockAll || cmd === Cu16Cmd.energiseTime;
}

/** Streaming parser for both directions: the bus keeps the replies, a board simulator the host frames. */
export class Cu16FrameParser extends StreamingFrameParser<Cu16Frame> {
  constructor() {
    super(cu16Grammar);
  }
}

/**
 * Turns a status reply into readings for the configured locks. The hook bit's meaning depends on
 * the switch wiring (board polarity); the infrared bits are reported only where the board has them.
 */
export function decodeCu16Status(reply: { hooks: number; items: number }, board: Pick<BoardConfig, 'locks' | 'polarity' | 'itemSensors'>): LockReading[] {
  const hooks = Uint8Array.of(reply.hooks & 0xff, (reply.hooks >> 8) & 0xff);
  const items = Uint8Array.of(reply.items & 0xff, (reply.items >> 8) & 0xff);
  const count = Math.min(board.locks, CU16_LOCKS);
  const readings: LockReading[] = [];
  for (let n = 0; n < count; n++) {
    const reading: LockReading = { lock: n + 1, latched: latchedFromBit(bitAt(hooks, n), board.polarity) };
    if (board.itemSensors) reading.itemPresent = bitAt(items, n);
    readings.push(reading);
  }
  return readings;
}
