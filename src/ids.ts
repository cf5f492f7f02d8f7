// Identifiers: ULIDs for envelopes, parcels, transactions and boots. Time comes from the
// injected Clock and the random part from the injected RandomSource, so tests get stable ids.
import { decodeTime, isValid, monotonicFactory } from 'ulid';
import type { Clock } from '../kernel/clock.js';
import type { RandomSource } from '../kernel/random.js';

export type IdFactory = () => string;

/** How many random bytes are fetched at once; ULID consumes one byte per character. */
const POOL_SIZE = 64;

/**
 * A ULID generator. Ids from one factory are strictly increasing, also for several ids in the
 * same millisecond and when the wall clock steps backwards (the last time is kept and the random
 * part incremented), so the order of ids is the order of creation within one process.
 */
export function createIdFactory(clock: Clock, random: RandomSource): IdFactory {
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  // ulid maps a fraction in [0,1) to one of 32 characters; 256 is a multiple of 32, so byte/256 is unbiased.
  const prng = (): number => {
    if (used >= pool.length) {
      pool = random.bytes(POOL_SIZE);
      used = 0;
    }
    return (pool[used++] ?? 0) / 256;
  };
  const next = monotonicFactory(prng);
  // ulid treats a seed time of 0 as "use Date.now()", which would bypass the injected clock.
  return () => next(Math.max(1, Math.floor(clock.now())));
}

/** A fresh id for this run of the process, carried in presence messages and every envelope. */
export function newBootId(clock: Clock, random: RandomSource): string {
  return createIdFactory(clock, random)();
}

export function isUlid(value: string): boolean {
  return isValid(value);
}

/** The millisecond timestamp encoded in a ULID. */
export function ulidTime(id: string): number {
  return decodeTime(id);
}
