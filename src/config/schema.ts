// The configuration file of one locker, validated with zod at the edge. Every error is
// reported at once with its path (see loadConfig.ts). Field defaults are the values a
// typical Kerong-based locker uses.
import { z } from 'zod';
import { isLoopbackHost } from './deploymentChecks.js';
import { BOARD_LIMITS } from '../../kernel/protocolLimits.js';
import { LOG_LEVELS } from '../logger.js';

export const sizeClasses = ['XS', 'S', 'M', 'L', 'XL'] as const;
export const SizeClass = z.enum(sizeClasses);
export type SizeClass = z.infer<typeof SizeClass>;

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." or "-", at most 64');

/** A public key as a JWK (OKP): Ed25519 for signatures, X25519 for encryption. */
export const Ed25519PublicJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().min(40).max(50),
  kid: z.string().max(128).optional(),
});
export type Ed25519PublicJwk = z.infer<typeof Ed25519PublicJwk>;

export const X25519PublicJwk = z.strictObject({
  kty: z.literal('OKP'),
  crv: z.literal('X25519'),
  x: z.string().min(40).max(50),
  kid: z.string().max(128).optional(),
});
export type X25519PublicJwk = z.infer<typeof X25519PublicJwk>;

const SerialTransport = z.strictObject({
  kind: z.literal('serial'),
  path: z.string().min(1),
  /** Omit to probe: 19200 first, then 9600 (CU16); the protocol default otherwise. */
  baudRate: z.number().int().positive().optional(),
});
const TcpTransport = z.strictObject({
  kind: z.literal('tcp'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});
/** Simulated bus: the composition root attaches a byte-level board simulator. */
const SimTransport = z.strictObject({ kind: z.literal('sim') });

export const BoardConfig = z.strictObject({
  address: z.number().int().min(0).max(255),
  locks: z.number().int().min(1).max(48),
  /** 'latched-high': status bit 1 means the hook is latched (CU48 document); 'latched-low': the reverse (NO switches). */
  polarity: z.enum(['latched-high', 'latched-low']).default('latched-high'),
  energiseMs: z.number().int().min(50).max(5000).default(500),
  itemSensors: z.boolean().default(false),
});
export type BoardConfig = z.infer<typeof BoardConfig>;

const BusTiming = {
  pollIntervalMs: z.number().int().min(50).max(60_000).default(500),
  fastPollIntervalMs: z.number().int().min(20).max(5_000).default(100),
  fastPollForMs: z.number().int().min(0).max(60_000).default(4_000),
  replyTimeoutMs: z.number().int().min(20).max(10_000).default(300),
  silentAfterMisses: z.number().int().min(1).max(100).default(3),
};

export const SerialBusConfig = z
  .strictObject({
    id,
    protocol: z.enum(['kerong-cu16', 'kerong-cu48', 'generic-8a']),
    transport: z.discriminatedUnion('kind', [SerialTransport, TcpTransport, SimTransport]),
    boards: z.array(BoardConfig).min(1),
    ...BusTiming,
    /** Reopening a lost line: first wait, doubling per failed attempt up to reconnectMaxMs (a watched device path cuts it short). */
    reconnectMinMs: z.number().int().min(10).default(250),
    reconnectMaxMs: z.number().int().min(100).default(10_000),
  })
  .superRefine((bus, ctx) => {
    // The family's addressing (kernel/protocolLimits.ts); the drivers check the same table.
    const limit = BOARD_LIMITS[bus.protocol];
    const seen = new Set<number>();
    bus.boards.forEach((b, i) => {
      if (b.address < limit.minAddress || b.address > limit.maxAddress)
        ctx.addIssue({ code: 'custom', path: ['boards', i, 'address'], message: `${bus.protocol} boards have addresses ${limit.minAddress}-${limit.maxAddress}` });
      if (b.locks > limit.maxLocks) ctx.addIssue({ code: 'custom', path: ['boards', i, 'locks'], message: `${bus.protocol} boards have at most ${limit.maxLocks} locks` });
      if (seen.has(b.address)) ctx.addIssue({ code: 'custom', path: ['boards', i, 'address'], message: `board ${b.address} is configured twice` });
      seen.add(b.address);
    });
  });
export type SerialBusConfig = z.infer<typeof SerialBusConfig>;

export const GpioLockConfig = z.strictObject({
  lock: z.number().int().min(1),
  /** BCM pin number of the relay output; the gpiochip base is added at run time (kernel 6.6+). */
  relayPin: z.number().int().min(0).max(63),
  relayActiveLow: z.boolean().default(false),
  /** BCM pin of the door reed switch; the switch closes (reads doorClosedValue) when the door is shut. */
  doorPin: z.number().int().min(0).max(63).optional(),
  doorClosedValue: z.union([z.literal(0), z.literal(1)]).default(0),
  energiseMs: z.number().int().min(50).max(5000).default(500),
});

export const GpioBusConfig = z.strictObject({
  id,
  protocol: z.literal('gpio'),
  transport: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('gpio'), chipLabel: z.string().optional() }), SimTransport]),
  locks: z.array(GpioLockConfig).min(1),
  debounceMs: z.number().int().min(0).max(1000).default(30),
  ...BusTiming,
});
export type GpioBusConfig = z.infer<typeof GpioBusConfig>;

