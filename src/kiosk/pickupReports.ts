// "Report a problem" right after a pickup (issue 11, flow 3). A pickup the kiosk opened gets a
// random handle (the reply's `report` secret); with it, and only within the grace period, the
// screen may report one problem about that parcel, or ask once to reopen a door that closed too
// early. Held in memory only, bounded in count: the oldest handle goes first.
import { type Clock } from '../../kernel/clock.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type RandomSource } from '../../kernel/random.js';
import { timingSafeEqual } from 'node:crypto';

interface Held {
  parcelId: string;
  secret: string;
  /** Monotonic ms of the pickup. */
  at: number;
  used: boolean;
}

export class PickupReports {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly graceMs: number,
    private readonly max = 16,
  ) {}

  /** A handle for the pickup just opened (door session id); returns its secret. */
  open(sessionId: string, parcelId: string): string {
    const secret = Buffer.from(this.random.bytes(24)).toString('base64url');
    this.held.delete(sessionId);
    this.held.set(sessionId, { parcelId, secret, at: this.clock.monotonic(), used: false });
    while (this.held.size > this.max) this.held.delete(this.held.keys().next().value as string);
    return secret;
  }

  /** The parcel a report is about; refused without the right secret, after the grace period or a second time. */
  take(sessionId: string, secret: string | undefined): string {
    const h = this.held.get(sessionId);
    if (!h || !secret || !same(h.secret, secret)) throw new LockerError(ErrorCodes.NOT_FOUND, `no pickup ${sessionId.slice(0, 64)} to report on`);
    if (this.clock.monotonic() - h.at > this.graceMs) {
      this.held.delete(sessionId);
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'too late to report on this pickup here: call the carrier', { reason: 'grace_passed' });
    }
    if (h.used) throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'a problem was already reported for this pickup', { reason: 'reported' });
    h.used = true;
    return h.parcelId;
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
