// Kerong CU48 wire format (official document, see protocols/lock-boards.md): 6-byte host
// frames `02 ADDR LOCK CMD 03 SUM` and the 12-byte status reply `02 ADDR xx 65 D1..D6 03 SUM`.
// ADDR 0x0A addresses every board, LOCK 0x30 every lock. Pure functions only.
import { type BoardOptions as BoardConfig } from '../options.js';
import { type LockReading } from '../types.js';
import { type FrameGrammar, type FrameMatch, StreamingFrameParser, bitAt, latchedFromBit, sum8 } from './frameParser.js';

export const CU48_STX = 0x02;
export const CU48_ETX = 0x03;
export const CU48_LOCKS = 48;
export const CU48_BAUD_RATES = [19200] as const;
/** ADDR byte that every board on the bus obeys. */
export const CU48_ALL_BOARDS = 0x0a;
/** LOCK byte meaning all 48 locks of the board. */
export const CU48_ALL_LOCKS = 0x30;

export const Cu48Cmd = {
  status: 0x50,
  unlock: 0x51,
  statusReply: 0x65,
} as const;

const HOST_FRAME_LENGTH = 6;
const REPLY_LENGTH = 12;

export type Cu48Target = number | 'all';

export type Cu48Frame =
  | { type: 'status-query'; board: Cu48Target }
  | { type: 'unlock'; board: Cu48Target; lock: Cu48Target }
  /** `bits`: D1..D6 as on the wire (bit 0 of D1 = lock 1), no polarity applied. */
  | { type: 'status-reply'; board: number; bits: Uint8Array };

function checkBoard(board: number): void {
  if (!Number.isInteger(board) || board < 0 || board > 9) throw new RangeError(`CU48 board ${board} is outside 0-9`);
}

function hostFrame(addr: number, lockByte: number, cmd: number): Uint8Array {
  const f = Uint8Array.of(CU48_STX, addr, lockByte, cmd, CU48_ETX, 0);
  f[5] = sum8(f, 5);
  return f;
}

export function encodeCu48Status(board: number): Uint8Array {
  checkBoard(board);
  return hostFrame(board, 0x00, Cu48Cmd.status);
}

/** Every board answers with its own 12-byte reply. */
export function encodeCu48StatusAll(): Uint8Array {
  return hostFrame(CU48_ALL_BOARDS, 0x00, Cu48Cmd.status);
}

/** `lock` is 1-based; lock 1 is LOCK byte 0x00. */
export function encodeCu48Unlock(board: number, lock: number): Uint8Array {
  checkBoard(board);
  if (!Number.isInteger(lock) || lock < 1 || lock > CU48_LOCKS) throw new RangeError(`CU48 lock ${lock} is outside 1-${CU48_LOCKS}`);
  return hostFrame(board, lock - 1, Cu48Cmd.unlock);
}

export function encodeCu48UnlockAll(board: number): Uint8Array {
  checkBoard(board);
  return hostFrame(board, CU48_ALL_LOCKS, Cu48Cmd.unlock);
}

/** Every lock of every board: the document's frame, kept for completeness (power draw!). */
export function encodeCu48UnlockEverything(): Uint8Array {
  return hostFrame(CU48_ALL_BOARDS, CU48_ALL_LOCKS, Cu48Cmd.unlock);
}

/** Status reply as a board sends it; the simulator uses this. `bits` are D1..D6. */
export function encodeCu48StatusReply(board: number, bits: Uint8Array): Uint8Array {
  checkBoard(board);
  if (bits.length !== 6) throw new RangeError('CU48 status carries exactly 6 data bytes');
  const f = new Uint8Array(REPLY_LENGTH);
  f.set([CU48_STX, board, 0x00, Cu48Cmd.statusReply], 0);
  f.set(bits, 4);
  f[10] = CU48_ETX;
  f[11] = sum8(f, 11);
  return f;
}

function target(byte: number, all: number): Cu48Target {
  return byte === all ? 'all' : byte;
}

const cu48Grammar: FrameGrammar<Cu48Frame> = {
  maxFrameLength: REPLY_LENGTH,
  isStart: (b) => b === CU48_STX,
  match(bytes): FrameMatch<Cu48Frame> {
    if (bytes.length < 4) {
      // ADDR beyond 0x0A and LOCK beyond 0x30 never occur: reject early to resync fast.
      if (bytes.length >= 2 && (bytes[1] as number) > CU48_ALL_BOARDS) return { kind: 'invalid', reason: 'malformed' };
      if (bytes.length >= 3 && (bytes[2] as number) > CU48_ALL_LOCKS) return { kind: 'invalid', reason: 'malformed' };
      return { kind: 'more' };
    }
    const addr = bytes[1] as number;
    const lockByte = bytes[2] as number;
    const cmd = bytes[3] as number;
    if (addr > CU48_ALL_BOARDS || lockByte > CU48_ALL_LOCKS) return { kind: 'invalid', reason: 'malformed' };
    const length = cmd === Cu48Cmd.statusReply ? REPLY_LENGTH : cmd === Cu48Cmd.status || cmd === Cu48Cmd.unlock ? HOST_FRAME_LENGTH : 0;
    if (length === 0) return { kind: 'invalid', reason: 'malformed' };
    if (bytes.length >= length - 1 && bytes[length - 2] !== CU48_ETX) return { kind: 'invalid', reason: 'malformed' };
    if (bytes.length < length) return { kind: 'more' };
    if (sum8(bytes, length - 1) !== bytes[length - 1]) return { kind: 'invalid', reason: 'checksum' };
    let frame: Cu48Frame;
    if (cmd === Cu48Cmd.statusReply) {
      if (addr === CU48_ALL_BOARDS) return { kind: 'invalid', reason: 'malformed' };
      frame = { type: 'status-reply', board: addr, bits: bytes.slice(4, 10) };
    } else if (cmd === Cu48Cmd.status) {
      frame = { type: 'status-query', board: target(addr, CU48_ALL_BOARDS) };
    } else {
      frame = { type: 'unlock', board: target(addr, CU48_ALL_BOARDS), lock: lockByte === CU48_ALL_LOCKS ? 'all' : lockByte + 1 };
    }
    return { kind: 'frame', length, frame };
  },
};

/** Streaming parser for both directions: the bus keeps the replies, a board simulator the host frames. */
export class Cu48FrameParser extends StreamingFrameParser<Cu48Frame> {
  constructor() {
    super(cu48Grammar);
  }
}

/** Readings for the configured locks; CU48 boards report only the hooks (no item sensors). */
export function decodeCu48Status(reply: { bits: Uint8Array }, board: Pick<BoardConfig, 'locks' | 'polarity'>): LockReading[] {
  const count = Math.min(board.locks, CU48_LOCKS);
  const readings: LockReading[] = [];
  for (let n = 0; n < count; n++) readings.push({ lock: n + 1, latched: latchedFromBit(bitAt(reply.bits, n), board.polarity) });
  return readings;
}
