// What remote commands may ask of the locker core (the port the domain offers the sync layer;
// it lives in the domain so the domain never imports sync). The sync layer verifies a command, parses
// its arguments with the schemas below and calls exactly one of these methods; the core
// implements them (state change, audit record and outbox rows in one transaction) and throws
// LockerError with a stable code to refuse (LAYOUT_STRANDS_PARCEL, VERSION_STALE,
// RESERVATION_UNKNOWN, WAYBILL_DUPLICATE, COMPARTMENT_UNAVAILABLE, DOOR_BUSY, ...).
// Results must be plain JSON: they travel back in the reply.
import { z } from 'zod';
import {
  CarrierConfig,
  CodesConfig,
  DoorsConfig,
  type Ed25519PublicJwk,
  LayoutConfig,
  MqttConfig,
  SizeClass,
  type CarrierConfig as CarrierConfigType,
  type LayoutConfig as LayoutConfigType,
} from '../config/schema.js';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", at most 64');
const reason = z.string().trim().min(3).max(200);

// ---- argument schemas (one per command) ----

export const SetLayoutArgs = LayoutConfig;
export const UpsertCarrierArgs = CarrierConfig;
export const RemoveCarrierArgs = z.object({ carrier: id }).strict();

const codes = CodesConfig.shape;
const doors = DoorsConfig.shape;
const mqtt = MqttConfig.shape;
/** The part of a locker's configuration the operator may change remotely. Absent means "leave as is". */
export const RemoteConfig = z
  .object({
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    codes: z
      .object({
        length: codes.length.unwrap(),
        burst: codes.burst.unwrap(),
        refillPerHour: codes.refillPerHour.unwrap(),
        maxLiveCodes: codes.maxLiveCodes.unwrap(),
      })
      .partial()
      .strict(),
    doors: z
      .object({ openTimeoutMs: doors.openTimeoutMs.unwrap(), leftOpenAlarmMs: doors.leftOpenAlarmMs.unwrap(), jamRetries: doors.jamRetries.unwrap() })
      .partial()
      .strict(),
    sync: z.object({ inflightWindow: mqtt.inflightWindow.unwrap(), retainAcked: mqtt.retainAcked.unwrap() }).partial().strict(),
  })
  .partial()
  .strict();
export type RemoteConfig = z.infer<typeof RemoteConfig>;

/** Versioned desired state: applied only when version is newer than the one in force. */
export const SetConfigArgs = z.object({ version: z.number().int().min(1), desired: RemoteConfig }).strict();
export type SetConfigArgs = z.infer<typeof SetConfigArgs>;

export const SetCompartmentServiceArgs = z.object({ compartmentId: id, inService: z.boolean(), reason }).strict();
export type SetCompartmentServiceArgs = z.infer<typeof SetCompartmentServiceArgs>;

/** operatorId is filled in from the verified issuer, never taken from the arguments. */
export const RemoteOpenArgs = z.object({ compartmentId: id, reason }).strict();
export type RemoteOpenArgs = z.infer<typeof RemoteOpenArgs> & { operatorId: string };

export const NoArgs = z.object({}).strict();

export const Waybill = z.string().regex(/^[\x21-\x7E]{1,64}$/, 'printable ASCII without spaces, at most 64');

export const CreateReservationArgs = z
  .object({
    waybill: Waybill,
    size: SizeClass,
    kind: z.enum(['delivery', 'dropoff']),
    dwellHours: z.number().min(1).max(24 * 60).optional(),
    /** A pickup (or drop-off) code chosen by the carrier: a compact JWE to the locker's X25519 key. */
    codeJwe: z.string().min(10).max(4096).optional(),
    /** The consumer asked the carrier for a low (accessible) compartment: the parcel gets one. */
    requiresLow: z.boolean().optional(),
    /** The carrier's group for one recipient at this locker: one code opens all its parcels (deliveries only, no codeJwe). */
    group: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'letters, digits and . _ : -, at most 64').optional(),
  })
  .strict();
export type CreateReservationArgs = z.infer<typeof CreateReservationArgs>;

export const CancelReservationArgs = z.object({ waybill: Waybill }).strict();

/** The jti of a badge, as minted (lockerctl badge puts a ULID there). */
export const BadgeId = z.string().regex(/^[\x21-\x7E]{1,128}$/, 'printable ASCII without spaces, at most 128');

function revokeBadgeArgs<I extends z.ZodType<string | undefined>>(issuer: I) {
  return z.discriminatedUnion('by', [
    /** One badge, by the jti it carries. */
    z.object({ by: z.literal('badge'), issuer, jti: BadgeId, reason: reason.optional() }).strict(),
    /**
     * Every badge of one subject (courier or operator id) issued before notBefore (seconds since
     * the epoch, like iat; the locker's time of receipt when absent). Badges issued from
     * notBefore on work again, so a courier can be given a new badge at once.
     */
    z.object({ by: z.literal('subject'), issuer, subject: id, notBefore: z.number().int().nonnegative().optional(), reason: reason.optional() }).strict(),
  ]);
}
/** Operator: names whose badges (a carrier id, or the operator id for operator badges). */
export const OperatorRevokeBadgeArgs = revokeBadgeArgs(id);
/** Carrier: always its own badges; an issuer other than itself is refused. */
export const CarrierRevokeBadgeArgs = revokeBadgeArgs(id.optional());
export type RevokeBadgeArgs = z.infer<typeof OperatorRevokeBadgeArgs>;
export const ReplayArgs = z.object({ fromSeq: z.number().int().min(1) }).strict();