export const BusConfig = z.union([SerialBusConfig, GpioBusConfig]);
export type BusConfig = z.infer<typeof BusConfig>;

export const ScannerConfig = z.strictObject({
  transport: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('serial'), path: z.string().min(1), baudRate: z.number().int().positive().default(9600) }),
    SimTransport,
  ]),
  suffix: z.enum(['cr', 'lf', 'crlf']).default('cr'),
  interByteTimeoutMs: z.number().int().min(5).max(2000).default(80),
  maxLength: z.number().int().min(16).max(8192).default(1024),
  /** Strip an AIM symbology identifier (]C1, ]Q1, ...) and report it separately. */
  aimPrefix: z.boolean().default(false),
  reconnectMinMs: z.number().int().min(10).default(500),
  reconnectMaxMs: z.number().int().min(100).default(30_000),
});
export type ScannerConfig = z.infer<typeof ScannerConfig>;

/** One GPIO output of the indicator: a BCM pin, and whether it is on when driven low. */
const gpioPin = z.number().int().min(0).max(63);

/**
 * The optional sound/light cue (issue 11, flow 1; docs/operations.md, "The door cue"): a buzzer and
 * per-compartment LEDs on GPIO outputs of the controller, driven by src/domain/doorCue.ts. A door
 * that opens for someone lights its LED and beeps; the LED goes out when the door is closed; a
 * door that did not open beeps the error pattern. A failing indicator is logged, never waited on.
 */
export const IndicatorConfig = z
  .strictObject({
    /** The controller's header ("gpio", as for a GPIO bus) or the simulator ("sim"). */
    transport: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('gpio'), chipLabel: z.string().min(1).max(64).optional() }), z.strictObject({ kind: z.literal('sim') })]),
    buzzer: z.strictObject({ pin: gpioPin, activeLow: z.boolean().default(false) }).optional(),
    /** LEDs are often fitted to a few doors only: compartments without one are skipped. */
    leds: z
      .array(z.strictObject({ compartment: id, pin: gpioPin, activeLow: z.boolean().default(false) }))
      .max(64)
      .default([]),
  })
  .superRefine((ind, ctx) => {
    if (!ind.buzzer && ind.leds.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'give a buzzer, leds or both' });
    const pins = new Map<number, string>();
    if (ind.buzzer) pins.set(ind.buzzer.pin, 'the buzzer');
    const compartments = new Set<string>();
    ind.leds.forEach((l, i) => {
      const other = pins.get(l.pin);
      if (other) ctx.addIssue({ code: 'custom', path: ['leds', i, 'pin'], message: `pin ${l.pin} is already ${other}` });
      pins.set(l.pin, `the LED of compartment "${l.compartment}"`);
      if (compartments.has(l.compartment)) ctx.addIssue({ code: 'custom', path: ['leds', i, 'compartment'], message: `compartment "${l.compartment}" has an LED already` });
      compartments.add(l.compartment);
    });
  });
export type IndicatorConfig = z.infer<typeof IndicatorConfig>;

export const CompartmentConfig = z.strictObject({
  id,
  size: SizeClass,
  bus: id,
  board: z.number().int().min(0).max(255),
  lock: z.number().int().min(1).max(48),
  accessible: z.boolean().default(false),
  /** Where it is, for the screen: column and row counted from the left and from the top. */
  column: z.number().int().min(1).max(99).default(1),
  row: z.number().int().min(1).max(99).default(1),
});
export type CompartmentConfig = z.infer<typeof CompartmentConfig>;

