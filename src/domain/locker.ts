// The locker: compartments, parcels and the flows people use at the kiosk. It runs the
// transaction state machines (transactions.ts) over door sessions (doorController.ts) and
// records every change with its audit entry and events in one SQLite transaction.
//
// Commit points (DESIGN.md section 5): a placement commits when the door closes with the
// parcel inside; a retrieval commits when the door is seen open. A jam never consumes a code.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type CarrierConfig, type LockerConfig, type SizeClass } from '../config/schema.js';
import { type CarrierCodePayload } from '../crypto/codeJwe.js';
import { LockerError, ErrorCodes, type ErrorCode, isLockerError, toLockerError } from '../../kernel/errors.js';
import { type IdFactory } from '../ids.js';
import { type Logger } from '../logger.js';
import { type LockerStore, type ParcelRow } from '../store/lockerStore.js';
import { nextLargerSize } from './allocation.js';
import { type CodeVault } from './codeVault.js';
import { type DoorController, type DoorControllerEvent } from './doorController.js';
import { type EventRecorder } from './eventRecorder.js';
import { type RetrievalInput, type RetrievalState, stepRetrieval } from './transactions.js';
import { type Actor, actorName, compartmentView, type CompartmentView, type CourierIdentity, type DepositView, type DoorOpened, parcelView, type ParcelView } from './views.js';
import { LockerAlarms } from './lockerAlarms.js';
import { reconcileInFlight } from './reconcile.js';
import { Placements, type PlacementHolder } from './placements.js';

export type { PlacementHolder };

export type LockerSettings = Pick<LockerConfig, 'codes' | 'doors' | 'demo'> & { lockerId: string };

/** Encrypts a pickup code to the owning carrier; undefined when the carrier has no encryption key. */
export type CodeEncrypter = (carrier: CarrierConfig, payload: CarrierCodePayload) => Promise<string | undefined>;

export type LockerEvent =
  | { type: 'door'; compartment: string; door: 'open' | 'closed'; sessionId?: string }
  | { type: 'compartment'; compartment: CompartmentView }
  | { type: 'session'; sessionId: string; compartment: string; state: string }
  | { type: 'deposit'; deposit: DepositView }
  | { type: 'alarm'; alarm: { type: string; compartment?: string } }
  /** Only with demo.revealCodes: an issued pickup code, for the simulator panel. Never sent to the kiosk. */
  | { type: 'demo-code'; compartment: string; waybill: string; carrier: string; code: string };

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


export interface Reservation {
  waybill: string;
  size: SizeClass;
  kind: 'delivery' | 'dropoff';
  dwellHours?: number;
  /** Plaintext code chosen by the carrier (already decrypted). */
  code?: string;
}

export class Locker {
  private readonly placements: Placements;
  private readonly listeners = new Set<(e: LockerEvent) => void>();
  private expiryTimer?: TimerHandle;
  private readonly lostBuses = new Set<string>();
  readonly alarms: LockerAlarms;

  constructor(private readonly d: LockerDeps) {
    this.alarms = new LockerAlarms(d.store, d.recorder, d.logger, (e) => this.emit(e));
    this.placements = new Placements({ ...d, alarms: this.alarms, emit: (e) => this.emit(e), compartment: (id) => this.compartment(id), carrier: (id) => this.carrier(id) });
    d.doors.on((e) => this.onDoorEvent(e));
  }

  // ---------------------------------------------------------------- lifecycle

  startTimers(): void {
    this.expireDue();
    this.expiryTimer = this.d.clock.setInterval(() => this.expireDue(), 60_000);
  }

  stop(): void {
    this.expiryTimer?.cancel();
  }