/**
 * Install a signed release: url of its manifest (the bundle lies beside it), the SHA-256 of the
 * manifest's bytes (the command pins exactly one manifest), and an optional window (seconds since
 * the epoch) within which the switch may happen. See docs/operations.md, "Updates".
 */
export const UpdateArgs = z
  .object({
    url: z.string().min(8).max(2048),
    manifestDigest: z.string().regex(/^(?:sha256:)?[0-9a-fA-F]{64}$/, 'the SHA-256 of the manifest, 64 hex digits (optionally "sha256:" first)'),
    window: z
      .object({ start: z.number().int().nonnegative().optional(), end: z.number().int().positive().optional() })
      .strict()
      .refine((w) => w.start === undefined || w.end === undefined || w.start < w.end, 'start must be before end')
      .optional(),
  })
  .strict();
export type UpdateArgs = z.infer<typeof UpdateArgs>;

// ---- results ----

export interface CommandActor {
  kind: 'operator' | 'carrier';
  /** The verified issuer: the operator id or the carrier id. */
  id: string;
  /** The command's jti, for the audit record. */
  commandId: string;
}

export interface ReportedConfig {
  version: number;
  desired: RemoteConfig;
  appliedAt: number;
}

export interface CompartmentStatus {
  id: string;
  size: z.infer<typeof SizeClass>;
  state: 'free' | 'occupied' | 'out_of_service';
  inService: boolean;
  fault: string | null;
}

export interface RemoteOpenResult {
  compartmentId: string;
  /** The door session that opened it; its outcome appears on the operator event stream. */
  sessionId: string;
  opened: boolean;
}

export interface Inventory {
  layoutVersion: number;
  compartments: CompartmentStatus[];
  /** Counts only: the operator does not need waybills to run the fleet. */
  parcels: { carrier: string; state: string; count: number }[];
}

/** What a carrier learns about one of its own parcels. Never a code, never another carrier's parcel. */
export interface CarrierParcel {
  id: string;
  carrier: string;
  waybill: string;
  kind: 'delivery' | 'dropoff';
  state: string;
  size: string | null;
  compartmentId: string | null;
  expiresAt: number | null;
}

export interface ReservationResult {
  parcelId: string;
  waybill: string;
  kind: 'delivery' | 'dropoff';
  state: string;
  /** True when the carrier supplied the code; otherwise the locker issues one at deposit. */
  carrierCode: boolean;
}

export interface RevocationResult {
  issuer: string;
  by: 'badge' | 'subject';
  /** The jti or the subject. */
  target: string;
  /** Seconds since the epoch: badges of the subject issued before this are refused (by subject only). */
  notBefore?: number;
  /** False when the same revocation was already in force (a repeat is harmless). */
  added: boolean;
  /** Entries the list holds for this issuer now. */
  entries: number;
  /** Epoch ms after which the entry is forgotten: every badge it covers has expired by then. */
  keptUntil: number;
}

export interface UpdateResult {
  /** The update's id (the command's jti): the update.* events carry it. */
  id: string;
  version: string;
  from: string;
  /** Downloaded and unpacked; the switch follows when the window opens and no door is in use. */
  state: 'downloaded';
}

// ---- the interface the core implements ----

export interface LockerOperations {
  // operator
  setLayout(layout: LayoutConfigType, by: CommandActor): Promise<{ version: number; compartments: number }>;
  upsertCarrier(carrier: CarrierConfigType, by: CommandActor): Promise<{ carrier: string; created: boolean }>;
  removeCarrier(carrierId: string, by: CommandActor): Promise<{ carrier: string; removed: boolean }>;
  setConfig(args: SetConfigArgs, by: CommandActor): Promise<ReportedConfig>;
  /** The configuration in force, published retained on .../cfg after every (re)connect. */
  reportedConfig(): ReportedConfig | null;
  setCompartmentService(args: SetCompartmentServiceArgs, by: CommandActor): Promise<CompartmentStatus>;
  /** Opens one door for the operator; the core audits it and raises the left-open alarm as usual. */
  remoteOpen(args: RemoteOpenArgs, by: CommandActor): Promise<RemoteOpenResult>;
  inventory(): Promise<Inventory>;
  diagnostics(): Promise<Record<string, unknown>>;
  /**
   * Adds a badge revocation (persisted, offline). The sync layer has already made a carrier's
   * issuer its own id; the core refuses an issuer it does not know and a full list.
   */
  revokeBadge(args: RevokeBadgeArgs, by: CommandActor): Promise<RevocationResult>;
  /** Downloads, verifies and unpacks a signed release, then switches to it (UPDATE_* codes refuse). */
  update(args: UpdateArgs, by: CommandActor): Promise<UpdateResult>;
  // carrier: every method is scoped to the given carrier and must never touch another's parcels
  createReservation(carrier: string, args: CreateReservationArgs, by: CommandActor): Promise<ReservationResult>;
  cancelReservation(carrier: string, waybill: string, by: CommandActor): Promise<{ waybill: string; state: 'cancelled' }>;
  listParcels(carrier: string): Promise<CarrierParcel[]>;
}

/** Who may sign commands: the provisioned carriers and the operator (it changes with upsertCarrier). */
export interface IssuerDirectory {
  issuer(id: string): { kind: 'carrier' | 'operator'; signingKeys: readonly Ed25519PublicJwk[] } | undefined;
}
