// Kiosk log-in sessions for couriers and operators: random bearer tokens held in memory only
// (a restart logs everybody out, which is what a shared screen wants), ending after
// sessionIdleMs without a request or when the badge expires. One badge subject holds at most
// perSubject sessions (a new log-in ends its oldest); the book holds at most max sessions and
// refuses new log-ins when full rather than end someone else's.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type RandomSource } from '../../kernel/random.js';

interface Session<T> {
  subject: T;
  key: string;
  /** Monotonic time of the last request: the idle timeout is a duration, not a date. */
  lastSeen: number;
  /** The badge's expiry, a wall time. */
  expiresAt: number;
}

export interface SessionBookLimits {
  perSubject: number;
  max: number;
}

export class SessionBook<T> {
  private readonly sessions = new Map<string, Session<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly idleMs: number,
    private readonly limits: SessionBookLimits = { perSubject: 3, max: 128 },
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** key names the badge subject (carrier/courier, operator) the per-subject cap counts by. */
  open(subject: T, key: string, badgeExpiresAt = Number.POSITIVE_INFINITY): { token: string; expiresAt: number } {
    this.sweep();
    const mine = [...this.sessions].filter(([, s]) => s.key === key);
    for (let i = 0; i <= mine.length - this.limits.perSubject; i++) {
      const oldest = mine[i];
      if (oldest) this.sessions.delete(oldest[0]);
    }
    if (this.sessions.size >= this.limits.max) throw new LockerError(ErrorCodes.SESSIONS_FULL, 'too many sessions are open; try again later', { retryAfterMs: this.idleMs });
    const token = Buffer.from(this.random.bytes(24)).toString('base64url');
    const now = this.clock.now();
    this.sessions.set(token, { subject, key, lastSeen: this.clock.monotonic(), expiresAt: badgeExpiresAt });
    return { token, expiresAt: Math.min(badgeExpiresAt, now + this.idleMs) };
  }

  /** The subject of a live session; refreshes its idle timer. */
  get(authorization: string | undefined): T {
    const token = bearer(authorization);
    if (!token) throw new LockerError(ErrorCodes.NOT_AUTHENTICATED, 'log in first');
    const s = this.sessions.get(token);
    if (!s) throw new LockerError(ErrorCodes.NOT_AUTHENTICATED, 'log in first');
    if (this.ended(s)) {
      this.sessions.delete(token);
      throw new LockerError(ErrorCodes.SESSION_EXPIRED, 'the session ended; log in again');
    }
    s.lastSeen = this.clock.monotonic();
    return s.subject;
  }

  /** The subject of a live session by its bare token, without refreshing it. */
  peek(token: string): T | undefined {
    const s = this.sessions.get(token);
    if (!s || this.ended(s)) return undefined;
    return s.subject;
  }

  close(authorization: string | undefined): void {
    const token = bearer(authorization);
    if (token) this.sessions.delete(token);
  }

  private sweep(): void {
    for (const [t, s] of this.sessions) if (this.ended(s)) this.sessions.delete(t);
  }

  /** Idle for longer than idleMs (monotonic), or past the badge's expiry (wall clock). */
  private ended(s: Session<T>): boolean {
    return this.clock.monotonic() - s.lastSeen > this.idleMs || this.clock.now() >= s.expiresAt;
  }
}

export function bearer(authorization: string | undefined): string | undefined {
  return /^Bearer (\S{1,512})$/.exec(authorization ?? '')?.[1];
}
