// The locker: the facade the kiosk and the sync layer use. It checks who may do what, then
// hands each flow to its runner: Placements (courier deposit, consumer drop-off) and
// Retrievals (pickup, collection, remote open). The compartment read model is
// CompartmentViews; hardware events become alarms here.
//
// Commit points (DESIGN.md section 5): a placement commits when the door closes with the
// parcel inside; a retrieval commits when the door is seen open. A jam never consumes a code.
import { type Clock, type ClockJump, ClockJumpDetector, type TimerHandle } from '../../kernel/clock.js';
import { type CarrierConfig, type SizeClass } from '../config/schema.js';
import { LockerError, ErrorCodes, isLockerError, toLockerError } from '../../kernel/errors.js';
import { type FailurePolicy, reportingPolicy } from '../../kernel/failurePolicy.js';
import { type IdFactory } from '../ids.js';
import { type Logger } from '../logger.js';
import { type LockerStore, type ParcelRow } from '../store/lockerStore.js';
import { nextLargerSize } from './allocation.js';
import { type CodeVault } from './codeVault.js';
import { CompartmentViews } from './compartmentViews.js';
import { type DoorController } from './doorController.js';
import { type EventRecorder } from './eventRecorder.js';
import { HardwareAlarms } from './hardwareAlarms.js';
import { type InspectionView, Inspections, type Verdict } from './inspections.js';
import { Events } from './events.js';
import { LockerAlarms } from './lockerAlarms.js';
import { type LockerEvent, LockerNotifier } from './lockerEvents.js';
import { type CodeEncrypter, Placements, type PlacementHolder } from './placements.js';
import { reconcileInFlight } from './reconcile.js';
import { PickupExtensions, type PickupExtended } from './pickupExtensions.js';
import { ParcelNeedsStore, PickupExtensionStore } from '../store/pickupExtensions.js';
import { type GroupRef, MAX_GROUP_MEMBERS } from '../store/parcelGroups.js';
import { Retrievals } from './retrievals.js';
import { CollectionConfirmations, type Confirmation, type ConfirmProof, type UnconfirmedCollection } from './collectionConfirmations.js';
import { type Actor, actorName, type CompartmentView, type CourierIdentity, type DepositView, type DoorOpened, parcelView, type ParcelView } from './views.js';

export type { PlacementHolder, CodeEncrypter, LockerEvent };

/** How often the wall clock is compared with the monotonic one, and the step that is a jump. */
export const CLOCK_CHECK_MS = 5_000;
export const CLOCK_JUMP_MS = 2_000;

/** The only setting the locker itself reads (codes and doors go to CodeVault and DoorController). */
/** GET /api/operator/compartments/:id (docs/kiosk-api.md). */
export interface CompartmentDetails {
  compartment: CompartmentView;
  parcels: { kind: string; state: string; carrier: string; since: number | null; expiresAt: number | null }[];
  doorEvents: { purpose: string; state: string; startedAt: number; endedAt: number | null; outcome: string | null }[];
  /** Something service mode can clear (clearStuck): a session in flight with no runner, or a hold no placement owns. */
  stuck: boolean;
}

export interface LockerSettings {
  /** demo.revealCodes: show an issued code to the simulator panel. */
  revealCodes: boolean;
}

export interface LockerDeps {
  settings: LockerSettings;
  store: LockerStore;
  doors: DoorController;
  recorder: EventRecorder;
  codes: CodeVault;
  clock: Clock;
  newId: IdFactory;
  logger: Logger;
  encryptCode: CodeEncrypter;
}

export const pickupProblems = ['damaged', 'wrong_parcel', 'not_there', 'door_closed_early'] as const;
export type PickupProblem = (typeof pickupProblems)[number];

export interface Reservation {
  waybill: string;
  size: SizeClass;
  kind: 'delivery' | 'dropoff';
  dwellHours?: number;
  /** Plaintext code chosen by the carrier (already decrypted). */
  code?: string;
  /** The parcel must go into a low (accessible) compartment. */
  requiresLow?: boolean;
  /** The carrier's group for one recipient: one code opens every member's door (issue 11, flow 2). */
  group?: string;
}

/** Where a grouped pickup stands: this door is `position` of `total`; `remaining` doors can still open on the code. */
export interface GroupPickup {
  position: number;
  total: number;
  remaining: number;
  /** Members that cannot open now, named for the screen. */
  skipped: { compartment: string | null; reason: 'expired' | 'inspection' | 'out_of_service' }[];
}

