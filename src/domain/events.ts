// The event catalogue: every event the locker writes to a carrier's stream or to the operator
// stream, with one zod schema and one constructor per type. It is the only way to build an
// event (EventRecorder takes nothing else), so a payload that drifts from its schema is a type
// error. docs/events.schema.json and the event table in docs/protocol.md are generated from it
// (scripts/generateEventDocs.ts; test/unit/domain/eventDocs.test.ts fails when they are stale).
//
// Naming: a compartment is `compartment` (its id), a parcel `parcelId`. The moment a carrier
// event records is named for the state the parcel reached (`storedAt`, `pickedUpAt`,
// `retrievedAt`, `collectedAt`, `droppedOffAt`), whether it was seen by the locker or
// recovered at boot (`reconciled: true`); operator events carry `at`.
import { z } from 'zod';

const id = z.string().min(1);
const compartment = id.describe('compartment id as in the layout');
const parcel = { parcelId: id, waybill: z.string().min(1) };
const size = z.enum(['XS', 'S', 'M', 'L', 'XL']);
const ms = z.number().int().describe('milliseconds since the epoch, locker clock');
const reconciled = z.literal(true).optional().describe('recorded at boot from the sensors after a power cut');
const settled = z.literal(true).optional().describe('recorded by an operator who opened and inspected the compartment after an uncertain outcome');
const transactionKind = z.enum(['deposit', 'dropoff', 'pickup', 'collect']);
const verdict = z.enum(['empty', 'occupied']);
/** Why a courier could not confirm a collected parcel by its waybill ("could not scan"). */
export const collectionSkipReasons = ['label_unreadable', 'no_label', 'scanner_unavailable', 'parcel_not_there'] as const;

interface Definition<S extends 'carrier' | 'operator', D extends z.ZodObject> {
  stream: S;
  data: D;
  doc: string;
}
const carrier = <D extends z.ZodObject>(data: D, doc: string): Definition<'carrier', D> => ({ stream: 'carrier', data, doc });
const operator = <D extends z.ZodObject>(data: D, doc: string): Definition<'operator', D> => ({ stream: 'operator', data, doc });

const cancelled = z.object({
  ...parcel,
  inspection: z.literal(true).optional().describe('the compartment could not be proven empty and went to inspection'),
  compartment: compartment.optional(),
  reason: z.literal('interrupted').optional().describe('a power cut interrupted the placement; the compartment was empty'),
});
const interrupted = z.object({ ...parcel, compartment });
const updateOutcome = z.object({ id, version: z.string(), from: z.string(), reason: z.string().optional(), at: ms });

