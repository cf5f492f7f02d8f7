// Randomness as an injected service. Production passes cryptoRandom(); tests pass
// seededRandom(seed) so generated codes, salts and ids repeat from run to run.
import { createHash, randomBytes } from 'node:crypto';

export interface RandomSource {
  /** n fresh random bytes. */
  bytes(n: number): Uint8Array;
}

/** The operating system's CSPRNG. The only source allowed for codes, salts and secrets in production. */
export function cryptoRandom(): RandomSource {
  return {
    bytes(n: number): Uint8Array {
      return new Uint8Array(randomBytes(n));
    },
  };
}

/**
 * A deterministic stream for tests and simulations: SHA-256 in counter mode over the seed.
 * Statistically good enough for distribution tests; never use it to protect anything.
 */
export function seededRandom(seed: number | string): RandomSource {
  const seedBytes = Buffer.from(`lockerd-seeded:${String(seed)}`, 'utf8');
  let counter = 0;
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  const refill = (): void => {
    const block = Buffer.alloc(8);
    block.writeBigUInt64BE(BigInt(counter++));
    pool = new Uint8Array(createHash('sha256').update(seedBytes).update(block).digest());
    used = 0;
  };
  return {
    bytes(n: number): Uint8Array {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (used >= pool.length) refill();
        out[i] = pool[used++] ?? 0;
      }
      return out;
    },
  };
}

/** A uniform integer in [0, bound) without modulo bias, for bounds up to 2^32. */
export function randomInt(random: RandomSource, bound: number): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) throw new RangeError(`randomInt bound must be an integer in 1..2^32, got ${bound}`);
  // Accept only values below the largest multiple of bound, so every residue is equally likely.
  const limit = 2 ** 32 - (2 ** 32 % bound);
  for (;;) {
    const b = random.bytes(4);
    const v = ((b[0] ?? 0) * 2 ** 24 + ((b[1] ?? 0) << 16) + ((b[2] ?? 0) << 8) + (b[3] ?? 0)) >>> 0;
    if (v < limit) return v % bound;
  }
}

/** A uniform float in [0, 1) with 53 random bits, e.g. for backoff jitter. */
export function randomFraction(random: RandomSource): number {
  const b = random.bytes(7);
  const byte = (i: number): number => b[i] ?? 0;
  // 21 high bits and 32 low bits: exactly a double's 53-bit mantissa, so the top is 1 - 2^-53.
  const high = (byte(0) << 13) | (byte(1) << 5) | (byte(2) >>> 3);
  const low = ((byte(3) << 24) | (byte(4) << 16) | (byte(5) << 8) | byte(6)) >>> 0;
  return (high * 2 ** 32 + low) / 2 ** 53;
}
