// Pickup and drop-off codes at the locker: issuing unique codes and pickup QR tokens, redeeming
// typed or scanned ones, and the keypad budget (scope 'keypad' of budgetLedger.ts).
// Codes and tokens exist only as HMAC digests in the database; plaintext lives only in memory.
//
// The keypad budget is a token bucket for the whole locker (attemptBudget.ts): a wrong typed
// code takes a try, nothing but time gives one back, and with no try left every typed code is
// refused. A pickup QR token ("LK2:...", 128 bits) never touches that budget: it cannot be
// guessed, so a prankster who empties the keypad does not shut the locker (issue 7, finding 8).
import { type Clock } from '../../kernel/clock.js';
import { type LockerConfig } from '../config/schema.js';
import { type BudgetLedger } from '../codes/budgetLedger.js';
import { codeDigest, generateCode, normaliseCodeInput } from '../codes/pickupCode.js';
import { generatePickupToken, isPickupTokenInput, normalisePickupToken, pickupTokenDigest } from '../codes/pickupToken.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type RandomSource } from '../../kernel/random.js';
import { type LockerStore, type ParcelRow, type ParcelState } from '../store/lockerStore.js';
import { type GroupRef, ParcelGroupStore } from '../store/parcelGroups.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events } from './events.js';
import { type Live } from './liveSettings.js';

export const KEYPAD_SCOPE = 'keypad';

/** How long a used-up code is still told apart from a wrong one ("already collected"). */
export const SPENT_CODE_KNOWN_MS = 7 * 24 * 3_600_000;

export interface KeypadLockout {
  lockedOut: boolean;
  retryAfterMs: number;
  /** Typed codes that may be tried now. */
  failuresLeft: number;
}

export class CodeVault {
  /** Grouped parcels' shared codes (issue 11, flow 2), digests like the parcels' own. */
  readonly groups: ParcelGroupStore;

  constructor(
    private readonly store: LockerStore,
    private readonly recorder: EventRecorder,
    /** Read at every use: a remote setConfig takes effect at the next code. */
    private readonly settings: Live<LockerConfig['codes']>,
    private readonly secret: Uint8Array,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly budgets: BudgetLedger,
    /** The number of compartments, the default bound on live codes. */
    private readonly compartmentCount: () => number,
    private readonly onLockout: (retryAfterMs: number) => void = () => {},
  ) {
    this.groups = new ParcelGroupStore(store.db);
  }

  get codeLength(): number {
    return this.settings.get().length;
  }

  /** The bound on live codes the keypad maths assumes (codes.maxLiveCodes, default the compartment count). */
  get maxLiveCodes(): number {
    return this.settings.get().maxLiveCodes ?? Math.max(1, this.compartmentCount());
  }

  lockout(): KeypadLockout {
    const c = this.budgets.check(KEYPAD_SCOPE, this.settings.get());
    return c.allowed ? { lockedOut: false, retryAfterMs: 0, failuresLeft: c.left } : { lockedOut: true, retryAfterMs: c.retryAfterMs, failuresLeft: 0 };
  }

  /**
   * Finds the live parcel a typed code or scanned pickup QR token belongs to. A wrong typed code
   * takes a try from the keypad budget; a code that exists but is not usable here (expired, not
   * delivered yet) is refused by `reject` without one, since guessing it was not needed. A token
   * needs no budget: a wrong one is CODE_UNKNOWN and costs nothing.
   */
  redeem(raw: string, accept: readonly ParcelState[], reject: (p: ParcelRow) => LockerError | undefined, onGroup?: (g: GroupRef) => ParcelRow): ParcelRow {
    if (isPickupTokenInput(raw)) return this.redeemToken(raw, accept);
    const locked = this.lockout();
    if (locked.lockedOut) throw this.lockedOutError(locked.retryAfterMs);
    const code = normaliseCodeInput(raw, this.settings.get().length);
    const parcel = this.store.parcelByDigest(codeDigest(this.secret, code));
    if (parcel && accept.includes(parcel.state)) return parcel;
    // A grouped code is a right code (no try taken): the caller picks the member to open.
    const group = parcel ? undefined : this.groups.byDigest(codeDigest(this.secret, code));
    if (group) {
      // A pickup opens the group's next door; an extension extends every member (pickupExtensions.ts).
      if (onGroup) return onGroup(group);
      throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this is a pickup code: choose "Collect a parcel"', { reason: 'pickup_code' });
    }
    const refusal = parcel ? reject(parcel) : undefined;
    if (refusal) throw refusal;
    this.recordFailure();
    const after = this.lockout();
    if (after.lockedOut) throw this.lockedOutError(after.retryAfterMs);
    // A code whose parcel left the locker lately (issue 11, defect 2) still takes a try, but says so.
    if (!parcel && this.store.spentParcelByDigest(codeDigest(this.secret, code), this.clock.now() - SPENT_CODE_KNOWN_MS))
      throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code was already used: the parcel has been collected', { failuresLeft: after.failuresLeft, reason: 'already_collected' });
    throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code is not valid here', { failuresLeft: after.failuresLeft });
  }