export const catalogue = {
  // ---- carrier streams
  'parcel.announced': carrier(z.object({ ...parcel, size, codeChosenByCarrier: z.boolean() }), 'a reservation was accepted'),
  'dropoff.announced': carrier(z.object({ ...parcel, size, codeChosenByCarrier: z.boolean() }), 'a consumer drop-off was announced'),
  'parcel.stored': carrier(
    z.object({
      ...parcel,
      compartment,
      size,
      storedAt: ms,
      expiresAt: ms,
      courier: id.optional(),
      codeJwe: z.string().optional().describe('the pickup code and QR token, encrypted to the carrier (see "Pickup codes")'),
      codeChosenByCarrier: z.boolean(),
      group: z.string().optional().describe("the carrier's group of the reservation (one code for a recipient's parcels)"),
      sharesCode: z.boolean().optional().describe("true: no code of its own, the group's code (in an earlier member's codeJwe) opens it"),
      reconciled,
      settled,
    }),
    'a courier deposited the parcel; the door closed with it inside',
  ),
  'dropoff.dropped_off': carrier(z.object({ ...parcel, compartment, size, droppedOffAt: ms, reconciled, settled }), 'a consumer dropped the parcel off'),
  'parcel.picked_up': carrier(z.object({ ...parcel, compartment, pickedUpAt: ms, reconciled, settled }), 'the consumer opened the door with the code'),
  'parcel.pickup_failed': carrier(z.object({ ...parcel, reason: z.string() }), 'the door did not open for a right code; the code stays valid'),
  'parcel.retrieved': carrier(z.object({ ...parcel, compartment, courier: id.optional(), retrievedAt: ms, reconciled, settled }), 'a courier took an expired parcel back'),
  'dropoff.collected': carrier(z.object({ ...parcel, compartment, courier: id.optional(), collectedAt: ms, reconciled, settled }), 'a courier collected a dropped-off parcel'),
  'parcel.collection_confirmed': carrier(
    z.object({
      ...parcel,
      compartment,
      kind: z.enum(['expired', 'dropoff']).describe('expired: follows parcel.retrieved; dropoff: follows dropoff.collected'),
      courier: id,
      confirmation: z.enum(['scanned', 'typed', 'skipped']).describe('how the courier confirmed the parcel taken out: its waybill scanned or typed and checked by the locker, or skipped ("could not scan")'),
      reason: z.enum(collectionSkipReasons).optional().describe('why it was skipped (confirmation: skipped only)'),
      wrongTries: z.number().int().min(0).describe('waybills refused for this parcel before'),
      at: ms,
    }),
    'the courier confirmed a collected parcel at the kiosk after its door opened (the collection itself counts from parcel.retrieved / dropoff.collected; no confirmation event after it means not confirmed)',
  ),
  'parcel.expired': carrier(z.object({ ...parcel, compartment: compartment.nullable() }), 'the dwell time passed; the code no longer works'),
  'parcel.cancelled': carrier(z.object(parcel), 'the carrier cancelled a reservation'),
  'parcel.problem_reported': carrier(
    z.object({ ...parcel, compartment: compartment.nullable(), problem: z.enum(['damaged', 'wrong_parcel', 'not_there', 'door_closed_early']), reopened: z.boolean(), at: ms }),
    'the consumer reported a problem at the kiosk right after the pickup (door_closed_early: the door was opened once more)',
  ),
  'parcel.pickup_extended': carrier(
    z.object({
      ...parcel,
      compartment: compartment.nullable(),
      hours: z.number().int().describe('hours added by this extension'),
      previousExpiresAt: ms,
      expiresAt: ms,
      times: z.number().int().describe("the parcel's extensions so far, this one included"),
      group: z.string().optional().describe("the carrier's group, when the group's shared code extended every member still stored (one event per parcel)"),
    }),
    "the consumer extended the pickup time at the kiosk with the code, within the carrier's pickupExtension rule",
  ),
  'deposit.cancelled': carrier(cancelled, 'a deposit was cancelled at the kiosk or by a power cut'),
  'dropoff.cancelled': carrier(cancelled, 'a drop-off was cancelled at the kiosk or by a power cut'),
  'deposit.interrupted': carrier(interrupted, 'a power cut interrupted the deposit and the sensors cannot tell; the compartment is inspected'),
  'dropoff.interrupted': carrier(interrupted, 'a power cut interrupted the drop-off and the sensors cannot tell; the compartment is inspected'),
  'parcel.outcome_uncertain': carrier(
    z.object({
      parcelId: id.describe('the parcel (for an ad hoc deposit: the id it would have had)'),
      waybill: z.string().min(1),
      compartment,
      kind: transactionKind.describe('the transaction whose outcome is uncertain'),
      door: z.enum(['closed', 'unknown']).describe('closed: seen shut afterwards; unknown: never seen again (the lock bus did not return in time)'),
      itemSensor: z.boolean().describe('whether the compartment has an item sensor'),
      cause: z.string().describe('what made it uncertain: BUS_DISCONNECTED, BOARD_SILENT, or POWER_CUT at boot'),
      at: ms,
    }),
    'a door was unlocked for this parcel, then the sensors could not tell what happened: the parcel stays as it was recorded, its code does not open the door, and the compartment waits for an operator (parcel.outcome_settled or the transition event with settled: true follows)',
  ),
  'parcel.outcome_settled': carrier(
    z.object({ ...parcel, compartment, kind: transactionKind, verdict, state: z.string().describe('the parcel state after the verdict'), at: ms }),
    'an operator inspected the compartment of an uncertain outcome and found the parcel there (verdict occupied): the parcel keeps its state and its code works again',
  ),
  'parcel.compartment_forced': carrier(z.object({ ...parcel, compartment }), "the compartment holding the carrier's parcel was forced open"),
  // ---- operator stream
  'door.remote_opened': operator(z.object({ compartment, reason: z.string(), by: z.string(), at: ms }), 'a remote open (or door test) opened the door'),
  'compartment.service': operator(z.object({ compartment, inService: z.boolean(), reason: z.string().nullable() }), 'a compartment was taken out of or put back in service'),
  'compartment.stuck_cleared': operator(
    z.object({
      compartment,
      sessions: z
        .array(z.object({ id, purpose: z.string(), outcome: z.enum(['cleared', 'inspection']) }))
        .max(16)
        .describe('the door sessions ended: a retrieval\'s is cleared (its parcel stays where it is recorded), a placement\'s goes to inspection'),
      hold: z.boolean().describe('a hold left by a finished placement was dropped'),
      reason: z.string(),
    }),
    'an operator cleared a stuck state: door sessions in flight whose runner was gone, or a hold no placement owns',
  ),
  'compartment.recovered': operator(z.object({ compartment }), 'a jammed compartment opened fine and is back in service'),
  'clock.jumped': operator(
    z.object({ expectedAt: ms, wallAt: ms, stepMs: z.number().int() }),
    'the wall clock stepped (NTP, an operator, a board with no battery clock) by more than 2 s beside the monotonic clock; lockouts and timeouts did not move',
  ),
  'problem.reported': operator(
    z.object({ compartment: compartment.nullable(), carrier: z.string(), parcelId: id, problem: z.enum(['damaged', 'wrong_parcel', 'not_there', 'door_closed_early']), reopened: z.boolean(), at: ms }),
    "the consumer reported a problem with a parcel at the kiosk (the carrier's stream has parcel.problem_reported)",
  ),
  'layout.applied': operator(z.object({ version: z.number().int(), by: z.string(), commandId: z.string() }), 'a remote setLayout was applied (not an alarm)'),
  'alarm.latch_jammed': operator(z.object({ compartment, sessionId: id }), 'the latch did not release after the retry: out of service'),
  'alarm.door_left_open': operator(z.object({ compartment, sessionId: id }), 'a door stayed open past doors.leftOpenAlarmMs'),
  'alarm.door_forced_open': operator(z.object({ compartment }), 'a door opened with no unlock'),
  'alarm.board_silent': operator(z.object({ bus: z.string(), board: z.number().int(), compartments: z.array(compartment), code: z.string() }), 'a lock board stopped answering'),
  'alarm.board_all_open': operator(
    z.object({ bus: z.string(), board: z.number().int(), compartments: z.array(compartment) }),
    'every door of a lock board read open at start: check the board polarity',
  ),
  'alarm.board_back': operator(z.object({ bus: z.string(), board: z.number().int(), compartments: z.array(compartment) }), 'a silent lock board answers again'),
  'alarm.bus_disconnected': operator(z.object({ bus: z.string(), message: z.string().optional() }), 'a lock bus (serial port, TCP bridge) was lost'),
  'alarm.bus_reconnected': operator(z.object({ bus: z.string() }), 'a lost lock bus is back'),
  'alarm.needs_inspection': operator(
    z.object({ compartment, purpose: transactionKind, reason: z.enum(['item_present', 'no_item_sensor', 'interrupted', 'outcome_uncertain']) }),
    'a cancelled or interrupted transaction could not prove what the compartment holds: out of service until an operator settles it',
  ),
  'compartment.inspection_settled': operator(
    z.object({ compartment, verdict, purpose: transactionKind.nullable(), parcelId: id.nullable(), parcelState: z.string().nullable(), by: z.string(), at: ms }),
    'an operator opened a compartment in inspection, looked and marked it empty or occupied; it is back in service',
  ),
  'alarm.transition_conflict': operator(
    z.object({ compartment, sessionId: id, parcelId: id, purpose: z.enum(['pickup', 'collect']), expected: z.string(), found: z.string().nullable() }),
    'a door opened for a pickup or collection whose parcel had changed state meanwhile (e.g. it expired): the parcel keeps that state and nothing else is recorded; check the compartment',
  ),
  'alarm.store_failed': operator(z.object({ compartment, code: z.string() }), 'a placed parcel could not be recorded (audit only; reconciled at the next start)'),
  'alarm.background_failed': operator(
    z.object({ path: z.string().describe('the background path: sync.connect, outbox.flush, expiry.sweep, health.report, ...'), code: z.string(), since: ms, failures: z.number().int().min(1), at: ms }),
    'a background task (timer, MQTT handler, sweep, health report) failed; the locker runs degraded and health names the fault until the task succeeds again. Written as soon as the database accepts a write',
  ),
  'alarm.store_refused': operator(
    z.object({ code: z.enum(['STORE_FULL', 'STORE_ERROR']), since: ms, resumedAt: ms }),
    'the database refused writes (disk full, I/O error) from `since` until `resumedAt`: no door whose transaction could not be recorded was opened meanwhile',
  ),
  'alarm.code_lockout': operator(z.object({ retryAfterMs: z.number().int(), burst: z.number().int(), refillPerHour: z.number(), at: ms }), 'the keypad code budget is spent'),
  'alarm.pin_lockout': operator(
    z.object({ scope: z.enum(['locker', 'courier']), carrier: id.optional(), courierId: id.optional(), courierKnown: z.literal(false).optional(), retryAfterMs: z.number().int(), at: ms }),
    'a courier PIN budget is spent',
  ),
  'alarm.scanner_disconnected': operator(z.object({ message: z.string().optional() }), 'the barcode scanner was unplugged or failed'),
  'alarm.scanner_reconnected': operator(z.object({}), 'the barcode scanner is back'),
  'alarm.kiosk_silent': operator(z.object({ silentS: z.number().int() }), 'the kiosk page sent no heartbeat for kiosk.watchdog.silenceS: the kiosk browser is restarted'),
  'alarm.kiosk_back': operator(z.object({}), 'the kiosk page sends heartbeats again'),
  health: operator(
    z.object({ intervalS: z.number().int() }).catchall(z.unknown()),
    'the periodic health report: the figures of /metrics in short form and door cycles per compartment (see "Health")',
  ),
  'update.downloaded': operator(z.object({ id, version: z.string(), from: z.string(), size: z.number().int() }), 'a signed release was downloaded, verified and unpacked'),
  'update.applied': operator(z.object({ id, version: z.string(), from: z.string(), boot: z.number().int() }), 'the locker switched to the new release and is on trial'),
  'update.committed': operator(updateOutcome, 'the new release passed the health gate and stays'),
  'update.rolled_back': operator(updateOutcome, 'the new release failed the health gate; the previous one runs again (reason)'),
  'update.failed': operator(updateOutcome, 'an update stopped before the switch (reason)'),
} as const;

