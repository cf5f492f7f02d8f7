// What every simulated lock board shares: it hears every byte on its bus (RS-485 is a shared
// pair), acts on frames addressed to it, and hands replies to the bus line. Reply faults and
// the hook-bit wiring are applied here the same way for every protocol.
import { type Clock } from '../../kernel/clock.js';
import { type BoardOptions as BoardConfig } from '../../hal/options.js';
import { type SimPosition, type SimWorld } from '../world.js';

export interface SimBoard {
  readonly address: number;
  /** Bytes on the bus from the host (any split). */
  hear(bytes: Uint8Array): void;
  /** Power cycle: forget a half-heard frame and pending work. */
  reset(): void;
}

export interface SimBoardOptions {
  /** Bus id as used in SimWorld positions. */
  bus: string;
  board: BoardConfig;
  world: SimWorld;
  clock: Clock;
  /** Puts a reply on the line; the bus serialises transmissions of all boards. */
  transmit: (bytes: Uint8Array) => void;
}

/** The hook microswitch bit a board reports for a lock, per the board's wiring (polarity). */
export function hookBit(world: SimWorld, position: SimPosition, polarity: BoardConfig['polarity']): boolean {
  if (!world.hasLock(position)) return false;
  const latched = world.lock(position).latched;
  return polarity === 'latched-high' ? latched : !latched;
}

export function itemBit(world: SimWorld, position: SimPosition): boolean {
  return world.hasLock(position) && world.lock(position).itemPresent;
}

/**
 * Applies the fault the world asks for to one reply. Garbling flips one data byte near the end
 * (any flipped byte breaks both the sum and the XOR checksum); truncating keeps the first half.
 */
export function applyReplyFault(world: SimWorld, bus: string, reply: Uint8Array): Uint8Array {
  const fault = world.takeReplyFault(bus);
  if (fault === 'truncate') return reply.slice(0, Math.ceil(reply.length / 2));
  if (fault === 'garble') {
    const out = reply.slice();
    const at = Math.max(1, out.length - 3);
    out[at] = (out[at] as number) ^ 0xff;
    return out;
  }
  return reply;
}

/** Energises locks one after another, as boards do for "unlock all" (never all at once). */
export function energiseInTurn(options: SimBoardOptions, locks: number[]): void {
  const { world, clock, bus, board } = options;
  locks.forEach((lock, i) => {
    const position = { bus, board: board.address, lock };
    if (!world.hasLock(position)) return;
    if (i === 0) world.energise(position, board.energiseMs);
    else clock.setTimeout(() => world.energise(position, board.energiseMs), i * board.energiseMs);
  });
}
