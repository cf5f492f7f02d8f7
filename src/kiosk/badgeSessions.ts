// Which live kiosk sessions were opened with which badge, so a revocation pushed by a carrier
// or the operator ends them at once (not only at the next login). Bounded: entries go when the
// badge expires, and when the index is full the oldest session is ended, not forgotten, so a
// revocation can never miss a session that is still open.
import type { Clock } from '../../kernel/clock.js';
import { revocationCovers, type BadgeRef } from '../credentials/badgeRevocations.js';
import type { RevocationRow } from '../store/lockerStore.js';

interface Entry {
  badge: BadgeRef;
  expiresAt: number;
  end: () => void;
}

export const MAX_BADGE_SESSIONS = 4096;

export class BadgeSessionIndex {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly max = MAX_BADGE_SESSIONS,
  ) {}

  /** Remembers a session opened with a badge; end() closes it. */
  track(token: string, badge: BadgeRef, expiresAt: number, end: () => void): void {
    this.sweep();
    while (this.entries.size >= this.max) {
      const [oldest, entry] = this.entries.entries().next().value ?? [];
      if (oldest === undefined || entry === undefined) break;
      this.entries.delete(oldest);
      entry.end();
    }
    this.entries.set(token, { badge, expiresAt, end });
  }

  /** Ends every tracked session whose badge the entry covers; returns how many. */
  endCovered(row: RevocationRow): number {
    let n = 0;
    for (const [token, e] of this.entries) {
      if (!revocationCovers(row, e.badge)) continue;
      this.entries.delete(token);
      e.end();
      n++;
    }
    return n;
  }

  get size(): number {
    return this.entries.size;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [token, e] of this.entries) if (now >= e.expiresAt) this.entries.delete(token);
  }
}
