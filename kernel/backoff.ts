// Retry delays, one formula for every reconnect loop: the MQTT connection, a lost serial line
// and an unplugged scanner. Exponential with equal jitter: the cap doubles per failed attempt
// up to maxMs, and each delay is drawn uniformly from [cap/2, cap] and never below baseMs. At
// least half the cap, so a flapping device or broker still backs off; spread over the other
// half, so a fleet that lost power or the broker at the same moment does not come back in step.
// The random draw is injected (no Math.random anywhere): `fraction` returns a uniform [0, 1).

export interface BackoffOptions {
  /** First cap, in ms. */
  baseMs: number;
  /** Largest cap, in ms. */
  maxMs: number;
  /** A uniform draw from [0, 1). */
  fraction: () => number;
}

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.baseMs > 0) || !(options.maxMs >= options.baseMs)) {
      throw new RangeError(`backoff needs 0 < baseMs <= maxMs, got ${options.baseMs} and ${options.maxMs}`);
    }
  }

  /** The cap for the coming attempt, before jitter. */
  cap(): number {
    // 2^attempt overflows to Infinity long after the cap is reached; min() keeps it finite.
    return Math.min(this.options.maxMs, this.options.baseMs * 2 ** this.attempt);
  }

  /** The delay before the next attempt; each call counts as one more failed attempt. */
  next(): number {
    const cap = this.cap();
    if (cap < this.options.maxMs) this.attempt++;
    const f = Math.min(Math.max(this.options.fraction(), 0), 1);
    return Math.max(this.options.baseMs, Math.round(cap / 2 + (f * cap) / 2));
  }

  /** Call once a connection has succeeded. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
