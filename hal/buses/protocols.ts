// One adapter per lock-board family, so the bus itself knows nothing about frame layouts: an
// adapter turns "status of board 3" or "unlock lock 5" into a request (frame, what reply to wait
// for, how long), and turns received bytes into protocol-neutral replies with the board's
// polarity and sensors already applied.
import { BOARD_LIMITS } from '../../kernel/protocolLimits.js';
import { type BoardOptions as BoardConfig, type SerialBusOptions as SerialBusConfig } from '../options.js';
import { type ErrorCode, ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type LockReading } from '../types.js';
import { type FrameReject } from '../codecs/frameParser.js';
import { G8A_STATE_OPEN, G8A_BAUD_RATES, G8aReplyParser, decode8aStatus, encode8aQueryAll, encode8aUnlock, g8aStatusReplyLength } from '../codecs/generic8a.js';
import { CU16_BAUD_RATES, Cu16FrameParser, decodeCu16Status, encodeCu16Status, encodeCu16Unlock } from '../codecs/kerongCu16.js';
import { CU48_BAUD_RATES, Cu48FrameParser, decodeCu48Status, encodeCu48Status, encodeCu48Unlock } from '../codecs/kerongCu48.js';

export type BusReply =
  | { kind: 'status'; board: number; locks: LockReading[] }
  /** 8A boards answer an unlock once the lock moved; `opened` is the board's own verdict. */
  | { kind: 'unlock-ack'; board: number; lock: number; opened: boolean }
  /** A valid frame the bus did not ask for (an unconfigured board, an echoed host frame). */
  | { kind: 'other'; description: string };

export interface ReplyWait {
  match(reply: BusReply): boolean;
  timeoutMs: number;
  /** Code of the error when nothing usable came back in time. */
  timeoutCode: ErrorCode;
  /** Length of the awaited reply frame, for protocols that cannot tell it from the bytes. */
  length?: number;
}

export interface BusRequest {
  frame: Uint8Array;
  /** For logs and errors: "status board 1", "unlock board 0 lock 5". */
  what: string;
  board: number;
  /** Absent: the board sends nothing back (Kerong unlock); done once written. */
  reply?: ReplyWait;
}

export interface ReplyDecoder {
  push(chunk: Uint8Array): { replies: BusReply[]; rejects: FrameReject[] };
  /** Drops a partial frame (the wait is over); returns it as a reject. */
  flush(): FrameReject | undefined;
  /** Announces the reply now awaited (see ReplyWait.length). */
  expect(length: number | undefined): void;
}

export interface LockBoardProtocol {
  readonly name: SerialBusConfig['protocol'];
  /** Line speeds the boards use, the usual one first (the probing order). */
  readonly baudRates: readonly number[];
  /** True when unlock waits for the board's reply rather than only for the write. */
  readonly unlockAwaitsReply: boolean;
  createDecoder(): ReplyDecoder;
  statusRequest(board: BoardConfig): BusRequest;
  unlockRequest(board: BoardConfig, lock: number): BusRequest;
}

type Timing = Pick<SerialBusConfig, 'replyTimeoutMs'>;

const familyBaudRates: Record<SerialBusConfig['protocol'], readonly number[]> = {
  'kerong-cu16': CU16_BAUD_RATES,
  'kerong-cu48': CU48_BAUD_RATES,
  'generic-8a': G8A_BAUD_RATES,
};

function statusWait(board: number, timing: Timing, length?: number): ReplyWait {
  return {
    match: (r) => r.kind === 'status' && r.board === board,
    timeoutMs: timing.replyTimeoutMs,
    timeoutCode: ErrorCodes.BOARD_SILENT,
    length,
  };
}

function boardsByAddress(config: SerialBusConfig): Map<number, BoardConfig> {
  return new Map(config.boards.map((b) => [b.address, b]));
}

function kerongCu16(config: SerialBusConfig): LockBoardProtocol {
  const boards = boardsByAddress(config);
  return {
    name: 'kerong-cu16',
    baudRates: familyBaudRates['kerong-cu16'],
    unlockAwaitsReply: false,
    createDecoder() {
      const parser = new Cu16FrameParser();
      return {
        push(chunk) {
          const { frames, rejects } = parser.push(chunk);
          const replies = frames.map((f): BusReply => {
            const board = f.type === 'status-reply' ? boards.get(f.board) : undefined;
            if (f.type === 'status-reply' && board) return { kind: 'status', board: board.address, locks: decodeCu16Status(f, board) };
            return { kind: 'other', description: `${f.type}${'board' in f ? ` board ${f.board}` : ''}` };
          });
          return { replies, rejects };
        },
        flush: () => parser.flush(),
        expect: () => undefined,
      };
    },
    statusRequest: (b) => ({ frame: encodeCu16Status(b.address), what: `status board ${b.address}`, board: b.address, reply: statusWait(b.address, config) }),
    unlockRequest: (b, lock) => ({ frame: encodeCu16Unlock(b.address, lock), what: `unlock board ${b.address} lock ${lock}`, board: b.address }),
  };
}

