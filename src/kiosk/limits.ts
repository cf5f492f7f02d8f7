// Bounds of the kiosk's local HTTP surface: everything a stranger on the controller (or a web
// page in its browser) can reach is bounded in count, size, rate and time. The defaults suit one
// touchscreen; tests pass smaller ones to reach each bound by count.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';

export interface KioskLimits {
  /** Event streams without the terminal cookie (anything on loopback may open them). */
  publicStreams: number;
  /** Event streams of the paired kiosk terminal. */
  privateStreams: number;
  /** A stream whose unsent bytes pass this is dropped (its reader does not drain). */
  streamBufferBytes: number;
  maxConnections: number;
  /**
   * A connection with nothing in progress (no request begun, or between keep-alive requests)
   * ends after this long without a byte either way. Node's headersTimeout and requestTimeout
   * start only once a request has begun, so without it a silent socket holds a slot for ever.
   * Event streams are exempt: they are bounded by count and by their unsent bytes.
   */
  idleSocketTimeoutMs: number;
  headersTimeoutMs: number;
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  maxHeaderBytes: number;
  /** Token bucket of each login kind (courier badge, courier PIN, operator badge, pairing). */
  loginBurst: number;
  loginRefillPerSecond: number;
  /** Logins of one kind checked at the same time (signature checks, scrypt hashes). */
  loginConcurrency: number;
  /** Live sessions one badge subject (courier or operator) may hold; the oldest ends. */
  sessionsPerSubject: number;
  /** Live sessions of one book (couriers, operators); a full book refuses new logins. */
  maxSessions: number;
  /** Paired kiosk terminals held at once; a new pairing ends the oldest. */
  terminalPairings: number;
}

export const defaultKioskLimits: KioskLimits = {
  publicStreams: 16,
  privateStreams: 4,
  streamBufferBytes: 64 * 1024,
  maxConnections: 64,
  idleSocketTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  maxHeaderBytes: 8_192,
  loginBurst: 10,
  loginRefillPerSecond: 0.5,
  loginConcurrency: 2,
  sessionsPerSubject: 3,
  maxSessions: 128,
  terminalPairings: 4,
};

export function kioskLimits(overrides: Partial<KioskLimits> = {}): KioskLimits {
  const out: KioskLimits = { ...defaultKioskLimits };
  for (const [k, v] of Object.entries(overrides) as [keyof KioskLimits, unknown][]) {
    if (!(k in defaultKioskLimits)) throw new LockerError(ErrorCodes.CONFIG_INVALID, `unknown kiosk limit ${String(k)}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new LockerError(ErrorCodes.CONFIG_INVALID, `kiosk limit ${String(k)} must be a positive number`);
    out[k] = v;
  }
  return out;
}

/**
 * A token bucket plus a bound on work in flight, for an unauthenticated path that costs a
 * signature check or a hash. Refused calls get RATE_LIMITED with retryAfterMs.
 */
export class LoginGate {
  private tokens: number;
  private last: number;
  private inFlight = 0;

  constructor(
    private readonly clock: Clock,
    private readonly burst: number,
    private readonly refillPerSecond: number,
    private readonly concurrency: number,
  ) {
    this.tokens = burst;
    this.last = clock.monotonic();
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    this.refill();
    if (this.inFlight >= this.concurrency) throw rateLimited(1_000);
    if (this.tokens < 1) throw rateLimited(Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000));
    this.tokens -= 1;
    this.inFlight += 1;
    try {
      return await fn();
    } finally {
      this.inFlight -= 1;
    }
  }

  private refill(): void {
    const now = this.clock.monotonic();
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.refillPerSecond);
    this.last = now;
  }
}

function rateLimited(retryAfterMs: number): LockerError {
  return new LockerError(ErrorCodes.RATE_LIMITED, 'too many attempts; wait a moment', { retryAfterMs: Math.max(1_000, Math.min(retryAfterMs, 3_600_000)) });
}