/** Inner dimensions of a size class, in whole millimetres (issue 11, flow 7: shown to couriers). */
const innerMm = z.number().int().min(1).max(5000);
export const InnerDimensions = z.strictObject({ widthMm: innerMm, heightMm: innerMm, depthMm: innerMm });
export type InnerDimensions = z.infer<typeof InnerDimensions>;

export const LayoutConfig = z
  .strictObject({
    version: z.number().int().min(1),
    /**
     * Inner dimensions per size class (optional; every compartment of a class has the same
     * inside). Only classes some compartment has may be given.
     */
    sizes: z.partialRecord(SizeClass, InnerDimensions).optional(),
    compartments: z.array(CompartmentConfig).min(1),
  })
  .superRefine((layout, ctx) => {
    const used = new Set(layout.compartments.map((c) => c.size));
    for (const size of Object.keys(layout.sizes ?? {})) {
      if (!used.has(size as SizeClass)) ctx.addIssue({ code: 'custom', path: ['sizes', size], message: `no compartment of size ${size} in the layout` });
    }
    const ids = new Set<string>();
    const positions = new Map<string, string>();
    layout.compartments.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['compartments', i, 'id'], message: `duplicate compartment id "${c.id}"` });
      ids.add(c.id);
      const pos = `${c.bus}/${c.board}/${c.lock}`;
      const other = positions.get(pos);
      if (other) ctx.addIssue({ code: 'custom', path: ['compartments', i, 'lock'], message: `position ${pos} is already used by "${other}"` });
      positions.set(pos, c.id);
    });
  });
export type LayoutConfig = z.infer<typeof LayoutConfig>;

export const CourierPermission = z.enum(['deposit', 'collect']);
export type CourierPermission = z.infer<typeof CourierPermission>;

/**
 * Where a consumer or courier gets help (docs/kiosk.md, "Help and support"): a phone number to
 * call, and/or a link the kiosk shows as a QR code. Public information, shown on the kiosk's
 * help screen and on "door did not open". Set per carrier (`carriers[].support`) and as the
 * locker's default (`support`, the operator's own line); the carrier's wins for its parcels.
 */
export const SupportContact = z
  .strictObject({
    /** Shown as typed: digits, spaces, "+", "-", "(", ")". */
    phone: z
      .string()
      .trim()
      .min(3)
      .max(32)
      .regex(/^[+0-9][0-9 ()-]*$/, 'digits, spaces, "+", "-", "(" or ")"')
      .optional(),
    /**
     * An https link (e.g. the carrier's help page) or a tel: number, drawn as a QR code on the
     * kiosk with the link in words beside it. Nothing else: a QR code is followed blindly.
     */
    qrUrl: z
      .string()
      .max(256)
      .refine((u) => URL.canParse(u) && (new URL(u).protocol === 'https:' ? /^https:\/\/[^\s]+$/.test(u) : /^tel:\+?[0-9][0-9-]{2,31}$/.test(u)), 'an https:// link or a tel: number (digits, "+" and "-")')
      .optional(),
    /** Opening hours or a line of text, in the kiosk's languages. */
    hours: z.strictObject({ en: z.string().max(80).optional(), 'zh-Hans': z.string().max(80).optional() }).optional(),
  })
  .refine((s) => s.phone !== undefined || s.qrUrl !== undefined, 'give a phone number, a qrUrl or both');
export type SupportContact = z.infer<typeof SupportContact>;

/**
 * A carrier's rule for extending the pickup time at the kiosk with the code (issue 11, flow 5):
 * at most `maxHours` at a time, at most `times` per parcel. Absent: no extension.
 */
export const PickupExtensionRule = z.strictObject({
  maxHours: z.number().int().min(1).max(14 * 24),
  times: z.number().int().min(1).max(5).default(1),
});
export type PickupExtensionRule = z.infer<typeof PickupExtensionRule>;

