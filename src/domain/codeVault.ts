// Pickup and drop-off codes at the locker: issuing unique codes, redeeming typed or scanned
// ones, and the failed-attempt budget that survives restarts (table code_attempts).
// Codes exist only as HMAC digests in the database; a plaintext code lives only in memory.
import { type Clock } from '../clock.js';
import { type LockerConfig } from '../config/schema.js';
import { check, failuresLeft, recordFailure, recordSuccess } from '../codes/attemptBudget.js';
import { codeDigest, generateCode, normaliseCodeInput } from '../codes/pickupCode.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type RandomSource } from '../random.js';
import { type LockerStore, type ParcelRow, type ParcelState } from '../store/lockerStore.js';
import { type EventRecorder } from './eventRecorder.js';

const SCOPE = 'keypad';

export class CodeVault {
  constructor(
    private readonly store: LockerStore,
    private readonly recorder: EventRecorder,
    private readonly cfg: LockerConfig['codes'],
    private readonly secret: Uint8Array,
    private readonly random: RandomSource,
    private readonly clock: Clock,
    private readonly onLockout: (retryAfterMs: number) => void = () => {},
  ) {}

  get codeLength(): number {
    return this.cfg.length;
  }

  lockout(): { lockedOut: boolean; retryAfterMs: number; failuresLeft: number } {
    const state = this.store.attempts(SCOPE);
    const now = this.clock.now();
    const c = check(state, now);
    return { lockedOut: !c.allowed, retryAfterMs: c.allowed ? 0 : c.retryAfterMs, failuresLeft: failuresLeft(state, now, this.cfg) };
  }

  /**
   * Finds the live parcel a code belongs to. Wrong codes count against the budget; a code that
   * exists but is not usable here (expired, not delivered yet) is refused by `reject` without
   * counting, since guessing it was not needed.
   */
  redeem(raw: string, accept: readonly ParcelState[], reject: (p: ParcelRow) => LockerError | undefined): ParcelRow {
    const locked = this.lockout();
    if (locked.lockedOut) throw this.lockedOutError(locked.retryAfterMs);
    const code = normaliseCodeInput(raw, this.cfg.length);
    const parcel = this.store.parcelByDigest(codeDigest(this.secret, code));
    if (parcel && accept.includes(parcel.state)) return parcel;
    const refusal = parcel ? reject(parcel) : undefined;
    if (refusal) throw refusal;
    this.recordFailure();
    const after = this.lockout();
    if (after.lockedOut) throw this.lockedOutError(after.retryAfterMs);
    throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code is not valid here', { failuresLeft: after.failuresLeft });
  }

  /** Clears the failure count after a right code. Writes only when there was something to clear. */
  recordSuccess(): void {
    const state = this.store.attempts(SCOPE);
    const next = recordSuccess(state);
    if (next !== state) this.store.putAttempts(SCOPE, next);
  }

  newUniqueCode(): string {
    for (let i = 0; i < 100; i++) {
      const code = generateCode(this.cfg.length, this.random);
      if (!this.store.parcelByDigest(codeDigest(this.secret, code))) return code;
    }
    throw new LockerError(ErrorCodes.INTERNAL, 'could not find an unused code; raise codes.length');
  }

  /** The digest to store for a code; with `unique`, refuses a code already in use here. */
  digestOf(code: string, unique: boolean): string {
    const digest = codeDigest(this.secret, normaliseCodeInput(code, code.length));
    if (unique && this.store.parcelByDigest(digest)) throw new LockerError(ErrorCodes.INPUT_INVALID, 'this code is already in use at this locker; choose another');
    return digest;
  }

  private recordFailure(): void {
    const now = this.clock.now();
    const out = recordFailure(this.store.attempts(SCOPE), now, this.cfg);
    if (out.tripped) {
      this.recorder.commit(
        { actor: 'consumer', action: 'alarm.code_lockout', data: { lockoutMs: out.lockoutMs, trips: out.state.trips }, events: [{ carrier: null, type: 'alarm.code_lockout', data: { lockoutMs: out.lockoutMs, trips: out.state.trips, lockedUntil: out.state.lockedUntil } }] },
        () => this.store.putAttempts(SCOPE, out.state),
      );
      this.onLockout(out.lockoutMs);
    } else {
      this.store.transaction(() => this.store.putAttempts(SCOPE, out.state));
    }
  }

  private lockedOutError(retryAfterMs: number): LockerError {
    return new LockerError(ErrorCodes.CODE_LOCKED_OUT, `too many wrong codes; try again in ${Math.ceil(retryAfterMs / 1000)} s`, { retryAfterMs });
  }
}