function kerongCu48(config: SerialBusConfig): LockBoardProtocol {
  const boards = boardsByAddress(config);
  return {
    name: 'kerong-cu48',
    baudRates: familyBaudRates['kerong-cu48'],
    unlockAwaitsReply: false,
    createDecoder() {
      const parser = new Cu48FrameParser();
      return {
        push(chunk) {
          const { frames, rejects } = parser.push(chunk);
          const replies = frames.map((f): BusReply => {
            const board = f.type === 'status-reply' ? boards.get(f.board) : undefined;
            if (f.type === 'status-reply' && board) return { kind: 'status', board: board.address, locks: decodeCu48Status(f, board) };
            return { kind: 'other', description: `${f.type} board ${f.board}` };
          });
          return { replies, rejects };
        },
        flush: () => parser.flush(),
        expect: () => undefined,
      };
    },
    statusRequest: (b) => ({ frame: encodeCu48Status(b.address), what: `status board ${b.address}`, board: b.address, reply: statusWait(b.address, config) }),
    unlockRequest: (b, lock) => ({ frame: encodeCu48Unlock(b.address, lock), what: `unlock board ${b.address} lock ${lock}`, board: b.address }),
  };
}

function generic8a(config: SerialBusConfig): LockBoardProtocol {
  const boards = boardsByAddress(config);
  return {
    name: 'generic-8a',
    baudRates: familyBaudRates['generic-8a'],
    unlockAwaitsReply: true,
    createDecoder() {
      const parser = new G8aReplyParser();
      return {
        push(chunk) {
          const { frames, rejects } = parser.push(chunk);
          const replies = frames.map((f): BusReply => {
            if (f.type === 'short-reply') return { kind: 'unlock-ack', board: f.board, lock: f.lock, opened: f.state === G8A_STATE_OPEN };
            const board = f.type === 'status-reply' ? boards.get(f.board) : undefined;
            if (f.type === 'status-reply' && board) return { kind: 'status', board: board.address, locks: decode8aStatus(f, board) };
            return { kind: 'other', description: f.type };
          });
          return { replies, rejects };
        },
        flush: () => parser.flush(),
        expect: (length) => parser.expect(length),
      };
    },
    statusRequest: (b) => ({
      frame: encode8aQueryAll(b.address),
      what: `status board ${b.address}`,
      board: b.address,
      reply: statusWait(b.address, config, g8aStatusReplyLength(b.locks)),
    }),
    unlockRequest: (b, lock) => ({
      frame: encode8aUnlock(b.address, lock),
      what: `unlock board ${b.address} lock ${lock}`,
      board: b.address,
      reply: {
        match: (r) => r.kind === 'unlock-ack' && r.board === b.address && r.lock === lock,
        // The board answers only after the lock has moved (about a second on real boards).
        timeoutMs: b.energiseMs + config.replyTimeoutMs,
        timeoutCode: ErrorCodes.BUS_TIMEOUT,
        length: 5,
      },
    }),
  };
}

/** The adapter for a bus's board family; throws CONFIG_INVALID for boards the family cannot address. */
export function createLockBoardProtocol(config: SerialBusConfig): LockBoardProtocol {
  // The schema refuses these already (with paths); a config built in code gets the same check.
  const limit = BOARD_LIMITS[config.protocol];
  const seen = new Set<number>();
  for (const b of config.boards) {
    if (b.address < limit.minAddress || b.address > limit.maxAddress)
      throw new LockerError(ErrorCodes.CONFIG_INVALID, `bus ${config.id}: ${config.protocol} board address ${b.address} is outside ${limit.minAddress}-${limit.maxAddress}`, { bus: config.id });
    if (b.locks > limit.maxLocks)
      throw new LockerError(ErrorCodes.CONFIG_INVALID, `bus ${config.id}: ${config.protocol} boards have at most ${limit.maxLocks} locks (board ${b.address} has ${b.locks})`, { bus: config.id });
    if (seen.has(b.address)) throw new LockerError(ErrorCodes.CONFIG_INVALID, `bus ${config.id}: board ${b.address} is configured twice`, { bus: config.id });
    seen.add(b.address);
  }
  switch (config.protocol) {
    case 'kerong-cu16':
      return kerongCu16(config);
    case 'kerong-cu48':
      return kerongCu48(config);
    case 'generic-8a':
      return generic8a(config);
  }
}

/** The baud rate to open a serial bus at: the configured one, else the family's usual rate. */
export function busBaudRate(config: Pick<SerialBusConfig, 'protocol' | 'transport'>): number {
  if (config.transport.kind === 'serial' && config.transport.baudRate !== undefined) return config.transport.baudRate;
  return familyBaudRates[config.protocol][0] as number;
}
