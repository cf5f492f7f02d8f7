// Wire format of the generic "8A" locker boards (see protocols/lock-boards.md): 5-byte host
// frames `HDR BOARD LOCK CMD XOR` (HDR 0x8A to unlock, 0x80 to query), 5-byte short replies
// `80 BOARD LOCK STATE XOR` and the query-all reply `80 BOARD bN..b1 33 XOR` with 3 or 4 data
// bytes (24- or 32-lock boards). Some firmware answers with header 0x8A; both are accepted.
// Pure functions only.
import { type BoardOptions as BoardConfig } from '../options.js';
import { type LockReading } from '../types.js';
import { type FrameGrammar, type FrameMatch, StreamingFrameParser, bitAt, latchedFromBit, xor8 } from './frameParser.js';

export const G8A_QUERY_HEADER = 0x80;
export const G8A_UNLOCK_HEADER = 0x8a;
export const G8A_BAUD_RATES = [9600] as const;
export const G8A_MAX_LOCKS = 32;

export const G8aCmd = {
  unlock: 0x11,
  query: 0x33,
  readAddress: 0x99,
} as const;

/** STATE byte of a short reply: the lock stands open (unlock succeeded / hook released). */
export const G8A_STATE_OPEN = 0x11;
/** STATE byte of a short reply: the lock is shut. */
export const G8A_STATE_SHUT = 0x00;

const SHORT_LENGTH = 5;

export type G8aFrame =
  | { type: 'unlock'; board: number; lock: number | 'all' }
  | { type: 'query'; board: number; lock: number | 'all' }
  | { type: 'read-address' }
  /** Reply to an unlock or a one-lock query; `state` is G8A_STATE_OPEN or G8A_STATE_SHUT. */
  | { type: 'short-reply'; header: number; board: number; lock: number; state: number }
  /** Reply to query-all; `bits` little-endian (bit 0 of bits[0] = lock 1), as wired, no polarity applied. */
  | { type: 'status-reply'; header: number; board: number; bits: Uint8Array };

function checkBoard(board: number): void {
  if (!Number.isInteger(board) || board < 1 || board > 255) throw new RangeError(`8A board ${board} is outside 1-255`);
}

function checkLock(lock: number): void {
  if (!Number.isInteger(lock) || lock < 1 || lock > G8A_MAX_LOCKS) throw new RangeError(`8A lock ${lock} is outside 1-${G8A_MAX_LOCKS}`);
}

function shortFrame(header: number, a: number, b: number, c: number): Uint8Array {
  const f = Uint8Array.of(header, a, b, c, 0);
  f[4] = xor8(f, 4);
  return f;
}

export function encode8aUnlock(board: number, lock: number): Uint8Array {
  checkBoard(board);
  checkLock(lock);
  return shortFrame(G8A_UNLOCK_HEADER, board, lock, G8aCmd.unlock);
}

/** The board opens its locks one after another (allow about 10 s). */
export function encode8aUnlockAll(board: number): Uint8Array {
  checkBoard(board);
  return shortFrame(G8A_UNLOCK_HEADER, board, 0x00, G8aCmd.unlock);
}

export function encode8aQueryLock(board: number, lock: number): Uint8Array {
  checkBoard(board);
  checkLock(lock);
  return shortFrame(G8A_QUERY_HEADER, board, lock, G8aCmd.query);
}

export function encode8aQueryAll(board: number): Uint8Array {
  checkBoard(board);
  return shortFrame(G8A_QUERY_HEADER, board, 0x00, G8aCmd.query);
}

/** Asks the only board on the bus for its address (it answers whatever it is set to). */
export function encode8aReadAddress(): Uint8Array {
  return shortFrame(G8A_QUERY_HEADER, 0x01, 0x00, G8aCmd.readAddress);
}

/** Data bytes of the query-all reply: 24-lock boards send 3, larger ones 4. */
export function g8aStatusDataBytes(locks: number): 3 | 4 {
  return locks <= 24 ? 3 : 4;
}

/** Total length of the query-all reply of a board with this many locks. */
export function g8aStatusReplyLength(locks: number): number {
  return g8aStatusDataBytes(locks) + 4;
}

export function encode8aShortReply(board: number, lock: number, state: number, header = G8A_QUERY_HEADER): Uint8Array {
  return shortFrame(header, board, lock, state);
}