export class Locker {
  private readonly placements: Placements;
  private readonly retrievals: Retrievals;
  private readonly confirmations: CollectionConfirmations;
  private readonly extensions: PickupExtensions;
  private readonly needs: ParcelNeedsStore;
  private readonly notifier: LockerNotifier;
  private readonly inspections: Inspections;
  private expiryTimer?: TimerHandle;
  private clockTimer?: TimerHandle;
  private readonly jumps: ClockJumpDetector;
  private stopping = false;
  readonly alarms: LockerAlarms;
  readonly views: CompartmentViews;
  /** Compartments held by placements (the set Placements owns; read here to clear a stuck hold). */
  private readonly held = new Set<string>();

  constructor(private readonly d: LockerDeps) {
    this.notifier = new LockerNotifier(d.logger);
    this.jumps = new ClockJumpDetector(d.clock, CLOCK_JUMP_MS);
    const notify = this.notifier.notify;
    const held = this.held;
    this.views = new CompartmentViews(d.store, d.doors, held);
    this.alarms = new LockerAlarms(d.store, d.recorder, d.logger, notify);
    // Inspections and Placements need each other (an uncertain placement / a settled one): closures break the circle.
    const uncertain = (u: Parameters<Inspections['record']>[0]): void => this.inspections.record(u);
    const common = { store: d.store, doors: d.doors, recorder: d.recorder, alarms: this.alarms, views: this.views, clock: d.clock, newId: d.newId, logger: d.logger, notify, uncertain };
    this.placements = new Placements({ ...common, held, codes: d.codes, encryptCode: d.encryptCode, revealCodes: d.settings.revealCodes });
    this.retrievals = new Retrievals(common);
    this.confirmations = new CollectionConfirmations(d.recorder, d.clock);
    this.needs = new ParcelNeedsStore(d.store.db);
    this.extensions = new PickupExtensions({
      codes: d.codes,
      extensions: new PickupExtensionStore(d.store.db),
      recorder: d.recorder,
      views: this.views,
      groups: d.codes.groups,
      parcel: (id) => d.store.parcel(id),
      clock: d.clock,
      rejection: (p) => this.codeRejection(p),
      expireDue: () => this.expireDue(),
    });
    this.inspections = new Inspections({ store: d.store, doors: d.doors, recorder: d.recorder, views: this.views, clock: d.clock, notify, commitRecovered: (r) => this.placements.commitRecovered(r) });
    this.notifier.on((e) => {
      if (e.type === 'alarm' && e.alarm.type === 'alarm.needs_inspection' && e.alarm.compartment) this.inspections.started(e.alarm.compartment);
    });
    const hardware = new HardwareAlarms({ store: d.store, alarms: this.alarms, views: this.views, notify, logger: d.logger, reconcile: () => this.reconcile() });
    d.doors.on((e) => hardware.onDoorEvent(e));
  }

  // ---------------------------------------------------------------- lifecycle

  /** The sweeps; a failure of one (disk full, damaged file) goes to `failures`, never to the event loop. */
  startTimers(failures: FailurePolicy = reportingPolicy((path, err) => this.d.logger.error({ path, err }, 'background path failed'))): void {
    failures.run('expiry.sweep', () => this.expireDue());
    this.expiryTimer = this.d.clock.setInterval(() => failures.run('expiry.sweep', () => this.expireDue()), 60_000);
    this.clockTimer = this.d.clock.setInterval(() => failures.run('clock.check', () => this.checkClock()), CLOCK_CHECK_MS);
  }

  /**
   * A stop began (SIGTERM): every new door session is refused with LOCKER_STOPPING from now on;
   * the sessions in flight go on until they settle (see sessionsInFlight).
   */
  beginStop(): void {
    this.stopping = true;
  }

  /** Door sessions running and placed parcels being recorded: a stop waits until this is 0. */
  sessionsInFlight(): number {
    return this.d.doors.sessionsInFlight() + this.placements.recordingNow();
  }

  private refuseWhileStopping(): void {
    if (this.stopping) throw new LockerError(ErrorCodes.LOCKER_STOPPING, 'the locker is stopping; please try again in a minute');
  }

  stop(): void {
    this.expiryTimer?.cancel();
    this.clockTimer?.cancel();
  }

