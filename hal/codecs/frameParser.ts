// The streaming framing shared by every lock-board protocol: bytes arrive in arbitrary chunks,
// a frame may be split at any byte, and a noisy RS-485 line adds garbage, flipped bytes and
// half frames. Each protocol describes its frames as a FrameGrammar; this parser finds start
// bytes, asks the grammar whether a complete valid frame begins there, and drops bad bytes one
// at a time so a real frame hidden behind a corrupt one is still found. It keeps at most one
// frame's worth of bytes between pushes, so a line that never stops talking cannot grow it.
import { type BoardOptions as BoardConfig } from '../options.js';
import { ErrorCodes } from '../../kernel/errors.js';

export type RejectReason =
  /** Bytes that cannot start a frame. */
  | 'garbage'
  /** A frame with the right shape whose checksum does not add up. */
  | 'checksum'
  /** A start byte followed by bytes no frame of this protocol has. */
  | 'malformed'
  /** A frame cut short: the line went quiet (or the reply timed out) before it was complete. */
  | 'truncated';

/** Bytes the parser dropped, with a stable code for logs and errors. */
export interface FrameReject {
  code: typeof ErrorCodes.FRAME_INVALID;
  reason: RejectReason;
  /** The dropped bytes (at most `maxRejectBytes` of them are kept). */
  bytes: Uint8Array;
  /** How many bytes were dropped in total. */
  length: number;
}

export interface ParseResult<F> {
  frames: F[];
  rejects: FrameReject[];
}

export type FrameMatch<F> =
  | { kind: 'frame'; length: number; frame: F }
  /** Could still become a frame: wait for more bytes. */
  | { kind: 'more' }
  | { kind: 'invalid'; reason: Exclude<RejectReason, 'garbage' | 'truncated'> };

export interface FrameGrammar<F> {
  /** Longest frame of the protocol; the parser never holds more than this between pushes. */
  readonly maxFrameLength: number;
  isStart(byte: number): boolean;
  /** Looks at bytes that begin with a start byte. */
  match(bytes: Uint8Array): FrameMatch<F>;
}

/** Dropped bytes kept per reject, for logs; longer runs are only counted. */
const maxRejectBytes = 64;

export class StreamingFrameParser<F> {
  private pending: Uint8Array = new Uint8Array(0);

  constructor(private readonly grammar: FrameGrammar<F>) {}

  /** Bytes held back as the start of a frame not yet complete. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): ParseResult<F> {
    const bytes = concat(this.pending, chunk);
    const frames: F[] = [];
    const rejects: FrameReject[] = [];
    let dropStart = -1;
    let dropReason: RejectReason = 'garbage';
    const drop = (at: number, reason: RejectReason): void => {
      if (dropStart < 0) {
        dropStart = at;
        dropReason = reason;
      }
    };
    const endDrop = (at: number): void => {
      if (dropStart < 0) return;
      rejects.push(reject(dropReason, bytes.subarray(dropStart, at)));
      dropStart = -1;
    };

    let i = 0;
    while (i < bytes.length) {
      if (!this.grammar.isStart(bytes[i] as number)) {
        drop(i, 'garbage');
        i += 1;
        continue;
      }
      const m = this.grammar.match(bytes.subarray(i));
      if (m.kind === 'more') break;
      if (m.kind === 'invalid') {
        // Only the start byte is consumed: a genuine frame may begin inside the bad one.
        drop(i, m.reason);
        i += 1;
        continue;
      }
      endDrop(i);
      frames.push(m.frame);
      i += m.length;
    }
    endDrop(i);
    this.pending = bytes.slice(i);
    if (this.pending.length >= this.grammar.maxFrameLength) {
      // A grammar that keeps asking for more past its longest frame is a bug; never hoard bytes.
      rejects.push(reject('malformed', this.pending));
      this.pending = new Uint8Array(0);
    }
    return { frames, rejects };
  }

  /** Gives up on a partial frame (the reply timed out or the line went quiet). */
  flush(): FrameReject | undefined {
    if (this.pending.length === 0) return undefined;
    const r = reject('truncated', this.pending);
    this.pending = new Uint8Array(0);
    return r;
  }
}

function reject(reason: RejectReason, bytes: Uint8Array): FrameReject {
  return { code: ErrorCodes.FRAME_INVALID, reason, bytes: bytes.slice(0, maxRejectBytes), length: bytes.length };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Low byte of the sum of bytes [0, end): the Kerong checksum. */
export function sum8(bytes: Uint8Array, end = bytes.length): number {
  let s = 0;
  for (let i = 0; i < end; i++) s += bytes[i] as number;
  return s & 0xff;
}

/** XOR of bytes [0, end): the 8A checksum. */
export function xor8(bytes: Uint8Array, end = bytes.length): number {
  let x = 0;
  for (let i = 0; i < end; i++) x ^= bytes[i] as number;
  return x;
}

/** Bit n (0-based) of a little-endian bit field spread over bytes. */
export function bitAt(bytes: Uint8Array, n: number): boolean {
  const byte = bytes[n >> 3] ?? 0;
  return ((byte >> (n & 7)) & 1) === 1;
}

/** Packs booleans into a little-endian bit field of `byteCount` bytes (bit 0 of byte 0 first). */
export function packBits(bits: readonly boolean[], byteCount: number): Uint8Array {
  const out = new Uint8Array(byteCount);
  bits.forEach((on, n) => {
    if (on && n >> 3 < byteCount) out[n >> 3] = (out[n >> 3] as number) | (1 << (n & 7));
  });
  return out;
}

/** 'latched-high': a set hook bit means the hook holds the door; 'latched-low' (NO switches): the reverse. */
export function latchedFromBit(bit: boolean, polarity: BoardConfig['polarity']): boolean {
  return polarity === 'latched-high' ? bit : !bit;
}
