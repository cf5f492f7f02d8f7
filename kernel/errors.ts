// The one error type of lockerd. Every failure a caller can act on carries a stable code;
// the message starts with the code so logs and support tickets can be searched for it.

export const ErrorCodes = {
  // configuration and input
  CONFIG_INVALID: 'CONFIG_INVALID',
  INPUT_INVALID: 'INPUT_INVALID',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  HOST_NOT_ALLOWED: 'HOST_NOT_ALLOWED',
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  RATE_LIMITED: 'RATE_LIMITED',
  STREAMS_FULL: 'STREAMS_FULL',
  /** A command line the tool cannot run (missing --config, unknown option or command): exit 2. */
  USAGE_INVALID: 'USAGE_INVALID',
  // hardware
  BOARD_SILENT: 'BOARD_SILENT',
  BUS_CLOSED: 'BUS_CLOSED',
  /** The bus's transport (adapter, cable, bridge) is down; lockerd runs degraded and retries. */
  BUS_DISCONNECTED: 'BUS_DISCONNECTED',
  BUS_TIMEOUT: 'BUS_TIMEOUT',
  FRAME_INVALID: 'FRAME_INVALID',
  TRANSPORT_ERROR: 'TRANSPORT_ERROR',
  LATCH_JAMMED: 'LATCH_JAMMED',
  DOOR_LEFT_OPEN: 'DOOR_LEFT_OPEN',
  DOOR_FORCED_OPEN: 'DOOR_FORCED_OPEN',
  SCANNER_UNAVAILABLE: 'SCANNER_UNAVAILABLE',
  SCAN_REJECTED: 'SCAN_REJECTED',
  GPIO_ERROR: 'GPIO_ERROR',
  // pickup and drop-off codes
  CODE_UNKNOWN: 'CODE_UNKNOWN',
  CODE_EXPIRED: 'CODE_EXPIRED',
  CODE_LOCKED_OUT: 'CODE_LOCKED_OUT',
  CODE_MALFORMED: 'CODE_MALFORMED',
  /** The live codes would exceed codes.maxLiveCodes (the bound the keypad maths assumes). */
  CODE_CAPACITY: 'CODE_CAPACITY',
  /** The carrier does not allow (more) extensions of this parcel's pickup time; context.reason: 'not_offered' | 'used'. */
  EXTENSION_NOT_ALLOWED: 'EXTENSION_NOT_ALLOWED',
  /** The code length and budget miss the keypad target (lockerd check-config). */
  CODE_POLICY_WEAK: 'CODE_POLICY_WEAK',
  // couriers and operators
  BADGE_INVALID: 'BADGE_INVALID',
  BADGE_EXPIRED: 'BADGE_EXPIRED',
  PIN_INVALID: 'PIN_INVALID',
  /** Too many wrong courier PINs (for this courier or at this locker); retry after context.retryAfterMs. */
  PIN_LOCKED_OUT: 'PIN_LOCKED_OUT',
  NOT_AUTHENTICATED: 'NOT_AUTHENTICATED',
  NOT_PERMITTED: 'NOT_PERMITTED',
  SESSION_EXPIRED: 'SESSION_EXPIRED',
  BADGE_REVOKED: 'BADGE_REVOKED',
  BADGE_REVOCATIONS_FULL: 'BADGE_REVOCATIONS_FULL',
  SESSIONS_FULL: 'SESSIONS_FULL',
  TERMINAL_KEY_INVALID: 'TERMINAL_KEY_INVALID',
  TERMINAL_NOT_PAIRED: 'TERMINAL_NOT_PAIRED',
  // transactions
  NO_COMPARTMENT_FREE: 'NO_COMPARTMENT_FREE',
  COMPARTMENT_UNAVAILABLE: 'COMPARTMENT_UNAVAILABLE',
  RESERVATION_UNKNOWN: 'RESERVATION_UNKNOWN',
  WAYBILL_DUPLICATE: 'WAYBILL_DUPLICATE',
  ADHOC_NOT_ALLOWED: 'ADHOC_NOT_ALLOWED',
  TRANSACTION_STATE: 'TRANSACTION_STATE',
  /** The waybill scanned or typed to confirm a collection is not that of the parcel in the door; context.triesLeft. */
  WAYBILL_MISMATCH: 'WAYBILL_MISMATCH',
  /** Too many wrong waybills to confirm this collection: only "could not scan" with a reason is left. */
  CONFIRM_TRIES_SPENT: 'CONFIRM_TRIES_SPENT',
  DOOR_BUSY: 'DOOR_BUSY',
  NEEDS_INSPECTION: 'NEEDS_INSPECTION',
  /** Clearing a stuck state needs the door seen closed (it is open, or its board has not been read). */
  DOOR_NOT_CLOSED: 'DOOR_NOT_CLOSED',
  /** Nothing to clear: the compartment has no door session in flight and no hold. */
  NOTHING_STUCK: 'NOTHING_STUCK',
  /** An operator ended a door session whose runner was gone (the cause of the inspection it leaves). */
  SESSION_CLEARED: 'SESSION_CLEARED',
  /** lockerd is stopping (SIGTERM): no new door session starts; those in flight may finish. */
  LOCKER_STOPPING: 'LOCKER_STOPPING',
  // storage
  STORE_FULL: 'STORE_FULL',
  STORE_ERROR: 'STORE_ERROR',
  /** SQLite found the database file damaged (quick_check at boot, SQLITE_CORRUPT at run time). */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** The data folder had a database (its identity exists) but the database file is gone. */
  DB_MISSING: 'DB_MISSING',
  /** The database file is empty, not an SQLite file, or holds no lockerd tables/identity. */
  DB_EMPTY: 'DB_EMPTY',
  /** The database file is shorter than its own header says: pages were cut off. */
  DB_TRUNCATED: 'DB_TRUNCATED',
  /** The database belongs to another locker, or to another epoch than this data folder's. */
  DB_FOREIGN: 'DB_FOREIGN',
  /** A fresh data folder and no explicit first boot (lockerd start --first-boot). */
  DB_NOT_INITIALISED: 'DB_NOT_INITIALISED',
  /** lockerd runs on this data folder: the database tool refuses to replace its file. */
  DB_IN_USE: 'DB_IN_USE',
  /** integrity_check / quick_check found damage, or a backup is not a usable lockerd database. */
  DB_CHECK_FAILED: 'DB_CHECK_FAILED',
  /** An online backup could not be written. */
  BACKUP_FAILED: 'BACKUP_FAILED',
  // commands and sync
  CMD_MALFORMED: 'CMD_MALFORMED',
  CMD_BAD_SIGNATURE: 'CMD_BAD_SIGNATURE',
  CMD_UNKNOWN_ISSUER: 'CMD_UNKNOWN_ISSUER',
  CMD_WRONG_TENANT: 'CMD_WRONG_TENANT',
  CMD_WRONG_AUDIENCE: 'CMD_WRONG_AUDIENCE',
  CMD_EXPIRED: 'CMD_EXPIRED',
  CMD_REPLAYED: 'CMD_REPLAYED',
  CMD_UNKNOWN: 'CMD_UNKNOWN',
  CMD_FORBIDDEN: 'CMD_FORBIDDEN',
  CMD_FAILED: 'CMD_FAILED',
  CMD_UNKNOWN_KEY: 'CMD_UNKNOWN_KEY',
  CMD_LIFETIME_EXCEEDED: 'CMD_LIFETIME_EXCEEDED',
  CMD_RATE_LIMITED: 'CMD_RATE_LIMITED',
  LAYOUT_STRANDS_PARCEL: 'LAYOUT_STRANDS_PARCEL',
  VERSION_STALE: 'VERSION_STALE',
  CRYPTO_ERROR: 'CRYPTO_ERROR',
  // operations (metrics endpoint, lockerd status)
  METRICS_LISTEN_FAILED: 'METRICS_LISTEN_FAILED',
  STATUS_UNAVAILABLE: 'STATUS_UNAVAILABLE',
  // signed release updates (src/update/)
  /** lockerd has no updates section (release root, release keys): it cannot update itself. */
  UPDATE_NOT_CONFIGURED: 'UPDATE_NOT_CONFIGURED',
  /** Another update is being downloaded or applied. */
  UPDATE_BUSY: 'UPDATE_BUSY',
  /** The bundle or its manifest is not what was signed or named: digest or size differs. */
  UPDATE_TAMPERED: 'UPDATE_TAMPERED',
  /** The manifest's signature does not verify against a configured release key. */
  UPDATE_BAD_SIGNATURE: 'UPDATE_BAD_SIGNATURE',
  /** The manifest is not a release manifest (shape, fields, content of the bundle). */
  UPDATE_MANIFEST_INVALID: 'UPDATE_MANIFEST_INVALID',
  /** Built for another CPU architecture. */
  UPDATE_WRONG_ARCH: 'UPDATE_WRONG_ARCH',
  /** Built for another Node ABI (process.versions.modules): its native modules would not load. */
  UPDATE_WRONG_ABI: 'UPDATE_WRONG_ABI',
  /** Not newer than the release that runs. */
  UPDATE_NOT_NEWER: 'UPDATE_NOT_NEWER',
  /** The release's schema range excludes the database's schema version. */
  UPDATE_SCHEMA_RANGE: 'UPDATE_SCHEMA_RANGE',
  /** The bundle could not be fetched (network, HTTP status, size bound, scheme). */
  UPDATE_DOWNLOAD_FAILED: 'UPDATE_DOWNLOAD_FAILED',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export type ErrorContext = Record<string, unknown>;

export class LockerError extends Error {
  override readonly name = 'LockerError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly context: ErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }

  /** The message without the leading code, for screens and replies. */
  get detail(): string {
    return this.message.slice(this.code.length + 2);
  }

  toJSON(): { code: ErrorCode; message: string; context: ErrorContext } {
    return { code: this.code, message: this.detail, context: this.context };
  }
}

export function isLockerError(e: unknown, code?: ErrorCode): e is LockerError {
  return e instanceof LockerError && (code === undefined || e.code === code);
}

const hardwareCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.BOARD_SILENT,
  ErrorCodes.BUS_CLOSED,
  ErrorCodes.BUS_DISCONNECTED,
  ErrorCodes.BUS_TIMEOUT,
  ErrorCodes.FRAME_INVALID,
  ErrorCodes.TRANSPORT_ERROR,
  ErrorCodes.LATCH_JAMMED,
  ErrorCodes.SCANNER_UNAVAILABLE,
  ErrorCodes.GPIO_ERROR,
]);

/** True for faults of the physical locker (a board, a latch, a port), as opposed to bad input. */
export function isHardwareFault(e: unknown): e is LockerError {
  return e instanceof LockerError && hardwareCodes.has(e.code);
}

/** Wraps anything thrown into a LockerError, keeping the original as the cause. */
export function toLockerError(e: unknown, fallback: ErrorCode = ErrorCodes.INTERNAL): LockerError {
  if (e instanceof LockerError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new LockerError(fallback, message, {}, { cause: e });
}