  on(listener: (e: LockerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---------------------------------------------------------------- views

  compartments(): CompartmentView[] {
    const occupied = this.d.store.occupiedCompartments();
    return this.d.store.compartments().map((c) => compartmentView(c, occupied.has(c.id) || this.placements.held.has(c.id), this.d.doors.door(c.id), this.d.doors.reachable(c.id)));
  }

  compartment(id: string): CompartmentView {
    const c = this.d.store.compartment(id);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${id}`, { compartment: id });
    const occupied = this.d.store.parcelsIn(id).length > 0 || this.placements.held.has(id);
    return compartmentView(c, occupied, this.d.doors.door(id), this.d.doors.reachable(id));
  }

  carrier(id: string): CarrierConfig {
    const c = this.d.store.carriers().find((x) => x.id === id);
    if (!c) throw new LockerError(ErrorCodes.NOT_PERMITTED, `carrier ${id} is not provisioned on this locker`, { carrier: id });
    return c;
  }

  // ---------------------------------------------------------------- consumer pickup

  lockout(): { lockedOut: boolean; retryAfterMs: number; failuresLeft: number } {
    return this.d.codes.lockout();
  }

  /** Opens the door of the parcel with this code. Resolves when the door is seen open. */
  async pickup(rawCode: string): Promise<DoorOpened> {
    const parcel = this.d.codes.redeem(rawCode, ['stored'], (p) => this.codeRejection(p));
    return this.retrieve({
      compartmentId: this.mustHaveCompartment(parcel),
      purpose: 'pickup',
      actor: { kind: 'consumer' },
      context: { parcelId: parcel.id },
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          {
            actor: 'consumer',
            action: 'parcel.picked_up',
            subject: parcel.id,
            data: { compartment: parcel.compartmentId, sessionId },
            events: [{ carrier: parcel.carrier, type: 'parcel.picked_up', data: { parcelId: parcel.id, waybill: parcel.waybill, compartment: parcel.compartmentId, pickedUpAt: now } }],
          },
          () => {
            this.d.store.moveParcel(parcel.id, 'stored', 'picked_up', now);
            this.d.store.endSession(sessionId, 'done', 'picked_up', now);
          },
        ),
      onJam: (code) => [{ carrier: parcel.carrier, type: 'parcel.pickup_failed', data: { parcelId: parcel.id, waybill: parcel.waybill, reason: code } }],
    });
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
  async dropoff(rawCode: string, starterSecret: string): Promise<DepositView> {
    const parcel = this.d.codes.redeem(rawCode, ['announced_dropoff'], (p) =>
      p.state === 'stored' || p.state === 'expired' ? new LockerError(ErrorCodes.CODE_UNKNOWN, 'this is a pickup code: choose "Collect a parcel"', { reason: 'pickup_code' }) : this.codeRejection(p),
    );
    // A right code gives nothing back to the budget (issue 7, finding 1): only time refills it.
    if (this.placements.inProgress((t) => t.parcelId === parcel.id))
      throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'this drop-off is already in progress');
    return this.placements.start('dropoff', { kind: 'consumer' }, parcel.carrier, parcel.waybill, parcel.id, true, parcel.size ?? 'S', false, starterSecret);
  }

  // ---------------------------------------------------------------- courier deposit

  async startDeposit(courier: CourierIdentity, req: { waybill: string; size: SizeClass; accessible?: boolean }): Promise<DepositView> {
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
    return this.placements.start('deposit', { kind: 'courier', courier }, carrier.id, req.waybill, parcelId, reservation, req.size, req.accessible === true);
  }

  depositView(actor: PlacementHolder, id: string): DepositView {
    const t = this.placements.own(actor, id);
    return this.placements.view(t);
  }

  async wrongSize(courier: PlacementHolder, id: string, size?: SizeClass): Promise<DepositView> {
    const t = this.placements.own(courier, id);
    const current = 'size' in t.state ? t.state.size : undefined;
    const wanted = size ?? (current ? nextLargerSize(current) : undefined);
    if (!wanted) throw new LockerError(ErrorCodes.NO_COMPARTMENT_FREE, 'there is no larger size');
    return this.placements.driveAndWait(t, { type: 'wrong_size', size: wanted });
  }

  async reopen(courier: PlacementHolder, id: string): Promise<DepositView> {
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
    return this.d.store
      .collectable(courier.carrier)
      .filter((p) => p.compartmentId)
      .map((p) => ({ parcelId: p.id, kind: p.state === 'expired' ? ('expired' as const) : ('dropoff' as const), waybill: p.waybill, compartment: this.compartment(p.compartmentId ?? '') }));
  }

  async openCollection(courier: CourierIdentity, parcelId: string): Promise<DoorOpened> {
    requirePermission(courier, 'collect');
    const parcel = this.d.store.parcel(parcelId);
    // Another carrier's parcel is reported exactly like a missing one.
    if (!parcel || parcel.carrier !== courier.carrier || (parcel.state !== 'expired' && parcel.state !== 'dropped_off'))
      throw new LockerError(ErrorCodes.NOT_FOUND, `no parcel ${parcelId} to collect`);
    const next = parcel.state === 'expired' ? 'retrieved' : 'collected';
    const type = parcel.state === 'expired' ? 'parcel.retrieved' : 'dropoff.collected';
    const actor: Actor = { kind: 'courier', courier };
    return this.retrieve({
      compartmentId: this.mustHaveCompartment(parcel),
      purpose: 'collect',
      actor,
      context: { parcelId },
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          {
            actor: actorName(actor),
            action: type,
            subject: parcel.id,
            data: { compartment: parcel.compartmentId, sessionId },
            events: [{ carrier: parcel.carrier, type, data: { parcelId, waybill: parcel.waybill, compartment: parcel.compartmentId, courier: courier.courierId, at: now } }],
          },
          () => {
            this.d.store.moveParcel(parcel.id, parcel.state, next, now);
            this.d.store.endSession(sessionId, 'done', next, now);
          },
        ),
    });
  }

  // ---------------------------------------------------------------- operator

  async remoteOpen(compartmentId: string, reason: string, actor: Actor): Promise<DoorOpened> {
    if (!reason.trim()) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a reason is required to open a door');
    this.compartment(compartmentId);
    return this.retrieve({
      compartmentId,
      purpose: 'remote_open',
      actor,
      context: { reason },
      commit: (sessionId, now) =>
        this.d.recorder.commit(
          { actor: actorName(actor), action: 'door.remote_open', subject: compartmentId, data: { reason, sessionId }, events: [{ carrier: null, type: 'door.remote_opened', data: { compartment: compartmentId, reason, by: actorName(actor), at: now } }] },
          () => this.d.store.endSession(sessionId, 'done', 'opened', now),
        ),
    });
  }

  setService(compartmentId: string, inService: boolean, reason: string | undefined, actor: Actor): CompartmentView {
    const c = this.d.store.compartment(compartmentId);
    if (!c) throw new LockerError(ErrorCodes.NOT_FOUND, `no compartment ${compartmentId}`);
    const fault = inService ? null : reason?.trim() || 'OPERATOR';
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'compartment.service', subject: compartmentId, data: { inService, reason }, events: [{ carrier: null, type: 'compartment.service', data: { compartment: compartmentId, inService, reason: fault } }] },
      () => this.d.store.setService(compartmentId, inService, fault),
    );
    const view = this.compartment(compartmentId);
    this.emit({ type: 'compartment', compartment: view });
    return view;
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
        events: [{ carrier: carrier.id, type: r.kind === 'dropoff' ? 'dropoff.announced' : 'parcel.announced', data: { parcelId, waybill: r.waybill, size: r.size, codeChosenByCarrier: r.code !== undefined } }],
      },
      () =>
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
        }),
    );
    return { parcelId, ...(generated ? { code: generated } : {}) };
  }

  cancelReservation(carrierId: string, waybill: string, actor: Actor): ParcelView {
    const p = this.d.store.liveParcelByWaybill(carrierId, waybill);
    if (!p || (p.state !== 'announced' && p.state !== 'announced_dropoff')) throw new LockerError(ErrorCodes.RESERVATION_UNKNOWN, `no open reservation for waybill ${waybill}`);
    if (this.placements.inProgress((t) => t.parcelId === p.id)) throw new LockerError(ErrorCodes.TRANSACTION_STATE, 'the parcel is being placed right now');
    const now = this.d.clock.now();
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'parcel.cancelled', subject: p.id, events: [{ carrier: carrierId, type: 'parcel.cancelled', data: { parcelId: p.id, waybill } }] },
      () => this.d.store.moveParcel(p.id, p.state, 'cancelled', now),
    );
    return parcelView({ ...p, state: 'cancelled' });
  }

  carrierParcels(carrierId: string): ParcelView[] {
    return this.d.store.carrierParcels(carrierId).map(parcelView);
  }

  // ---------------------------------------------------------------- expiry

  expireDue(): number {
    const due = this.d.store.dueForExpiry(this.d.clock.now());
    for (const p of due) {
      this.d.recorder.commit(
        { actor: 'system', action: 'parcel.expired', subject: p.id, events: [{ carrier: p.carrier, type: 'parcel.expired', data: { parcelId: p.id, waybill: p.waybill, compartment: p.compartmentId } }] },
        () => this.d.store.moveParcel(p.id, 'stored', 'expired', null),
      );
    }
    return due.length;
  }


  // ---------------------------------------------------------------- power-cut recovery

  /** Resolves door sessions a crash or power cut left in flight (see reconcile.ts). */
  reconcile(): Promise<{ resolved: number; pending: number }> {
    return reconcileInFlight({ ...this.d, placements: this.placements });
  }

  // ---------------------------------------------------------------- retrieval runner

  private retrieve(o: {
    compartmentId: string;
    purpose: string;
    actor: Actor;
    context: Record<string, unknown>;
    beforeStart?: () => void;
    commit: (sessionId: string, now: number) => void;
    onJam?: (code: ErrorCode) => { carrier: string | null; type: string; data: Record<string, unknown> }[];
  }): Promise<DoorOpened> {
    const sessionId = this.d.newId();
    const now = this.d.clock.now();
    if (this.d.doors.busy(o.compartmentId)) throw new LockerError(ErrorCodes.DOOR_BUSY, `door ${o.compartmentId} is in use`, { compartment: o.compartmentId });
    if (!this.d.doors.reachable(o.compartmentId)) throw new LockerError(ErrorCodes.BOARD_SILENT, `the board of ${o.compartmentId} does not answer`, { compartment: o.compartmentId });
    this.d.recorder.commit({ actor: actorName(o.actor), action: `${o.purpose}.unlock`, subject: o.compartmentId, data: { sessionId } }, () => {
      o.beforeStart?.();
      this.d.store.insertSession({ id: sessionId, compartmentId: o.compartmentId, purpose: o.purpose, actor: actorName(o.actor), context: o.context, startedAt: now });
    });
    return new Promise<DoorOpened>((resolve, reject) => {
      let state: RetrievalState = { tag: 'opening', compartment: o.compartmentId };
      const step = (input: RetrievalInput): void => {
        const t = stepRetrieval(state, input);
        state = t.state;
        for (const e of t.effects) {
          try {
            if (e.type === 'commit') {
              const at = this.d.clock.now();
              o.commit(sessionId, at);
              this.recoverIfJammed(o.compartmentId, o.actor);
              resolve({ sessionId, compartment: this.compartment(o.compartmentId) });
            } else if (e.type === 'out_of_service') {
              this.alarms.latchJammed(o.compartmentId, sessionId, this.d.clock.now(), o.onJam?.(e.fault) ?? []);
            } else if (e.type === 'failed') {
              if (e.code !== ErrorCodes.LATCH_JAMMED) this.d.recorder.commit({ actor: 'system', action: `${o.purpose}.failed`, subject: o.compartmentId, data: { code: e.code } }, () => this.d.store.endSession(sessionId, 'failed', e.code, this.d.clock.now()));
              reject(new LockerError(e.code, e.code === ErrorCodes.LATCH_JAMMED ? `door ${o.compartmentId} did not open; the code stays valid` : `door ${o.compartmentId} could not be opened`, { compartment: o.compartmentId, codeStillValid: o.purpose === 'pickup' }));
            }
          } catch (err) {
            this.d.logger.error({ err, compartment: o.compartmentId }, 'retrieval step failed');
            reject(toLockerError(err));
          }
        }
      };
      try {
        this.d.doors.open(o.compartmentId, sessionId, (outcome) => {
          this.emit({ type: 'session', sessionId, compartment: o.compartmentId, state: outcome.type });
          if (outcome.type === 'opened') step({ type: 'door_opened' });
          else if (outcome.type === 'closed') step({ type: 'door_closed' });
          else if (outcome.type === 'did_not_open') step({ type: 'door_jammed' });
          else if (outcome.type === 'failed') step({ type: 'door_failed', code: outcome.code });
          else if (outcome.type === 'left_open_alarm') this.alarms.doorLeftOpen(o.compartmentId, sessionId);
        });
      } catch (err) {
        const le = toLockerError(err);
        step({ type: 'door_failed', code: le.code });
      }
    });
  }

  /** A door that opened fine after a jam works again: back in service. */
  private recoverIfJammed(compartmentId: string, actor: Actor): void {
    const c = this.d.store.compartment(compartmentId);
    if (!c || c.inService || c.fault !== ErrorCodes.LATCH_JAMMED) return;
    this.d.recorder.commit(
      { actor: actorName(actor), action: 'compartment.recovered', subject: compartmentId, events: [{ carrier: null, type: 'compartment.recovered', data: { compartment: compartmentId } }] },
      () => this.d.store.setService(compartmentId, true, null),
    );
    this.emit({ type: 'compartment', compartment: this.compartment(compartmentId) });
  }

  // ---------------------------------------------------------------- placement runner
  // ---------------------------------------------------------------- hardware events

  private onDoorEvent(e: DoorControllerEvent): void {
    switch (e.type) {
      case 'door':
        this.emit({ type: 'door', compartment: e.compartment, door: e.open ? 'open' : 'closed', sessionId: e.sessionId });
        return;
      case 'forced_open': {
        const inside = this.d.store.parcelsIn(e.compartment);
        this.alarms.raise(
          'alarm.door_forced_open',
          e.compartment,
          {},
          true,
          inside.map((p) => ({ carrier: p.carrier, type: 'parcel.compartment_forced', data: { parcelId: p.id, waybill: p.waybill, compartment: e.compartment } })),
        );
        return;
      }
      case 'board_silent':
        this.alarms.raise('alarm.board_silent', undefined, { bus: e.bus, board: e.board, compartments: e.compartments, code: e.code }, true);
        for (const c of e.compartments) this.emit({ type: 'compartment', compartment: this.compartment(c) });
        return;
      case 'board_back':
        this.alarms.raise('alarm.board_back', undefined, { bus: e.bus, board: e.board, compartments: e.compartments }, true);
        for (const c of e.compartments) this.emit({ type: 'compartment', compartment: this.compartment(c) });
        void this.reconcile().catch((err: unknown) => this.d.logger.error({ err }, 'reconcile failed'));
        return;
      case 'transport':
        // The first connect at start is not news; a loss and a recovery are.
        if (!e.connected) {
          this.lostBuses.add(e.bus);
          this.alarms.raise('alarm.bus_disconnected', undefined, { bus: e.bus, message: e.message }, true);
        } else if (this.lostBuses.delete(e.bus)) this.alarms.raise('alarm.bus_reconnected', undefined, { bus: e.bus }, true);
        return;
    }
  }

  private mustHaveCompartment(p: ParcelRow): string {
    if (!p.compartmentId) throw new LockerError(ErrorCodes.INTERNAL, `parcel ${p.id} has no compartment`);
    return p.compartmentId;
  }

  emit(e: LockerEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.d.logger.error({ err }, 'locker event listener failed');
      }
    }
  }
}

function requirePermission(c: CourierIdentity, p: 'deposit' | 'collect'): void {
  if (!c.permissions.includes(p)) throw new LockerError(ErrorCodes.NOT_PERMITTED, `courier ${c.courierId} may not ${p}`);
}

export { isLockerError };
