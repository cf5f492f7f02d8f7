// The pickup_extensions table (migration 6): how often and by how many hours a consumer has
// extended a stored parcel's pickup time at the kiosk. The new expires_at is a compare-and-set
// on the old one and on `stored`, so an extension racing a pickup or the expiry sweep changes
// nothing. Callers run extend() inside the EventRecorder's transaction.
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Db } from './database.js';

export interface ExtensionRecord {
  times: number;
  hours: number;
  extendedAt: number;
}

export class PickupExtensionStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare<[string], { times: number; hours: number; extended_at: number }>('SELECT times, hours, extended_at FROM pickup_extensions WHERE parcel_id = ?'),
      setExpiry: db.prepare<[number, string, number]>("UPDATE parcels SET expires_at = ? WHERE id = ? AND state = 'stored' AND expires_at = ?"),
      upsert: db.prepare<[{ id: string; hours: number; now: number }]>(
        `INSERT INTO pickup_extensions (parcel_id, times, hours, extended_at) VALUES (@id, 1, @hours, @now)
         ON CONFLICT(parcel_id) DO UPDATE SET times = times + 1, hours = hours + @hours, extended_at = @now`,
      ),
    };
  }

  of(parcelId: string): ExtensionRecord {
    const r = this.stmts.get.get(parcelId);
    return r ? { times: r.times, hours: r.hours, extendedAt: r.extended_at } : { times: 0, hours: 0, extendedAt: 0 };
  }

  /** Moves expires_at from `from` to `to` and counts the extension; TRANSACTION_STATE if the parcel moved on. */
  extend(parcelId: string, from: number, to: number, hours: number, now: number): void {
    if (this.stmts.setExpiry.run(to, parcelId, from).changes !== 1)
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, `parcel ${parcelId} is no longer stored with this pickup time; nothing was changed`, { parcelId });
    this.stmts.upsert.run({ id: parcelId, hours, now });
  }
}

/** The parcel_needs table (migration 6): reservations that require a low compartment. */
export class ParcelNeedsStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare<[string], { requires_low: number }>('SELECT requires_low FROM parcel_needs WHERE parcel_id = ?'),
      put: db.prepare<[string]>('INSERT OR REPLACE INTO parcel_needs (parcel_id, requires_low) VALUES (?, 1)'),
    };
  }

  requiresLow(parcelId: string): boolean {
    return this.stmts.get.get(parcelId)?.requires_low === 1;
  }

  /** Run inside the transaction that inserts the parcel. */
  requireLow(parcelId: string): void {
    this.stmts.put.run(parcelId);
  }
}