export const CarrierConfig = z.strictObject({
  id,
  name: z.string().min(1).max(100),
  /** Keys that sign this carrier's courier badges and commands. */
  signingKeys: z.array(Ed25519PublicJwk).min(1),
  /** Key that pickup codes are encrypted to in this carrier's events (JWE ECDH-ES). */
  encryptionKey: X25519PublicJwk.optional(),
  dwellHours: z.number().min(1).max(24 * 60).default(72),
  adHocDeposit: z.boolean().default(false),
  /** The carrier's help line on the kiosk (the locker's `support` when absent). */
  support: SupportContact.optional(),
  /** Extending the pickup time at the kiosk; absent: not offered. */
  pickupExtension: PickupExtensionRule.optional(),
  /** Couriers allowed to log in with ID and PIN; the PIN only as a scrypt hash (see src/credentials/pin.ts). */
  couriers: z
    .array(z.strictObject({ id, pinHash: z.string().min(20).max(400), permissions: z.array(CourierPermission).min(1).default(['deposit', 'collect']) }))
    .default([]),
});
export type CarrierConfig = z.infer<typeof CarrierConfig>;

export const OperatorConfig = z.strictObject({
  id: id.default('operator'),
  signingKeys: z.array(Ed25519PublicJwk).default([]),
});

/**
 * Courier and operator badges (docs/security.md has the reasons). A badge may live
 * at most its role's maximum (exp - iat), its iat may be at most iatSkewS ahead of the locker's
 * clock, and revocations are kept until every badge they cover has expired.
 */
export const BadgesConfig = z.strictObject({
  /** Courier badges: a week by default (re-issued by the carrier's app), at most 90 days. */
  courierMaxLifetimeHours: z.number().min(1).max(90 * 24).default(7 * 24),
  /** Operator badges open every door: a day by default, at most 30 days. */
  operatorMaxLifetimeHours: z.number().min(1).max(30 * 24).default(24),
  /** How far a badge's iat may be ahead of the locker's clock. */
  iatSkewS: z.number().int().min(0).max(600).default(60),
  /** Revocation entries kept per issuer (carrier or operator); a full list refuses more. */
  maxRevocationsPerIssuer: z.number().int().min(10).max(100_000).default(1_000),
});
export type BadgesConfig = z.infer<typeof BadgesConfig>;

/** A token bucket (src/codes/attemptBudget.ts): `burst` tries after a quiet time, `refillPerHour` regained per hour. */
export const BucketPolicyConfig = z.strictObject({
  burst: z.number().int().min(1).max(1000),
  refillPerHour: z.number().min(0.01).max(3600),
});

/**
 * Typed pickup and drop-off codes. The keypad budget is one token bucket for the whole locker:
 * a steady rate, not a growing lockout, so a prankster must stand there to keep it empty, and
 * pickup QR tokens and couriers never depend on it. `lockerd check-config` prints the chance
 * that a stranger at the best pacing opens any door within 30 days and refuses more than 0.1 %
 * (docs/security.md): with the defaults and 24 live codes it is about 0.01 %.
 */
export const CodesConfig = z.strictObject({
  length: z.number().int().min(6).max(10).default(10),
  /** Wrong typed codes accepted in a row after a quiet time. */
  burst: z.number().int().min(1).max(1000).default(10),
  /** Typed-code tries regained per hour, at a steady rate. */
  refillPerHour: z.number().min(0.01).max(3600).default(60),
  /**
   * The most live codes (stored, expired and announced parcels with a code) the locker holds;
   * an announcement or deposit that would exceed it is refused (CODE_CAPACITY). Default: the
   * number of compartments.
   */
  maxLiveCodes: z.number().int().min(1).max(100_000).optional(),
});

/**
 * Courier ID-and-PIN logins. A PIN has at least MIN_PIN_LENGTH (6) digits; wrong PINs take a
 * try from the courier's bucket and from the locker's, both persisted. Badges do not use them.
 */
export const CourierPinsConfig = z.strictObject({
  perCourier: BucketPolicyConfig.default({ burst: 5, refillPerHour: 1 }),
  perLocker: BucketPolicyConfig.default({ burst: 20, refillPerHour: 10 }),
});

export const DoorsConfig = z.strictObject({
  /** How long after the unlock frame the hook must have released (energise time plus margin). */
  openTimeoutMs: z.number().int().min(200).max(30_000).default(3_000),
  /** Alarm when a door stays open this long; the session keeps waiting afterwards. */
  leftOpenAlarmMs: z.number().int().min(1000).default(120_000),
  /** Retries after a door did not open before the compartment goes out of service. */
  jamRetries: z.number().int().min(0).max(3).default(1),
  /**
   * After an unlock frame went out, how long a session waits for a lost bus (cable, adapter,
   * bridge) to return before the compartment goes to inspection (docs/architecture.md,
   * "Uncertain outcomes").
   */
  transportReturnTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
});