type Catalogue = typeof catalogue;
export type EventType = keyof Catalogue;
export type CarrierEventType = { [T in EventType]: Catalogue[T]['stream'] extends 'carrier' ? T : never }[EventType];
export type OperatorEventType = Exclude<EventType, CarrierEventType>;
export type EventData<T extends EventType> = z.infer<Catalogue[T]['data']>;

/** One event to append to an outbox stream: a carrier's (carrier id) or the operator's (null). */
export type DomainEvent = { [T in EventType]: { carrier: T extends CarrierEventType ? string : null; type: T; data: EventData<T> } }[EventType];
export type CarrierEvent = Extract<DomainEvent, { type: CarrierEventType }>;
export type OperatorEvent = Extract<DomainEvent, { type: OperatorEventType }>;
export type AlarmEvent = Extract<OperatorEvent, { type: `alarm.${string}` }>;

const toCarrier =
  <T extends CarrierEventType>(type: T) =>
  (carrierId: string, data: EventData<T>) =>
    ({ carrier: carrierId, type, data }) as Extract<DomainEvent, { type: T }>;
const toOperator =
  <T extends OperatorEventType>(type: T) =>
  (data: EventData<T>) =>
    ({ carrier: null, type, data }) as Extract<DomainEvent, { type: T }>;

