// Placement transactions (courier deposit, consumer drop-off) in progress: runs the placement
// state machine of transactions.ts over door sessions, holds the compartments it uses until the
// parcel is recorded or released, and commits a stored parcel with its code and events.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type CarrierConfig, type SizeClass } from '../config/schema.js';
import { LockerError, ErrorCodes, type ErrorCode, toLockerError } from '../../kernel/errors.js';
import { allocate } from './allocation.js';
import { type LockerAlarms } from './lockerAlarms.js';
import { type LockerDeps, type LockerEvent } from './locker.js';
import { type PlacementEffect, type PlacementInput, type PlacementState, startPlacement, stepPlacement } from './transactions.js';
import { type Actor, actorName, type CompartmentView, type CourierIdentity, type DepositView } from './views.js';

export interface PlacementDeps extends LockerDeps {
  alarms: LockerAlarms;
  emit: (e: LockerEvent) => void;
  compartment: (id: string) => CompartmentView;
  carrier: (id: string) => CarrierConfig;
}

export interface PlacementTxn {
  id: string;
  kind: 'deposit' | 'dropoff';
  actor: Actor;
  carrier: string;
  waybill: string;
  /** The announced parcel this placement fulfils, if any. */
  parcelId: string;
  reservation: boolean;
  state: PlacementState;
  sessions: Map<string, string>;
  pickupCode?: string;
  expiresAt?: number;
  error?: ErrorCode;
  /** Set once the placed parcel is recorded (the commit is asynchronous). */
  recorded?: boolean;
  /** Committed at boot from the sensors after a power cut (reconcile), not by a door close. */
  reconciled?: boolean;
  /** A jammed compartment this placement moved away from, kept for the view after storing. */
  reassignedFrom?: string;
  waiter?: { resolve: () => void; reject: (e: LockerError) => void };
  /** When it was stored or cancelled; finished placements are forgotten after FINISHED_KEPT_MS. */
  finishedAt?: number;
  /** SHA-256 of the secret the starter of a consumer drop-off got; every follow-up needs it. */
  starterSecret?: Buffer;
}

/** Who acts on a placement: the courier who started it, or a drop-off's starter secret. */
export type PlacementHolder = CourierIdentity | { secret: string };

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

const FINISHED_KEPT_MS = 30 * 60_000;

export function isFinal(s: PlacementState): boolean {
  return s.tag === 'stored' || s.tag === 'cancelled' || s.tag === 'failed';
}

export class Placements {
  private readonly txns = new Map<string, PlacementTxn>();
  /** Compartments held by placements in progress (not yet holding a recorded parcel). */
  readonly held = new Set<string>();

  constructor(private readonly d: PlacementDeps) {}

  /** Deposits in progress that will give their parcel a new code when stored (the carrier chose none). */
  pendingNewCodes(): number {
    let n = 0;
    for (const t of this.txns.values()) {
      if (t.kind !== 'deposit' || isFinal(t.state) || t.recorded) continue;
      if (!t.reservation || !this.d.store.parcel(t.parcelId)?.codeDigest) n++;
    }
    return n;
  }

  /** True while a placement that matches is not finished. */
  inProgress(match: (t: PlacementTxn) => boolean): boolean {
    return [...this.txns.values()].some((t) => match(t) && !isFinal(t.state));
  }

  async start(kind: 'deposit' | 'dropoff', actor: Actor, carrier: string, waybill: string, parcelId: string, reservation: boolean, size: SizeClass, accessible: boolean, starterSecret?: string): Promise<DepositView> {
    const chosen = allocate(this.candidates(), { size, accessible });
    if (!chosen) throw new LockerError(ErrorCodes.NO_COMPARTMENT_FREE, `no free compartment of size ${size} or larger`, { size });
    const t0 = startPlacement(chosen.id, chosen.size);
    this.forgetFinished();
    const txn: PlacementTxn = { id: this.d.newId(), kind, actor, carrier, waybill, parcelId, reservation, state: t0.state, sessions: new Map(), ...(starterSecret ? { starterSecret: digest(starterSecret) } : {}) };
    this.txns.set(txn.id, txn);
    const opened = this.waitFor(txn);
    this.runEffects(txn, t0.effects);
    await opened;
    return this.view(txn);
  }

  /** Finished placements stay visible to their courier for a while, then are forgotten. */
  private forgetFinished(): void {
    const before = this.d.clock.now() - FINISHED_KEPT_MS;
    for (const [id, t] of this.txns) if (t.finishedAt !== undefined && t.finishedAt < before) this.txns.delete(id);
  }