/** An orderly stop (SIGTERM): new door sessions are refused, those in flight may settle. */
export const ShutdownConfig = z.strictObject({
  /**
   * How long a stop waits for door sessions in flight to settle before it closes. At most 12 s:
   * the rest of the stop needs up to 3 s, inside systemd's TimeoutStopSec=15
   * (deploy/systemd/lockerd.service); a session still open then is reconciled at the next start.
   */
  drainMs: z.number().int().min(0).max(12_000).default(10_000),
});

export const KioskConfig = z
  .strictObject({
    host: z.string().min(1).max(253).default('127.0.0.1'),
    /**
     * The kiosk API opens doors for whoever can reach it; it answers only on loopback unless
     * this is set. A non-loopback host without it is refused; with it, lockerd warns at start.
     */
    exposeBeyondLoopback: z.boolean().default(false),
    port: z.number().int().min(0).max(65535).default(8080),
    /** A courier or operator session ends after this long without a request. */
    sessionIdleMs: z.number().int().min(5_000).default(120_000),
    /** After a pickup, how long the screen may report a problem or reopen a door that closed too early (issue 11, flow 3). */
    problemGraceS: z.number().int().min(10).max(900).default(120),
    /** The screen goes back to home after this long without a touch. */
    screenIdleMs: z.number().int().min(5_000).default(60_000),
    maxBodyBytes: z.number().int().min(256).max(1_048_576).default(16_384),
    /** Extra Host names (besides 127.0.0.1, localhost and [::1]) the kiosk answers to, with its port. */
    allowedHosts: z
      .array(z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i, 'a host name without port'))
      .max(16)
      .default([]),
    /** The kiosk page sends a heartbeat every this long (paired terminal only). */
    heartbeatMs: z.number().int().min(1_000).max(60_000).default(5_000),
    /**
     * The kiosk watchdog (docs/operations.md, "Kiosk watchdog"): after silenceS without a
     * heartbeat of the page, alarm.kiosk_silent and the restart command (argv, no shell), again
     * with a backoff from backoffInitialS doubling to backoffMaxS while the silence lasts.
     */
    watchdog: z
      .strictObject({
        silenceS: z.number().int().min(3).max(3_600).default(30),
        restartCommand: z.array(z.string().min(1).max(512)).min(1).max(32),
        restartTimeoutS: z.number().int().min(1).max(600).default(30),
        backoffInitialS: z.number().int().min(1).max(3_600).default(30),
        backoffMaxS: z.number().int().min(1).max(86_400).default(900),
      })
      .optional(),
  })
  .superRefine((kiosk, ctx) => {
    if (kiosk.watchdog && kiosk.watchdog.silenceS * 1000 < 2 * kiosk.heartbeatMs)
      ctx.addIssue({ code: 'custom', path: ['watchdog', 'silenceS'], message: 'must be at least two heartbeats (kiosk.heartbeatMs)' });
    if (!kiosk.exposeBeyondLoopback && !isLoopbackHost(kiosk.host))
      ctx.addIssue({
        code: 'custom',
        path: ['host'],
        message: `"${kiosk.host}" is reachable beyond this machine; use 127.0.0.1, or set kiosk.exposeBeyondLoopback: true if the network in between is trusted`,
      });
  });

/** The URL schemes MQTT.js connects with that a locker uses: TCP, TLS and WebSockets. */
export const MQTT_URL_SCHEMES = ['mqtt:', 'mqtts:', 'ws:', 'wss:'] as const;

function isBrokerUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const u = new URL(value);
  return (MQTT_URL_SCHEMES as readonly string[]).includes(u.protocol) && u.hostname !== '';
}

export const MqttConfig = z.strictObject({
  url: z.string().min(1).max(2048).refine(isBrokerUrl, 'not a broker URL: use mqtt://host:port or mqtts://host:port (also ws://, wss://)'),
  protocolVersion: z.union([z.literal(4), z.literal(5)]).default(4),
  username: z.string().optional(),
  password: z.string().optional(),
  clientId: z.string().optional(),
  tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).optional(),
  inflightWindow: z.number().int().min(1).max(1000).default(64),
  reconnectMinMs: z.number().int().min(10).default(1_000),
  reconnectMaxMs: z.number().int().min(100).default(60_000),
  keepaliveS: z.number().int().min(5).max(3600).default(30),
  /** Acknowledged outbox rows kept for replay, per stream. */
  retainAcked: z.number().int().min(0).default(10_000),
});
export type MqttConfig = z.infer<typeof MqttConfig>;