/** The constructors: the only way to make an event. */
export const Events = {
  parcelAnnounced: toCarrier('parcel.announced'),
  dropoffAnnounced: toCarrier('dropoff.announced'),
  parcelStored: toCarrier('parcel.stored'),
  dropoffDroppedOff: toCarrier('dropoff.dropped_off'),
  parcelPickedUp: toCarrier('parcel.picked_up'),
  parcelPickupFailed: toCarrier('parcel.pickup_failed'),
  parcelRetrieved: toCarrier('parcel.retrieved'),
  dropoffCollected: toCarrier('dropoff.collected'),
  parcelCollectionConfirmed: toCarrier('parcel.collection_confirmed'),
  parcelExpired: toCarrier('parcel.expired'),
  parcelCancelled: toCarrier('parcel.cancelled'),
  parcelPickupExtended: toCarrier('parcel.pickup_extended'),
  parcelProblemReported: toCarrier('parcel.problem_reported'),
  problemReported: toOperator('problem.reported'),
  depositCancelled: toCarrier('deposit.cancelled'),
  dropoffCancelled: toCarrier('dropoff.cancelled'),
  depositInterrupted: toCarrier('deposit.interrupted'),
  dropoffInterrupted: toCarrier('dropoff.interrupted'),
  parcelCompartmentForced: toCarrier('parcel.compartment_forced'),
  parcelOutcomeUncertain: toCarrier('parcel.outcome_uncertain'),
  parcelOutcomeSettled: toCarrier('parcel.outcome_settled'),
  inspectionSettled: toOperator('compartment.inspection_settled'),
  doorRemoteOpened: toOperator('door.remote_opened'),
  compartmentService: toOperator('compartment.service'),
  compartmentRecovered: toOperator('compartment.recovered'),
  stuckCleared: toOperator('compartment.stuck_cleared'),
  clockJumped: toOperator('clock.jumped'),
  layoutApplied: toOperator('layout.applied'),
  latchJammed: toOperator('alarm.latch_jammed'),
  doorLeftOpen: toOperator('alarm.door_left_open'),
  doorForcedOpen: toOperator('alarm.door_forced_open'),
  boardSilent: toOperator('alarm.board_silent'),
  boardBack: toOperator('alarm.board_back'),
  boardAllOpen: toOperator('alarm.board_all_open'),
  busDisconnected: toOperator('alarm.bus_disconnected'),
  busReconnected: toOperator('alarm.bus_reconnected'),
  needsInspection: toOperator('alarm.needs_inspection'),
  transitionConflict: toOperator('alarm.transition_conflict'),
  storeFailed: toOperator('alarm.store_failed'),
  backgroundFailed: toOperator('alarm.background_failed'),
  storeRefused: toOperator('alarm.store_refused'),
  codeLockout: toOperator('alarm.code_lockout'),
  pinLockout: toOperator('alarm.pin_lockout'),
  scannerDisconnected: toOperator('alarm.scanner_disconnected'),
  scannerReconnected: toOperator('alarm.scanner_reconnected'),
  kioskSilent: toOperator('alarm.kiosk_silent'),
  kioskBack: toOperator('alarm.kiosk_back'),
  health: toOperator('health'),
  updateDownloaded: toOperator('update.downloaded'),
  updateApplied: toOperator('update.applied'),
  updateCommitted: toOperator('update.committed'),
  updateRolledBack: toOperator('update.rolled_back'),
  updateFailed: toOperator('update.failed'),
} as const;