/** Query-all reply as a board sends it: highest lock group first on the wire. */
export function encode8aStatusReply(board: number, bits: Uint8Array, header = G8A_QUERY_HEADER): Uint8Array {
  if (bits.length !== 3 && bits.length !== 4) throw new RangeError('8A status carries 3 or 4 data bytes');
  const f = new Uint8Array(bits.length + 4);
  f[0] = header;
  f[1] = board;
  for (let i = 0; i < bits.length; i++) f[2 + i] = bits[bits.length - 1 - i] as number;
  f[f.length - 2] = G8aCmd.query;
  f[f.length - 1] = xor8(f, f.length - 1);
  return f;
}

function isHeader(b: number): boolean {
  return b === G8A_QUERY_HEADER || b === G8A_UNLOCK_HEADER;
}

function hostGrammar(): FrameGrammar<G8aFrame> {
  return {
    maxFrameLength: SHORT_LENGTH,
    isStart: isHeader,
    match(bytes): FrameMatch<G8aFrame> {
      if (bytes.length < SHORT_LENGTH) return { kind: 'more' };
      if (xor8(bytes, 4) !== bytes[4]) return { kind: 'invalid', reason: 'checksum' };
      const [header, board, lock, cmd] = [bytes[0], bytes[1], bytes[2], bytes[3]] as [number, number, number, number];
      const target = lock === 0 ? 'all' : lock;
      if (header === G8A_UNLOCK_HEADER && cmd === G8aCmd.unlock) return { kind: 'frame', length: SHORT_LENGTH, frame: { type: 'unlock', board, lock: target } };
      if (header === G8A_QUERY_HEADER && cmd === G8aCmd.query) return { kind: 'frame', length: SHORT_LENGTH, frame: { type: 'query', board, lock: target } };
      if (header === G8A_QUERY_HEADER && cmd === G8aCmd.readAddress) return { kind: 'frame', length: SHORT_LENGTH, frame: { type: 'read-address' } };
      return { kind: 'invalid', reason: 'malformed' };
    },
  };
}

function decodeReply(bytes: Uint8Array, length: number): G8aFrame | undefined {
  if (xor8(bytes, length - 1) !== bytes[length - 1]) return undefined;
  const header = bytes[0] as number;
  const board = bytes[1] as number;
  if (length === SHORT_LENGTH) return { type: 'short-reply', header, board, lock: bytes[2] as number, state: bytes[3] as number };
  if (bytes[length - 2] !== G8aCmd.query) return undefined;
  const data = bytes.subarray(2, length - 2);
  return { type: 'status-reply', header, board, bits: Uint8Array.from(data).reverse() };
}

/**
 * The reply length cannot be read off the frame (a short reply and the start of a status reply
 * look alike), so the bus says which reply it waits for; the half-duplex bus has exactly one
 * question open at a time. Without a hint, longer forms are tried first once they are complete.
 */
class ReplyGrammar implements FrameGrammar<G8aFrame> {
  readonly maxFrameLength = 8;
  expected: number | undefined;

  isStart(byte: number): boolean {
    return isHeader(byte);
  }

  match(bytes: Uint8Array): FrameMatch<G8aFrame> {
    const want = this.expected;
    if (want !== undefined) {
      if (bytes.length < want) return { kind: 'more' };
      const frame = decodeReply(bytes, want);
      return frame ? { kind: 'frame', length: want, frame } : { kind: 'invalid', reason: 'checksum' };
    }
    for (const length of [8, 7, SHORT_LENGTH]) {
      if (bytes.length < length) continue;
      const frame = decodeReply(bytes, length);
      if (frame) return { kind: 'frame', length, frame };
    }
    return bytes.length < 8 ? { kind: 'more' } : { kind: 'invalid', reason: 'checksum' };
  }
}

/** Streaming parser for host frames: what a board simulator listens to. */
export class G8aHostParser extends StreamingFrameParser<G8aFrame> {
  constructor() {
    super(hostGrammar());
  }
}

/** Streaming parser for board replies: what the bus listens to. */
export class G8aReplyParser extends StreamingFrameParser<G8aFrame> {
  private readonly replyGrammar: ReplyGrammar;

  constructor() {
    const grammar = new ReplyGrammar();
    super(grammar);
    this.replyGrammar = grammar;
  }

  /** Length of the reply now awaited (5 short, 7 or 8 status), or undefined for none. */
  expect(length: number | undefined): void {
    this.replyGrammar.expected = length;
  }
}

/** Readings of the configured locks from a query-all reply; the hook bits follow the board's polarity. */
export function decode8aStatus(reply: { bits: Uint8Array }, board: Pick<BoardConfig, 'locks' | 'polarity'>): LockReading[] {
  const count = Math.min(board.locks, reply.bits.length * 8);
  const readings: LockReading[] = [];
  for (let n = 0; n < count; n++) readings.push({ lock: n + 1, latched: latchedFromBit(bitAt(reply.bits, n), board.polarity) });
  return readings;
}