  private redeemToken(raw: string, accept: readonly ParcelState[]): ParcelRow {
    const token = normalisePickupToken(raw);
    if (!accept.includes('stored')) throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this is a pickup QR code: choose "Collect a parcel"', { reason: 'pickup_token' });
    const parcel = this.store.parcelByTokenDigest(pickupTokenDigest(this.secret, token));
    if (!parcel) throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this pickup QR code is not valid here', { reason: 'token_unknown' });
    if (!accept.includes(parcel.state)) throw new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcel goes back to the carrier');
    return parcel;
  }

  newUniqueCode(): string {
    for (let i = 0; i < 100; i++) {
      const code = generateCode(this.settings.get().length, this.random);
      const digest = codeDigest(this.secret, code);
      if (!this.store.parcelByDigest(digest) && !this.groups.byDigest(digest)) return code;
    }
    throw new LockerError(ErrorCodes.INTERNAL, 'could not find an unused code; raise codes.length');
  }

  /** A fresh pickup QR token and the digest to store with the parcel. */
  newPickupToken(): { token: string; digest: string } {
    const token = generatePickupToken(this.random);
    return { token, digest: pickupTokenDigest(this.secret, token) };
  }

  /** The digest to store for a code; with `unique`, refuses a code already in use here. */
  digestOf(code: string, unique: boolean): string {
    const digest = codeDigest(this.secret, normaliseCodeInput(code, code.length));
    if (unique && (this.store.parcelByDigest(digest) || this.groups.byDigest(digest))) throw new LockerError(ErrorCodes.INPUT_INVALID, 'this code is already in use at this locker; choose another');
    return digest;
  }

  /**
   * Refuses (CODE_CAPACITY) when `adding` more live codes, on top of those recorded and
   * `pending` ones about to be (placements in progress), would exceed maxLiveCodes.
   */
  assertCapacity(adding: number, pending = 0): void {
    const live = this.store.liveCodeCount() + this.groups.liveCount() + pending;
    if (live + adding > this.maxLiveCodes) {
      throw new LockerError(ErrorCodes.CODE_CAPACITY, `this locker already holds ${live} live codes, its limit is ${this.maxLiveCodes} (codes.maxLiveCodes)`, {
        live,
        limit: this.maxLiveCodes,
      });
    }
  }

  private recordFailure(): void {
    const cfg = this.settings.get();
    const out = this.budgets.take(KEYPAD_SCOPE, cfg);
    if (!out) return;
    if (out.alarm) {
      const retryAfterMs = this.lockout().retryAfterMs;
      const data = { retryAfterMs, burst: cfg.burst, refillPerHour: cfg.refillPerHour };
      this.recorder.commit({ actor: 'consumer', action: 'alarm.code_lockout', data, events: [Events.codeLockout({ ...data, at: this.clock.now() })] }, out.persist);
      this.onLockout(retryAfterMs);
    } else {
      this.store.transaction(out.persist);
    }
  }

  private lockedOutError(retryAfterMs: number): LockerError {
    return new LockerError(ErrorCodes.CODE_LOCKED_OUT, `too many wrong codes; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