/** Where a parcel taken out of its compartment ends: the state names its carrier event. */
export type TakenOutState = 'picked_up' | 'retrieved' | 'collected';

/**
 * The carrier event of a parcel taken out of its compartment (parcel.picked_up,
 * parcel.retrieved or dropoff.collected), named for the state it reached: the one place that
 * maps the state to its event, for boot reconciliation and a settled inspection alike.
 */
export function takenOutEvent(
  next: TakenOutState,
  carrierId: string,
  base: { parcelId: string; waybill: string; compartment: string; reconciled?: true; settled?: true },
  at: number,
): CarrierEvent {
  if (next === 'picked_up') return Events.parcelPickedUp(carrierId, { ...base, pickedUpAt: at });
  if (next === 'retrieved') return Events.parcelRetrieved(carrierId, { ...base, retrievedAt: at });
  return Events.dropoffCollected(carrierId, { ...base, collectedAt: at });
}

/** The cancelled event of a placement kind (no type is built from a template). */
export function placementCancelled(kind: 'deposit' | 'dropoff', carrierId: string, data: EventData<'deposit.cancelled'>): CarrierEvent {
  return kind === 'deposit' ? Events.depositCancelled(carrierId, data) : Events.dropoffCancelled(carrierId, data);
}

/** The interrupted event of a placement kind. */
export function placementInterrupted(kind: 'deposit' | 'dropoff', carrierId: string, data: EventData<'deposit.interrupted'>): CarrierEvent {
  return kind === 'deposit' ? Events.depositInterrupted(carrierId, data) : Events.dropoffInterrupted(carrierId, data);
}

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(catalogue, type);
}

/** Checks a received event's data against its schema (for consumers: lockerctl, the fleet simulator's carrier back end). */
export function parseEventData<T extends EventType>(type: T, data: unknown): EventData<T> {
  return catalogue[type].data.parse(data) as EventData<T>;
}

/** The catalogue as JSON Schema (draft 2020-12): one entry per event type, with its stream. */
export function eventsJsonSchema(): Record<string, unknown> {
  const defs: Record<string, unknown> = {};
  for (const [type, def] of Object.entries(catalogue) as [EventType, Definition<'carrier' | 'operator', z.ZodObject>][]) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(def.data, { io: 'output' }) as Record<string, unknown>;
    defs[type] = { description: `${def.doc} (${def.stream} stream)`, ...schema };
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'lockerd events: the data member of an event envelope, by type',
    description: 'Generated from src/domain/events.ts by scripts/generateEventDocs.ts; do not edit.',
    $defs: defs,
    oneOf: Object.keys(defs).map((type) => ({
      type: 'object',
      required: ['type', 'data'],
      properties: { type: { const: type }, data: { $ref: `#/$defs/${type}` } },
    })),
  };
}
