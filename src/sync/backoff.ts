// Reconnect delays: exponential backoff with full jitter. A fleet of lockers that lose the
// broker at the same moment must not come back at the same moment, so each delay is drawn
// uniformly from [0, min(max, base * 2^attempt)] rather than being the cap itself.
import { randomFraction, type RandomSource } from '../random.js';

export interface BackoffOptions {
  /** First cap, in ms (MqttConfig.reconnectMinMs). */
  baseMs: number;
  /** Largest cap, in ms (MqttConfig.reconnectMaxMs). */
  maxMs: number;
  random: RandomSource;
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
    if (this.cap() < this.options.maxMs) this.attempt++;
    return Math.floor(randomFraction(this.options.random) * (cap + 1));
  }

  /** Call once a connection has succeeded. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