  candidates(): { id: string; size: SizeClass; accessible: boolean; available: boolean }[] {
    const occupied = this.d.store.occupiedCompartments();
    return this.d.store.compartments().map((c) => ({
      id: c.id,
      size: c.size,
      accessible: c.accessible,
      available: c.inService && !occupied.has(c.id) && !this.held.has(c.id) && !this.d.doors.busy(c.id) && this.d.doors.reachable(c.id),
    }));
  }

  private waitFor(txn: PlacementTxn): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      txn.waiter = { resolve, reject };
    });
  }

  async driveAndWait(txn: PlacementTxn, input: PlacementInput): Promise<DepositView> {
    const done = this.waitFor(txn);
    this.drive(txn, input);
    await done;
    return this.view(txn);
  }

  drive(txn: PlacementTxn, input: PlacementInput): void {
    const t = stepPlacement(txn.state, input);
    txn.state = t.state;
    if ('reassignedFrom' in t.state && t.state.reassignedFrom) txn.reassignedFrom = t.state.reassignedFrom;
    this.runEffects(txn, t.effects);
    const w = txn.waiter;
    if (w && (txn.state.tag === 'open' || txn.state.tag === 'stored' || txn.state.tag === 'cancelled' || txn.state.tag === 'closed_empty' || txn.state.tag === 'cancelling')) {
      if (txn.state.tag !== 'open' || input.type !== 'wrong_size') {
        txn.waiter = undefined;
        w.resolve();
      }
    }
    this.d.emit({ type: 'deposit', deposit: this.view(txn, false) });
  }

  private runEffects(txn: PlacementTxn, effects: PlacementEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'open_door':
          this.openDoor(txn, e.compartment);
          break;
        case 'allocate': {
          const next = allocate(this.candidates(), { size: e.size, largerThan: e.largerThan, exclude: new Set(e.exclude) });
          this.drive(txn, { type: 'allocated', compartment: next ? { id: next.id, size: next.size } : undefined });
          break;
        }
        case 'out_of_service':
          this.d.alarms.latchJammed(e.compartment, txn.sessions.get(e.compartment) ?? txn.id, this.d.clock.now(), []);
          this.held.delete(e.compartment);
          break;
        case 'release':
          this.held.delete(e.compartment);
          break;
        case 'commit_stored':
          void this.commit(txn, e.compartment, e.size);
          break;
        case 'inspect':
          this.sendToInspection(txn, e.compartment, e.itemPresent);
          break;
        case 'commit_cancelled': {
          const inspection = e.inspection ? { inspection: true, compartment: e.inspection } : {};
          const now = this.d.clock.now();
          // A drop-off code stays usable only when the compartment was seen empty: otherwise the
          // announced drop-off is voided (the carrier gets dropoff.cancelled with inspection).
          const voidCode = txn.kind === 'dropoff' && e.inspection !== undefined && this.d.store.parcel(txn.parcelId)?.state === 'announced_dropoff';
          this.d.recorder.commit(
            {
              actor: actorName(txn.actor),
              action: `${txn.kind}.cancelled`,
              subject: txn.parcelId,
              data: inspection,
              events: [{ carrier: txn.carrier, type: `${txn.kind}.cancelled`, data: { waybill: txn.waybill, parcelId: txn.parcelId, ...inspection } }],
            },
            voidCode ? () => this.d.store.moveParcel(txn.parcelId, 'announced_dropoff', 'cancelled', now) : undefined,
          );
          txn.finishedAt = now;
          break;
        }
        case 'rejected': {
          const w = txn.waiter;
          txn.waiter = undefined;
          w?.reject(new LockerError(e.code, e.message));
          break;
        }
        case 'failed': {
          txn.error = e.code;
          const w = txn.waiter;
          txn.waiter = undefined;
          w?.reject(new LockerError(e.code, 'no compartment of a fitting size would open', { deposit: txn.id }));
          break;
        }
      }
    }
  }

  private openDoor(txn: PlacementTxn, compartmentId: string): void {
    const sessionId = this.d.newId();
    txn.sessions.set(compartmentId, sessionId);
    this.held.add(compartmentId);
    const now = this.d.clock.now();
    try {
      this.d.recorder.commit({ actor: actorName(txn.actor), action: `${txn.kind}.unlock`, subject: compartmentId, data: { sessionId, waybill: txn.waybill } }, () =>
        this.d.store.insertSession({
          id: sessionId,
          compartmentId,
          purpose: txn.kind,
          actor: actorName(txn.actor),
          context: { txn: txn.id, carrier: txn.carrier, waybill: txn.waybill, parcelId: txn.parcelId, reservation: txn.reservation, size: 'size' in txn.state ? txn.state.size : undefined },
          startedAt: now,
        }),
      );
      this.d.doors.open(compartmentId, sessionId, (outcome) => {
        this.d.emit({ type: 'session', sessionId, compartment: compartmentId, state: outcome.type });
        const end = (state: 'done' | 'failed', how: string): void => {
          this.d.store.transaction(() => this.d.store.endSession(sessionId, state, how, this.d.clock.now()));
        };
        switch (outcome.type) {
          case 'opened':
            return this.drive(txn, { type: 'door_opened', compartment: compartmentId });
          case 'closed':
            // A stored parcel ends its session in the commit itself; otherwise end it here.
            if (!(txn.state.tag === 'open' && txn.state.compartment === compartmentId && outcome.itemPresent !== false)) end('done', 'closed');
            return this.drive(txn, { type: 'door_closed', compartment: compartmentId, itemPresent: outcome.itemPresent });
          case 'did_not_open':
            end('failed', ErrorCodes.LATCH_JAMMED);
            return this.drive(txn, { type: 'door_jammed', compartment: compartmentId });
          case 'failed':
            end('failed', outcome.code);
            return this.drive(txn, { type: 'door_failed', compartment: compartmentId, code: outcome.code });
          case 'left_open_alarm':
            return this.d.alarms.doorLeftOpen(compartmentId, sessionId);
          default:
            return;
        }
      });
    } catch (err) {
      const le = toLockerError(err);
      this.d.store.transaction(() => this.d.store.endSession(sessionId, 'failed', le.code, now));
      this.drive(txn, { type: 'door_failed', compartment: compartmentId, code: le.code });
    }
  }

  async commit(txn: PlacementTxn, compartmentId: string, size: SizeClass): Promise<void> {
    const sessionId = txn.sessions.get(compartmentId) ?? '';
    const reconciled = txn.reconciled ? { reconciled: true } : {};
    try {
      const carrier = this.d.carrier(txn.carrier);
      const now = this.d.clock.now();
      if (txn.kind === 'dropoff') {
        this.d.recorder.commit(
          {
            actor: actorName(txn.actor),
            action: 'dropoff.dropped_off',
            subject: txn.parcelId,
            data: { compartment: compartmentId, ...reconciled },
            events: [{ carrier: carrier.id, type: 'dropoff.dropped_off', data: { parcelId: txn.parcelId, waybill: txn.waybill, compartment: compartmentId, size, droppedOffAt: now, ...reconciled } }],
          },
          () => {
            this.d.store.storeParcel({ id: txn.parcelId, state: 'dropped_off', compartmentId, codeDigest: null, size, storedAt: now, expiresAt: null });
            this.d.store.endSession(sessionId, txn.reconciled ? 'reconciled' : 'done', 'dropped_off', now);
          },
        );
      } else {
        const reservation = txn.reservation ? this.d.store.parcel(txn.parcelId) : undefined;
        const code = reservation?.codeDigest ? undefined : this.d.codes.newUniqueCode();
        const digest = reservation?.codeDigest ?? this.d.codes.digestOf(code ?? '', false);
        const dwell = reservation?.dwellHours ?? carrier.dwellHours;
        const expiresAt = now + Math.round(dwell * 3_600_000);
        // The carrier's QR token for this parcel travels with the code (or alone, for a code the
        // carrier chose); without an encryption key nobody could receive it, so none is kept.
        const token = this.d.codes.newPickupToken();
        const codeJwe = await this.d.encryptCode(carrier, { ...(code ? { code } : {}), pickupToken: token.token, parcelId: txn.parcelId, waybill: txn.waybill });
        this.d.recorder.commit(
          {
            actor: actorName(txn.actor),
            action: 'parcel.stored',
            subject: txn.parcelId,
            data: { compartment: compartmentId, waybill: txn.waybill, ...reconciled },
            events: [
              {
                carrier: carrier.id,
                type: 'parcel.stored',
                data: { parcelId: txn.parcelId, waybill: txn.waybill, compartment: compartmentId, size, storedAt: now, expiresAt, courier: txn.actor.kind === 'courier' ? txn.actor.courier.courierId : undefined, ...(codeJwe ? { codeJwe } : {}), codeChosenByCarrier: code === undefined, ...reconciled },
              },
            ],
          },
          () => {
            if (reservation) this.d.store.storeParcel({ id: txn.parcelId, state: 'stored', compartmentId, codeDigest: digest, size, storedAt: now, expiresAt });
            else
              this.d.store.insertParcel({ id: txn.parcelId, carrier: carrier.id, waybill: txn.waybill, kind: 'delivery', state: 'stored', size, compartmentId, codeDigest: digest, dwellHours: null, announcedAt: null, storedAt: now, expiresAt });
            if (codeJwe) this.d.store.setTokenDigest(txn.parcelId, token.digest);
            this.d.store.endSession(sessionId, txn.reconciled ? 'reconciled' : 'done', 'stored', now);
          },
        );
        txn.expiresAt = expiresAt;
        if (this.d.settings.demo.revealCodes && code) {
          txn.pickupCode = code;
          this.d.emit({ type: 'demo-code', compartment: compartmentId, waybill: txn.waybill, carrier: carrier.id, code });
        }
      }
      txn.recorded = true;
      txn.finishedAt = now;
      this.held.delete(compartmentId);
      this.d.emit({ type: 'deposit', deposit: this.view(txn, false) });
      this.d.emit({ type: 'compartment', compartment: this.d.compartment(compartmentId) });
    } catch (err) {
      const le = toLockerError(err);
      txn.error = le.code;
      this.d.logger.error({ err, deposit: txn.id, compartment: compartmentId }, 'could not record a placed parcel; it is reconciled at the next start');
      this.d.alarms.raise('alarm.store_failed', compartmentId, { code: le.code }, false);
    }
  }

  /**
   * The placement, if this holder started it: the same courier (carrier and courier id) for a
   * deposit, the starter's secret for a consumer drop-off. Anything else is reported as missing.
   */
  own(holder: PlacementHolder, id: string): PlacementTxn {
    const t = this.txns.get(id);
    if (!t || !this.startedBy(t, holder)) throw new LockerError(ErrorCodes.NOT_FOUND, `no deposit ${id}`);
    return t;
  }

  private startedBy(t: PlacementTxn, holder: PlacementHolder): boolean {
    if ('secret' in holder) {
      if (t.kind !== 'dropoff' || !t.starterSecret) return false;
      return timingSafeEqual(digest(holder.secret), t.starterSecret);
    }
    const owner = t.actor.kind === 'courier' ? t.actor.courier : undefined;
    return owner !== undefined && owner.carrier === holder.carrier && owner.courierId === holder.courierId;
  }

  /** A cancel that could not prove the compartment empty: out of service until an operator looks. */
  private sendToInspection(txn: PlacementTxn, compartmentId: string, itemPresent: boolean | undefined): void {
    const reason = itemPresent === true ? 'item_present' : 'no_item_sensor';
    this.d.recorder.commit(
      {
        actor: 'system',
        action: 'compartment.inspection',
        subject: compartmentId,
        data: { reason, placement: txn.kind },
        events: [{ carrier: null, type: 'compartment.service', data: { compartment: compartmentId, inService: false, reason: ErrorCodes.NEEDS_INSPECTION } }],
      },
      () => this.d.store.setService(compartmentId, false, ErrorCodes.NEEDS_INSPECTION),
    );
    this.d.alarms.raise('alarm.needs_inspection', compartmentId, { reason, placement: txn.kind }, true);
    this.d.emit({ type: 'compartment', compartment: this.d.compartment(compartmentId) });
  }

  view(t: PlacementTxn, withCode = true): DepositView {
    const s = t.state;
    const compartmentId = 'compartment' in s ? s.compartment : 'from' in s ? s.from : [...t.sessions.keys()].pop() ?? '';
    const size: SizeClass = 'size' in s ? s.size : (this.d.store.compartment(compartmentId)?.size ?? 'S');
    const state: DepositView['state'] =
      s.tag === 'opening' || s.tag === 'reallocating' ? 'opening' : s.tag === 'open' || s.tag === 'closed_empty' ? 'open' : s.tag === 'cancelling' ? 'closing' : s.tag === 'stored' ? (t.error ? 'failed' : t.recorded ? 'stored' : 'closing') : s.tag;
    return {
      id: t.id,
      kind: t.kind,
      waybill: t.waybill,
      size,
      carrier: t.carrier,
      state,
      compartment: this.d.compartment(compartmentId),
      ...(t.reassignedFrom ? { reassignedFrom: t.reassignedFrom } : {}),
      ...(t.sessions.get(compartmentId) ? { sessionId: t.sessions.get(compartmentId) } : {}),
      ...(withCode && t.pickupCode ? { pickupCode: t.pickupCode } : {}),
      ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
      ...(t.error ? { error: t.error } : {}),
    };
  }
}