/**
 * Health and metrics for the operator (docs/operations.md, "Health and metrics"): a Prometheus
 * endpoint on its own loopback listener (never on the kiosk server), and a periodic `health`
 * event on the operator stream.
 */
export const MetricsConfig = z.strictObject({
  /** Loopback only: the figures describe the locker's hardware and traffic. */
  host: z
    .string()
    .min(1)
    .max(253)
    .default('127.0.0.1')
    .refine((h) => isLoopbackHost(h), 'the metrics listener answers on loopback only (127.0.0.1 or ::1); scrape it with an agent on the controller'),
  /** 9464 (the usual Prometheus exporter port) by default; null turns the listener off; 0 picks a free port. */
  port: z.number().int().min(0).max(65535).nullable().default(9464),
  /** Seconds between two `health` events on the operator stream. */
  healthIntervalS: z.number().int().min(10).max(86_400).default(300),
});
export type MetricsConfig = z.infer<typeof MetricsConfig>;

/**
 * Signed updates (docs/operations.md, "Updates"): where the releases live and which keys may sign
 * one. The release keys are the operator's release keys, not its command keys.
 */
export const UpdatesConfig = z
  .strictObject({
    /** The release root: releases/<version>/, the current link and update-state.json. */
    root: z.string().min(1),
    releaseKeys: z.array(Ed25519PublicJwk).min(1).max(8),
    /** PEM file of the CA that signs the release server's certificate (the system's CAs when absent). */
    ca: z.string().min(1).optional(),
    /** Plain http to a loopback address (tests and the simulator only); https otherwise. */
    allowHttpLoopback: z.boolean().default(false),
    maxBundleBytes: z.number().int().min(1024).max(2 * 1024 ** 3).default(256 * 1024 ** 2),
    /** greenboot's numbers: a new release must be ready within 150 s and then stay healthy for 60 s. */
    readyTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(150_000),
    stableMs: z.number().int().min(500).max(3_600_000).default(60_000),
    maxBoots: z.number().int().min(1).max(20).default(3),
    keepSnapshots: z.number().int().min(1).max(20).default(3),
  });
export type UpdatesConfig = z.infer<typeof UpdatesConfig>;

/**
 * The periodic online backup of the database (src/store/backup.ts): a whole, checked copy at
 * `path`, replaced every intervalMinutes. Put it on another disk than dataDir (a second SD card,
 * a USB stick): a backup on the same card dies with it.
 */
export const BackupConfig = z.strictObject({
  path: z.string().min(1).max(4096),
  intervalMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
});
export type BackupConfig = z.infer<typeof BackupConfig>;