  /**
   * Compares the wall clock with the monotonic one (every CLOCK_CHECK_MS) and records a step as
   * clock.jumped. Nothing else needs to react: budgets, lockouts and timeouts run on monotonic
   * time; expiry is checked against expires_at whenever a code is used.
   */
  checkClock(): ClockJump | undefined {
    const jump = this.jumps.check();
    if (!jump) return undefined;
    this.d.logger.warn(jump, 'the wall clock stepped');
    try {
      this.d.recorder.commit({ actor: 'system', action: 'clock.jumped', data: { ...jump }, events: [Events.clockJumped(jump)] });
    } catch (err) {
      this.d.logger.error({ err }, 'could not record the clock step');
    }
    return jump;
  }

  on(listener: (e: LockerEvent) => void): () => void {
    return this.notifier.on(listener);
  }

  // ---------------------------------------------------------------- views

  compartments(): CompartmentView[] {
    return this.views.all();
  }

  compartment(id: string): CompartmentView {
    return this.views.one(id);
  }

  /**
   * Service mode's details of one compartment (issue 11, flow 8): the parcels in it (state,
   * carrier, since when; no waybill, no code) and its last door sessions, newest first.
   */
  compartmentDetails(id: string): CompartmentDetails {
    if (!this.d.store.compartment(id)) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${id}`);
    return {
      compartment: this.views.one(id),
      parcels: this.d.store.parcelsIn(id).map((p) => ({ kind: p.kind, state: p.state, carrier: p.carrier, since: p.storedAt, expiresAt: p.expiresAt })),
      doorEvents: this.d.store.recentSessionsIn(id, 10),
      stuck: this.stuckIn(id),
    };
  }

  carrier(id: string): CarrierConfig {
    return this.views.carrier(id);
  }

  // ---------------------------------------------------------------- consumer pickup

  lockout(): { lockedOut: boolean; retryAfterMs: number; failuresLeft: number } {
    return this.d.codes.lockout();
  }

  /** Opens the door of the parcel with this code. Resolves when the door is seen open. */
  async pickup(rawCode: string): Promise<DoorOpened & { parcelId: string; carrier: string; group?: GroupPickup }> {
    this.refuseWhileStopping();
    let group: GroupPickup | undefined;
    const parcel = this.d.codes.redeem(
      rawCode,
      ['stored'],
      (p) => this.codeRejection(p),
      (g) => {
        const t = this.groupTarget(g);
        group = t.group;
        return t.parcel;
      },
    );
    if (group) return { ...(await this.retrievals.pickup(parcel)), parcelId: parcel.id, carrier: parcel.carrier, group };
    // Expiry holds from expires_at on, whenever the sweep next runs: the record catches up now.
    if (parcel.expiresAt !== null && parcel.expiresAt <= this.d.clock.now()) {
      this.expireDue();
      throw new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcel goes back to the carrier');
    }
    this.refuseInInspection(parcel.compartmentId);
    return { ...(await this.retrievals.pickup(parcel)), parcelId: parcel.id, carrier: parcel.carrier };
  }

  /**
   * A problem the consumer reports at the kiosk right after a pickup (the kiosk holds the
   * pickup's handle for a grace period, see src/kiosk/pickupReports.ts). The owning carrier and
   * the operator each get an event; 'door_closed_early' opens the door once more.
   */
  async reportProblem(parcelId: string, problem: PickupProblem): Promise<{ reopened?: DoorOpened }> {
    if (problem === 'door_closed_early') this.refuseWhileStopping();
    const p = this.d.store.parcel(parcelId);
    if (!p) throw new LockerError(ErrorCodes.NOT_FOUND, `no parcel ${parcelId}`);
    const reopened = problem === 'door_closed_early' && p.compartmentId ? await this.retrievals.remoteOpen(p.compartmentId, 'door closed too early after a pickup', { kind: 'consumer' }) : undefined;
    const at = this.d.clock.now();
    const base = { parcelId: p.id, compartment: p.compartmentId, problem, reopened: reopened !== undefined, at };
    this.d.recorder.commit({
      actor: 'consumer',
      action: 'parcel.problem_reported',
      subject: p.id,
      data: { problem, reopened: reopened !== undefined },
      events: [Events.parcelProblemReported(p.carrier, { ...base, waybill: p.waybill }), Events.problemReported({ ...base, carrier: p.carrier })],
    });
    return reopened ? { reopened } : {};
  }

  /** Extends the pickup time of the code's parcel where its carrier allows it (no door opens). */
  extendPickup(rawCode: string, hours?: number): PickupExtended {
    return this.extensions.extend(rawCode, hours);
  }

  /**
   * The member of a group the shared code opens now: the first stored one (in storing order)
   * whose door can open. Expired members, and those in inspection or out of service, are named
   * and passed over. With none openable, the reason of the first is the refusal.
   */
  private groupTarget(g: GroupRef): { parcel: ParcelRow; group: GroupPickup } {
    const now = this.d.clock.now();
    const members = this.d.codes.groups.memberIds(g).flatMap((id) => this.d.store.parcel(id) ?? []);
    const taken = members.filter((p) => p.state === 'picked_up').length;
    const skipped: GroupPickup['skipped'] = [];
    const openable: ParcelRow[] = [];
    for (const p of members) {
      if (p.state === 'expired' || (p.state === 'stored' && p.expiresAt !== null && p.expiresAt <= now)) skipped.push({ compartment: p.compartmentId, reason: 'expired' });
      else if (p.state !== 'stored') continue;
      else if (this.inspections.pending(p.compartmentId)) skipped.push({ compartment: p.compartmentId, reason: 'inspection' });
      else if (p.compartmentId && this.d.store.compartment(p.compartmentId)?.inService === false) skipped.push({ compartment: p.compartmentId, reason: 'out_of_service' });
      else openable.push(p);
    }
    // A jammed door is tried again (as for one parcel, a door that opens is back in service) when nothing else can open.
    const retry = openable.length === 0 ? skipped.findIndex((s) => s.reason === 'out_of_service') : -1;
    if (retry >= 0) {
      const again = members.find((p) => p.state === 'stored' && p.compartmentId === skipped[retry]?.compartment);
      if (again) openable.push(again);
      skipped.splice(retry, 1);
    }
    const target = openable[0];
    if (!target) {
      const first = skipped[0];
      if (!first) throw new LockerError(ErrorCodes.CODE_UNKNOWN, 'this code was already used: the parcels have been collected', { reason: 'already_collected' });
      if (first.reason === 'expired') {
        this.expireDue();
        throw new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcel goes back to the carrier');
      }
      this.refuseInInspection(first.compartment);
      throw new LockerError(ErrorCodes.INTERNAL, 'no member of this group can open');
    }
    return { parcel: target, group: { position: taken + 1, total: taken + openable.length + skipped.length, remaining: openable.length - 1, skipped } };
  }

  /** A compartment whose last outcome is uncertain opens only for an operator (see inspections.ts). */
  private refuseInInspection(compartmentId: string | null): void {
    if (this.inspections.pending(compartmentId))
      throw new LockerError(ErrorCodes.NEEDS_INSPECTION, 'this compartment is waiting for an operator to check it; please contact the carrier', { compartment: compartmentId });
  }

  private codeRejection(p: ParcelRow): LockerError | undefined {
    if (p.state === 'expired') return new LockerError(ErrorCodes.CODE_EXPIRED, 'this code has expired; the parcel goes back to the carrier');
    if (p.state === 'announced') return new LockerError(ErrorCodes.CODE_UNKNOWN, 'this parcel has not been delivered yet', { reason: 'not_delivered' });
    if (p.state === 'announced_dropoff') return new LockerError(ErrorCodes.CODE_UNKNOWN, 'this is a drop-off code: choose "Send or return a parcel"', { reason: 'dropoff_code' });
    return undefined;
  }

  // ---------------------------------------------------------------- consumer drop-off

  /**
   * Opens a door for an announced drop-off. starterSecret (random, from the kiosk) is what every
   * follow-up call on this drop-off must show: ids alone do nothing.
   */
  async dropoff(rawCode: string, starterSecret: string, opts: { accessible?: boolean } = {}): Promise<DepositView> {
    this.refuseWhileStopping();
    const parcel = this.d.codes.redeem(rawCode, ['announced_dropoff'], (p) =>
      p.state === 'stored' || p.state === 'expired' ? new LockerError(ErrorCodes.CODE_UNKNOWN, 'this is a pickup code: choose "Collect a parcel"', { reason: 'pickup_code' }) : this.codeRejection(p),
    );
    // A right code gives nothing back to the budget (issue 7, finding 1): only time refills it.
    if (this.placements.inProgress((t) => t.parcelId === parcel.id))
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'this drop-off is already in progress');
    return this.placements.start({ kind: 'dropoff', actor: { kind: 'consumer' }, carrier: parcel.carrier, waybill: parcel.waybill, parcelId: parcel.id, reservation: true, size: parcel.size ?? 'S', starterSecret, accessible: opts.accessible === true || this.needs.requiresLow(parcel.id) });
  }

  // ---------------------------------------------------------------- courier deposit

  async startDeposit(courier: CourierIdentity, req: { waybill: string; size: SizeClass; accessible?: boolean }): Promise<DepositView> {
    this.refuseWhileStopping();
    requirePermission(courier, 'deposit');
    const carrier = this.carrier(courier.carrier);
    if (this.placements.inProgress((t) => t.carrier === carrier.id && t.waybill === req.waybill))
      throw new LockerError(ErrorCodes.WAYBILL_DUPLICATE, `waybill ${req.waybill} is already being deposited`);
    const existing = this.d.store.liveParcelByWaybill(carrier.id, req.waybill);
    let parcelId: string;
    let reservation = false;
    if (existing) {
      if (existing.state !== 'announced') throw new LockerError(ErrorCodes.WAYBILL_DUPLICATE, `waybill ${req.waybill} is already in this locker (${existing.state})`);
      parcelId = existing.id;
      reservation = true;
    } else {
      if (!carrier.adHocDeposit) throw new LockerError(ErrorCodes.ADHOC_NOT_ALLOWED, `${carrier.name} requires a reservation for waybill ${req.waybill}`);
      parcelId = this.d.newId();
    }
    // A stored parcel gets a code unless the carrier chose one at announcement (already counted).
    if (!existing?.codeDigest) this.d.codes.assertCapacity(1, this.placements.pendingNewCodes());
    return this.placements.start({ kind: 'deposit', actor: { kind: 'courier', courier }, carrier: carrier.id, waybill: req.waybill, parcelId, reservation, size: req.size, accessible: req.accessible === true || (existing !== undefined && this.needs.requiresLow(existing.id)) });
  }

  /** Placements held in memory: in progress, and finished ones kept for their courier (bounded). */
  placementsHeld(): number {
    return this.placements.size();
  }

  depositView(actor: PlacementHolder, id: string): DepositView {
    const t = this.placements.own(actor, id);
    return this.placements.view(t);
  }

  async wrongSize(courier: PlacementHolder, id: string, size?: SizeClass): Promise<DepositView> {
    this.refuseWhileStopping();
    const t = this.placements.own(courier, id);
    const current = 'size' in t.state ? t.state.size : undefined;
    const wanted = size ?? (current ? nextLargerSize(current) : undefined);
    if (!wanted) throw new LockerError(ErrorCodes.NO_COMPARTMENT_FREE, 'there is no larger size');
    return this.placements.driveAndWait(t, { type: 'wrong_size', size: wanted });
  }

  async reopen(courier: PlacementHolder, id: string): Promise<DepositView> {
    this.refuseWhileStopping();
    return this.placements.driveAndWait(this.placements.own(courier, id), { type: 'reopen' });
  }

  cancel(courier: PlacementHolder, id: string): DepositView {
    const t = this.placements.own(courier, id);
    this.placements.drive(t, { type: 'cancel' });
    return this.placements.view(t);
  }

  // ---------------------------------------------------------------- courier collection

  collections(courier: CourierIdentity): { parcelId: string; kind: 'expired' | 'dropoff'; waybill: string; compartment: CompartmentView }[] {
    requirePermission(courier, 'collect');
    // A parcel past its expires_at is due back now, whenever the sweep next runs.
    this.expireDue();
    return this.d.store
      .collectable(courier.carrier)
      .filter((p) => p.compartmentId && !this.inspections.pending(p.compartmentId))
      .map((p) => ({ parcelId: p.id, kind: p.state === 'expired' ? ('expired' as const) : ('dropoff' as const), waybill: p.waybill, compartment: this.compartment(p.compartmentId ?? '') }));
  }

  async openCollection(courier: CourierIdentity, parcelId: string): Promise<DoorOpened> {
    this.refuseWhileStopping();
    requirePermission(courier, 'collect');
    this.expireDue();
    const parcel = this.d.store.parcel(parcelId);
    // Another carrier's parcel is reported exactly like a missing one.
    if (!parcel || parcel.carrier !== courier.carrier || (parcel.state !== 'expired' && parcel.state !== 'dropped_off'))
      throw new LockerError(ErrorCodes.NOT_FOUND, `no parcel ${parcelId} to collect`);
    this.refuseInInspection(parcel.compartmentId);
    const opened = await this.retrievals.collect(parcel, courier);
    // Collected now (the door was seen open); the scan that confirms it is a separate fact.
    this.confirmations.opened({
      parcelId: parcel.id,
      carrier: parcel.carrier,
      waybill: parcel.waybill,
      compartment: opened.compartment.id,
      kind: parcel.state === 'expired' ? 'expired' : 'dropoff',
    });
    return opened;
  }

  /** Collections of the courier's carrier whose door opened and that wait for their scan. */
  unconfirmedCollections(courier: CourierIdentity): UnconfirmedCollection[] {
    requirePermission(courier, 'collect');
    return this.confirmations.unconfirmed(courier);
  }

  /** The scanned or typed waybill of a collected parcel, or "could not scan" with a reason (issue 11, flow 7). */
  confirmCollection(courier: CourierIdentity, parcelId: string, proof: ConfirmProof): Confirmation {
    requirePermission(courier, 'collect');
    return this.confirmations.confirm(courier, parcelId, proof);
  }

  // ---------------------------------------------------------------- operator

  async remoteOpen(compartmentId: string, reason: string, actor: Actor): Promise<DoorOpened> {
    this.refuseWhileStopping();
    if (!reason.trim()) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a reason is required to open a door');
    this.compartment(compartmentId);
    return this.retrievals.remoteOpen(compartmentId, reason, actor);
  }

  setService(compartmentId: string, inService: boolean, reason: string | undefined, actor: Actor): CompartmentView {
    const c = this.d.store.compartment(compartmentId);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${compartmentId}`);
    const fault = inService ? null : reason?.trim() || 'OPERATOR';
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'compartment.service', subject: compartmentId, data: { inService, reason }, events: [Events.compartmentService({ compartment: compartmentId, inService, reason: fault })] },
      () => this.d.store.setService(compartmentId, inService, fault),
    );
    const view = this.compartment(compartmentId);
    this.emit({ type: 'compartment', compartment: view });
    return view;
  }

  /**
   * Service mode "clear a stuck state" (issue 11, flow 8): ends the door sessions left in flight
   * on this compartment whose runner is gone, and drops a hold no placement in progress owns.
   * Refused while the door is not seen closed (DOOR_NOT_CLOSED), while a door session runs or a
   * placement in progress uses the compartment (DOOR_BUSY), and when nothing is stuck
   * (NOTHING_STUCK). Nothing is guessed: a retrieval's parcel stays where it is recorded (its
   * code still works), a placement's session goes to inspection.
   */
  private stuckIn(id: string): boolean {
    if (this.d.doors.busy(id) || this.placements.inProgress((t) => placementUses(t.state, id))) return false;
    return this.held.has(id) || this.d.store.inFlightSessions().some((s) => s.compartmentId === id);
  }

  clearStuck(compartmentId: string, reason: string, actor: Actor): CompartmentView {
    const why = reason.trim();
    if (!why) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a reason is required to clear a stuck state');
    this.compartment(compartmentId);
    if (this.d.doors.busy(compartmentId))
      throw new LockerError(ErrorCodes.DOOR_BUSY, `a door session is running on ${compartmentId}`, { compartment: compartmentId, reason: 'session' });
    if (this.placements.inProgress((t) => placementUses(t.state, compartmentId)))
      throw new LockerError(ErrorCodes.DOOR_BUSY, `a placement in progress uses ${compartmentId}`, { compartment: compartmentId, reason: 'placement' });
    if (this.d.doors.door(compartmentId).open !== false)
      throw new LockerError(ErrorCodes.DOOR_NOT_CLOSED, `door ${compartmentId} is not seen closed: close it first`, { compartment: compartmentId });
    const stuck = this.d.store.inFlightSessions().filter((s) => s.compartmentId === compartmentId).slice(0, 16);
    const hold = this.held.has(compartmentId);
    if (!stuck.length && !hold) throw new LockerError(ErrorCodes.NOTHING_STUCK, `nothing is stuck on ${compartmentId}`, { compartment: compartmentId });
    const now = this.d.clock.now();
    const sessions: { id: string; purpose: string; outcome: 'cleared' | 'inspection' }[] = [];
    for (const s of stuck) {
      if (s.purpose === 'deposit' || s.purpose === 'dropoff') {
        // The parcel may be inside or not: an operator opens, looks and settles (inspections.ts).
        this.inspections.record({
          sessionId: s.id,
          compartment: compartmentId,
          kind: s.purpose,
          parcelId: typeof s.context.parcelId === 'string' ? s.context.parcelId : '',
          carrier: typeof s.context.carrier === 'string' ? s.context.carrier : undefined,
          waybill: typeof s.context.waybill === 'string' ? s.context.waybill : '',
          door: 'closed',
          cause: ErrorCodes.SESSION_CLEARED,
        });
        sessions.push({ id: s.id, purpose: s.purpose, outcome: 'inspection' });
      } else {
        sessions.push({ id: s.id, purpose: s.purpose, outcome: 'cleared' });
      }
    }
    const ended = sessions.filter((s) => s.outcome === 'cleared');
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'compartment.stuck_cleared', subject: compartmentId, data: { sessions, hold, reason: why }, events: [Events.stuckCleared({ compartment: compartmentId, sessions, hold, reason: why })] },
      () => {
        for (const s of ended) this.d.store.endSession(s.id, 'failed', 'cleared', now);
      },
    );
    this.held.delete(compartmentId);
    const view = this.compartment(compartmentId);
    this.emit({ type: 'compartment', compartment: view });
    return view;
  }

  /** Compartments in inspection, with what the operator needs to settle them. */
  inspectionList(): InspectionView[] {
    return this.inspections.list();
  }

  /** The operator's verdict after opening and looking into a compartment in inspection (inspections.ts). */
  settleInspection(compartmentId: string, verdict: Verdict, actor: Actor): Promise<CompartmentView> {
    return this.inspections.settle(compartmentId, verdict, actor);
  }

  /** Opens every in-service, empty door one after another (never two energised at once). */
  async testDoors(actor: Actor): Promise<{ compartment: string; ok: boolean; code?: string }[]> {
    const results: { compartment: string; ok: boolean; code?: string }[] = [];
    for (const c of this.compartments()) {
      if (c.state !== 'free') continue;
      try {
        await this.remoteOpen(c.id, 'door test', actor);
        results.push({ compartment: c.id, ok: true });
      } catch (e) {
        results.push({ compartment: c.id, ok: false, code: toLockerError(e).code });
      }
    }
    return results;
  }

  // ---------------------------------------------------------------- carrier reservations

  announce(carrierId: string, r: Reservation, actor: Actor): { parcelId: string; code?: string } {
    const carrier = this.carrier(carrierId);
    if (this.d.store.liveParcelByWaybill(carrier.id, r.waybill)) throw new LockerError(ErrorCodes.WAYBILL_DUPLICATE, `waybill ${r.waybill} is already known to this locker`);
    const group = r.group === undefined ? undefined : { carrier: carrier.id, group: r.group };
    if (group) {
      if (r.kind !== 'delivery') throw new LockerError(ErrorCodes.INPUT_INVALID, 'only deliveries can be in a group');
      if (r.code !== undefined) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a grouped delivery takes the locker\'s code for its group; send no code');
      if (this.d.codes.groups.size(group) >= MAX_GROUP_MEMBERS) throw new LockerError(ErrorCodes.INPUT_INVALID, `a group holds at most ${MAX_GROUP_MEMBERS} parcels`, { limit: MAX_GROUP_MEMBERS });
    }
    if (r.kind === 'dropoff' || r.code !== undefined) this.d.codes.assertCapacity(1, this.placements.pendingNewCodes());
    const generated = r.kind === 'dropoff' && !r.code ? this.d.codes.newUniqueCode() : undefined;
    const code = r.code ?? generated;
    const codeDigest = code ? this.d.codes.digestOf(code, true) : null;
    const parcelId = this.d.newId();
    const now = this.d.clock.now();
    this.d.recorder.commit(
      {
        actor: actorName(actor),
        action: 'parcel.announced',
        subject: parcelId,
        data: { waybill: r.waybill, kind: r.kind },
        events: [(r.kind === 'dropoff' ? Events.dropoffAnnounced : Events.parcelAnnounced)(carrier.id, { parcelId, waybill: r.waybill, size: r.size, codeChosenByCarrier: r.code !== undefined })],
      },
      () => {
        this.d.store.insertParcel({
          id: parcelId,
          carrier: carrier.id,
          waybill: r.waybill,
          kind: r.kind,
          state: r.kind === 'dropoff' ? 'announced_dropoff' : 'announced',
          size: r.size,
          compartmentId: null,
          codeDigest,
          dwellHours: r.dwellHours ?? null,
          announcedAt: now,
          storedAt: null,
          expiresAt: null,
        });
        // In the same transaction: a reservation is never stored without its need.
        if (r.requiresLow) this.needs.requireLow(parcelId);
        if (group) this.d.codes.groups.join(parcelId, group);
      },
    );
    return { parcelId, ...(generated ? { code: generated } : {}) };
  }

  cancelReservation(carrierId: string, waybill: string, actor: Actor): ParcelView {
    const p = this.d.store.liveParcelByWaybill(carrierId, waybill);
    if (!p || (p.state !== 'announced' && p.state !== 'announced_dropoff')) throw new LockerError(ErrorCodes.RESERVATION_UNKNOWN, `no open reservation for waybill ${waybill}`);
    if (this.placements.inProgress((t) => t.parcelId === p.id)) throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'the parcel is being placed right now');
    const now = this.d.clock.now();
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'parcel.cancelled', subject: p.id, events: [Events.parcelCancelled(carrierId, { parcelId: p.id, waybill })] },
      () => this.d.store.transitionParcel(p.id, p.state, 'cancelled', now),
    );
    return parcelView({ ...p, state: 'cancelled' });
  }

  carrierParcels(carrierId: string): ParcelView[] {
    return this.d.store.carrierParcels(carrierId).map(parcelView);
  }

  /** A remote setLayout was applied: recorded for the operator (it is not an alarm). */
  recordLayoutApplied(data: { version: number; by: string; commandId: string }): void {
    this.d.recorder.commit({ actor: `operator:${data.by}`, action: 'layout.applied', subject: null, data, events: [Events.layoutApplied(data)] });
  }

  // ---------------------------------------------------------------- expiry

  /**
   * Expires every stored parcel past its expires_at; returns how many it moved. Each is a
   * compare-and-set on `stored`: a parcel a pickup took since the sweep read it is left alone,
   * with no event and no audit row.
   */
  expireDue(): number {
    const due = this.d.store.dueForExpiry(this.d.clock.now());
    let moved = 0;
    for (const p of due) {
      try {
        this.d.recorder.commit(
          { actor: 'system', action: 'parcel.expired', subject: p.id, events: [Events.parcelExpired(p.carrier, { parcelId: p.id, waybill: p.waybill, compartment: p.compartmentId })] },
          () => this.d.store.transitionParcel(p.id, 'stored', 'expired', null),
        );
        moved++;
      } catch (err) {
        if (!isLockerError(err) || err.code !== ErrorCodes.TRANSACTION_STATE) throw err;
      }
    }
    return moved;
  }


  // ---------------------------------------------------------------- power-cut recovery

  /** Resolves door sessions a crash or power cut left in flight (see reconcile.ts). */
  reconcile(): Promise<{ resolved: number; pending: number }> {
    this.inspections.holdAtBoot();
    return reconcileInFlight({
      store: this.d.store,
      doors: this.d.doors,
      recorder: this.d.recorder,
      clock: this.d.clock,
      logger: this.d.logger,
      commitRecovered: (r) => this.placements.commitRecovered(r),
      uncertain: (u) => this.inspections.record(u),
    });
  }

  emit(e: LockerEvent): void {
    this.notifier.notify(e);
  }
}

/** Whether a placement's state uses this compartment (its door, or the old door it still releases). */
function placementUses(state: { tag: string; compartment?: string; releasing?: string; from?: string }, compartmentId: string): boolean {
  return state.compartment === compartmentId || state.releasing === compartmentId || state.from === compartmentId;
}

function requirePermission(c: CourierIdentity, p: 'deposit' | 'collect'): void {
  if (!c.permissions.includes(p)) throw new LockerError(ErrorCodes.NOT_PERMITTED, `courier ${c.courierId} may not ${p}`);
}

export { isLockerError };
