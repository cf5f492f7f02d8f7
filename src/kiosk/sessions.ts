// Kiosk log-in sessions for couriers and operators: random bearer tokens held in memory only
// (a restart logs everybody out, which is what a shared screen wants), ending after
// sessionIdleMs without a request or when the badge expires.
import { type Clock } from '../clock.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type RandomSource } from '../random.js';

interface Session<T> {
  subject: T;
  lastSeen: number;
  expiresAt: number;
}

export class SessionBook<T> {
  private readonly sessions = new Map<string, Session<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly idleMs: number,
  ) {}

  open(subject: T, badgeExpiresAt = Number.POSITIVE_INFINITY): { token: string; expiresAt: number } {
    this.sweep();
    const token = Buffer.from(this.random.bytes(24)).toString('base64url');
    const now = this.clock.now();
    this.sessions.set(token, { subject, lastSeen: now, expiresAt: badgeExpiresAt });
    return { token, expiresAt: Math.min(badgeExpiresAt, now + this.idleMs) };
  }

  /** The subject of a live session; refreshes its idle timer. */
  get(authorization: string | undefined): T {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new LockerError(ErrorCodes.NOT_AUTHENTICATED, 'log in first');
    const s = this.sessions.get(token);
    const now = this.clock.now();
    if (!s) throw new LockerError(ErrorCodes.NOT_AUTHENTICATED, 'log in first');
    if (now - s.lastSeen > this.idleMs || now >= s.expiresAt) {
      this.sessions.delete(token);
      throw new LockerError(ErrorCodes.SESSION_EXPIRED, 'the session ended; log in again');
    }
    s.lastSeen = now;
    return s.subject;
  }

  close(authorization: string | undefined): void {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (token) this.sessions.delete(token);
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [t, s] of this.sessions) if (now - s.lastSeen > this.idleMs || now >= s.expiresAt) this.sessions.delete(t);
  }
}