export const LockerConfig = z
  .strictObject({
    version: z.literal(1),
    locker: z.strictObject({ id, name: z.string().max(100).optional() }),
    dataDir: z.string().min(1),
    /** Omit for info; LOCKERD_LOG_LEVEL overrides it (src/logger.ts resolveLogLevel). */
    logLevel: z.enum(LOG_LEVELS).optional(),
    hardware: z.strictObject({
      buses: z.array(BusConfig).min(1),
      scanner: ScannerConfig.optional(),
      indicator: IndicatorConfig.optional(),
    }),
    layout: LayoutConfig,
    carriers: z.array(CarrierConfig).default([]),
    operator: OperatorConfig.default({ id: 'operator', signingKeys: [] }),
    badges: BadgesConfig.default(BadgesConfig.parse({})),
    codes: CodesConfig.default(CodesConfig.parse({})),
    courierPins: CourierPinsConfig.default(CourierPinsConfig.parse({})),
    /** The locker's own help line (the operator's), shown when a carrier has none. */
    support: SupportContact.optional(),
    doors: DoorsConfig.default(DoorsConfig.parse({})),
    kiosk: KioskConfig.default(KioskConfig.parse({})),
    shutdown: ShutdownConfig.default(ShutdownConfig.parse({})),
    mqtt: MqttConfig.optional(),
    metrics: MetricsConfig.default(MetricsConfig.parse({})),
    updates: UpdatesConfig.optional(),
    backup: BackupConfig.optional(),
    /** Demo only: reveal issued pickup codes on the local API so a newcomer can try a pickup. Never in production. */
    demo: z.strictObject({ revealCodes: z.boolean().default(false) }).default({ revealCodes: false }),
  })
  .superRefine((cfg, ctx) => {
    const buses = new Map(cfg.hardware.buses.map((b) => [b.id, b]));
    cfg.layout.compartments.forEach((c, i) => {
      const bus = buses.get(c.bus);
      if (!bus) {
        ctx.addIssue({ code: 'custom', path: ['layout', 'compartments', i, 'bus'], message: `unknown bus "${c.bus}"` });
        return;
      }
      if (bus.protocol === 'gpio') {
        if (c.board !== 0) ctx.addIssue({ code: 'custom', path: ['layout', 'compartments', i, 'board'], message: 'GPIO buses have only board 0' });
        if (!bus.locks.some((l) => l.lock === c.lock))
          ctx.addIssue({ code: 'custom', path: ['layout', 'compartments', i, 'lock'], message: `GPIO bus "${bus.id}" has no lock ${c.lock}` });
        return;
      }
      const board = bus.boards.find((b) => b.address === c.board);
      if (!board) ctx.addIssue({ code: 'custom', path: ['layout', 'compartments', i, 'board'], message: `bus "${bus.id}" has no board ${c.board}` });
      else if (c.lock > board.locks)
        ctx.addIssue({ code: 'custom', path: ['layout', 'compartments', i, 'lock'], message: `board ${c.board} on "${bus.id}" has ${board.locks} locks` });
    });
    checkIndicator(cfg, ctx);
    if (cfg.backup && resolvePathLike(cfg.backup.path).startsWith(`${resolvePathLike(cfg.dataDir)}/`))
      ctx.addIssue({ code: 'custom', path: ['backup', 'path'], message: 'the backup must not be inside dataDir: put it on another disk' });
    const carrierIds = new Set<string>();
    cfg.carriers.forEach((c, i) => {
      if (carrierIds.has(c.id)) ctx.addIssue({ code: 'custom', path: ['carriers', i, 'id'], message: `duplicate carrier "${c.id}"` });
      carrierIds.add(c.id);
      if (c.id === cfg.operator.id) ctx.addIssue({ code: 'custom', path: ['carriers', i, 'id'], message: 'a carrier cannot use the operator id' });
    });
  });
export type LockerConfig = z.infer<typeof LockerConfig>;

/** The indicator's LEDs name compartments of the layout, and its pins are not a GPIO bus's on the same header. */
function checkIndicator(cfg: { hardware: { buses: BusConfig[]; indicator?: IndicatorConfig | undefined }; layout: LayoutConfig }, ctx: z.RefinementCtx): void {
  const ind = cfg.hardware.indicator;
  if (!ind) return;
  const compartments = new Set(cfg.layout.compartments.map((c) => c.id));
  const used = new Map<number, string>();
  for (const bus of cfg.hardware.buses) {
    if (bus.protocol !== 'gpio' || bus.transport.kind !== ind.transport.kind) continue;
    for (const l of bus.locks) {
      used.set(l.relayPin, `the relay of lock ${l.lock} on bus "${bus.id}"`);
      if (l.doorPin !== undefined) used.set(l.doorPin, `the door switch of lock ${l.lock} on bus "${bus.id}"`);
    }
  }
  const base = ['hardware', 'indicator'];
  if (ind.buzzer && used.has(ind.buzzer.pin)) ctx.addIssue({ code: 'custom', path: [...base, 'buzzer', 'pin'], message: `pin ${ind.buzzer.pin} is already ${used.get(ind.buzzer.pin) ?? ''}` });
  ind.leds.forEach((l, i) => {
    if (!compartments.has(l.compartment)) ctx.addIssue({ code: 'custom', path: [...base, 'leds', i, 'compartment'], message: `no compartment "${l.compartment}" in the layout` });
    if (used.has(l.pin)) ctx.addIssue({ code: 'custom', path: [...base, 'leds', i, 'pin'], message: `pin ${l.pin} is already ${used.get(l.pin) ?? ''}` });
  });
}

/** A path without trailing slashes (for the inside-dataDir check; relative paths compared as written). */
function resolvePathLike(p: string): string {
  return p.replace(/\/+$/, '');
}
export type LockerConfigInput = z.input<typeof LockerConfig>;
