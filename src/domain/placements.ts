// Placement transactions (courier deposit, consumer drop-off) in progress: runs the placement
// state machine of transactions.ts over door sessions, holds the compartments it uses until the
// parcel is recorded or released, and commits a stored parcel with its code and events.
import { createHash, timingSafeEqual } from 'node:crypto';
import { type CarrierConfig, type SizeClass } from '../config/schema.js';
import { type Clock } from '../../kernel/clock.js';
import { type CarrierCodePayload } from '../crypto/codeJwe.js';
import { LockerError, ErrorCodes, type ErrorCode, toLockerError } from '../../kernel/errors.js';
import { type IdFactory } from '../ids.js';
import { type Logger } from '../logger.js';
import { type LockerStore } from '../store/lockerStore.js';
import { storeErrorCode } from '../store/database.js';
import { allocate } from './allocation.js';
import { type CodeVault, SPENT_CODE_KNOWN_MS } from './codeVault.js';
import { type GroupRef, type ParcelGroupStore } from '../store/parcelGroups.js';
import { type CompartmentViews } from './compartmentViews.js';
import { type DoorController } from './doorController.js';
import { doorInputOf } from './doorOutcomes.js';
import { type EventRecorder } from './eventRecorder.js';
import { Events, placementCancelled } from './events.js';
import { type LockerAlarms } from './lockerAlarms.js';
import { type Notify } from './lockerEvents.js';
import { type PlacementEffect, type PlacementInput, type PlacementState, startPlacement, stepPlacement } from './transactions.js';
import { type UncertainOutcome } from './transactions.js';
import { type Actor, actorName, type CourierIdentity, type DepositView } from './views.js';

/** Encrypts a pickup code to the owning carrier; undefined when the carrier has no encryption key. */
export type CodeEncrypter = (carrier: CarrierConfig, payload: CarrierCodePayload) => Promise<string | undefined>;

export interface PlacementDeps {
  store: Pick<LockerStore, 'parcel' | 'compartment' | 'insertSession' | 'endSession' | 'transaction' | 'storeParcel' | 'insertParcel' | 'setTokenDigest' | 'setService' | 'transitionParcel'>;
  doors: Pick<DoorController, 'open' | 'position' | 'busConnected' | 'reachable'>;
  recorder: Pick<EventRecorder, 'commit'>;
  /** Records an outcome the sensors cannot tell (Inspections.record). */
  uncertain: (u: UncertainOutcome) => void;
  codes: Pick<CodeVault, 'newUniqueCode' | 'digestOf' | 'newPickupToken'> & { groups: Pick<ParcelGroupStore, 'groupOf' | 'digestOf' | 'memberIds' | 'create'> };
  alarms: Pick<LockerAlarms, 'latchJammed' | 'doorLeftOpen' | 'raise'>;
  views: Pick<CompartmentViews, 'one' | 'candidates' | 'carrier'>;
  /** The compartments held by placements in progress; the read model sees the same set. */
  held: Set<string>;
  clock: Clock;
  newId: IdFactory;
  logger: Logger;
  notify: Notify;
  encryptCode: CodeEncrypter;
  /** demo.revealCodes: an issued code is shown to the simulator panel. */
  revealCodes: boolean;
}

/** What a new placement is for: start() takes it whole. */
export interface PlacementRequest {
  kind: 'deposit' | 'dropoff';
  actor: Actor;
  carrier: string;
  waybill: string;
  /** The announced parcel it fulfils, or a fresh id for an ad hoc deposit. */
  parcelId: string;
  /** True when parcelId names an announced parcel (a reservation or a drop-off). */
  reservation: boolean;
  size: SizeClass;
  accessible?: boolean;
  /** A consumer drop-off's starter secret; every follow-up must show it. */
  starterSecret?: string;
}

/** A placement found committed at boot by reconcile.ts (the parcel is inside, the door shut). */
export interface RecoveredPlacement {
  /** The placement's id as its door session recorded it (or the session id). */
  id: string;
  kind: 'deposit' | 'dropoff';
  carrier: string;
  waybill: string;
  parcelId: string;
  reservation: boolean;
  compartment: string;
  size: SizeClass;
  sessionId: string;
  /** Recorded by an operator's inspection (Inspections.settle), not by the sensors at boot. */
  settled?: true;
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
  /** Recorded by an operator's inspection after an uncertain outcome. */
  settled?: boolean;
  /** A jammed compartment this placement moved away from, kept for the view after storing. */
  reassignedFrom?: string;
  waiter?: { resolve: () => void; reject: (e: LockerError) => void };
  /** When it was stored or cancelled; finished placements are forgotten after FINISHED_KEPT_MS. */
  finishedAt?: number;
  /** SHA-256 of the secret the starter of a consumer drop-off got; every follow-up needs it. */
  starterSecret?: Buffer;
  /** Compartments whose door this placement could not open (never offered to it again). */
  failedDoors?: Set<string>;
}

/** Who acts on a placement: the courier who started it, or a drop-off's starter secret. */
export type PlacementHolder = CourierIdentity | { secret: string };

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

const FINISHED_KEPT_MS = 30 * 60_000;
/**
 * Finished placements kept at most (issue 10): a busy half hour (2,000 deposits) kept 2,000 of
 * them, about 2.6 KiB each. A courier reads back only the deposits of the visit in progress.
 */
export const FINISHED_KEPT_MAX = 64;

export function isFinal(s: PlacementState): boolean {
  return s.tag === 'stored' || s.tag === 'cancelled' || s.tag === 'failed';
}

export class Placements {
  private readonly txns = new Map<string, PlacementTxn>();
  /** Placed parcels being recorded now (the commit waits for the code's encryption). */
  private recording = 0;
  /** Compartments held by placements in progress (not yet holding a recorded parcel). */
  private readonly held: Set<string>;
  /** Groups whose first member's code is being made (between its check and its commit). */
  private readonly groupCodesMaking = new Set<string>();

  constructor(private readonly d: PlacementDeps) {
    this.held = d.held;
  }

  /** Deposits in progress that will give their parcel a new code when stored (the carrier chose none). */
  pendingNewCodes(): number {
    let n = 0;
    for (const t of this.txns.values()) {
      if (t.kind !== 'deposit' || isFinal(t.state) || t.recorded) continue;
      if (!t.reservation || !this.d.store.parcel(t.parcelId)?.codeDigest) n++;
    }
    return n;
  }

  /** Placed parcels whose door closed and whose record is being written (a stop waits for them). */
  recordingNow(): number {
    return this.recording;
  }

  /** True while a placement that matches is not finished. */
  inProgress(match: (t: PlacementTxn) => boolean): boolean {
    return [...this.txns.values()].some((t) => match(t) && !isFinal(t.state));
  }

  async start(r: PlacementRequest): Promise<DepositView> {
    const candidates = this.d.views.candidates();
    const chosen = allocate(candidates, { size: r.size, accessible: r.accessible === true });
    if (!chosen) throw this.noneFree(r.size, candidates);
    const t0 = startPlacement(chosen.id, chosen.size);
    this.forgetFinished();
    const txn: PlacementTxn = {
      id: this.d.newId(),
      kind: r.kind,
      actor: r.actor,
      carrier: r.carrier,
      waybill: r.waybill,
      parcelId: r.parcelId,
      reservation: r.reservation,
      state: t0.state,
      sessions: new Map(),
      ...(r.starterSecret ? { starterSecret: digest(r.starterSecret) } : {}),
    };
    this.txns.set(txn.id, txn);
    const opened = this.waitFor(txn);
    this.runEffects(txn, t0.effects);
    await opened;
    return this.view(txn);
  }

  /**
   * Why nothing was allocated: the real cause when compartments that fit are free but their bus
   * is lost or their board silent (not NO_COMPARTMENT_FREE).
   */
  private noneFree(size: SizeClass, candidates: ReturnType<PlacementDeps['views']['candidates']>): LockerError {
    const fitsButUnreachable = candidates.filter((c) => !c.available && this.d.store.compartment(c.id)?.inService === true && !this.d.doors.reachable(c.id));
    const p = fitsButUnreachable.length > 0 && allocate(fitsButUnreachable.map((c) => ({ ...c, available: true })), { size }) ? this.d.doors.position(fitsButUnreachable[0]?.id ?? '') : undefined;
    if (p && !this.d.doors.busConnected(p.bus)) return new LockerError(ErrorCodes.BUS_DISCONNECTED, `the lock bus ${p.bus} is disconnected; no door can be opened now`, { size, bus: p.bus });
    if (p) return new LockerError(ErrorCodes.BOARD_SILENT, `the lock board of the free compartments does not answer`, { size, bus: p.bus, board: p.board });
    return new LockerError(ErrorCodes.NO_COMPARTMENT_FREE, `no free compartment of size ${size} or larger`, { size });
  }

  /**
   * Finished placements stay visible to their courier for FINISHED_KEPT_MS, then are forgotten;
   * past FINISHED_KEPT_MAX, the ones that finished first go sooner. A placement that ended
   * without a finish time (failed, or its record could not be written) counts as finished now.
   */
  private forgetFinished(): void {
    const now = this.d.clock.now();
    const before = now - FINISHED_KEPT_MS;
    const finished: [string, number][] = [];
    for (const [id, t] of this.txns) {
      if (t.finishedAt === undefined && isFinal(t.state) && (t.state.tag !== 'stored' || t.recorded || t.error !== undefined)) t.finishedAt = now;
      if (t.finishedAt === undefined) continue;
      if (t.finishedAt < before) this.txns.delete(id);
      else finished.push([id, t.finishedAt]);
    }
    if (finished.length <= FINISHED_KEPT_MAX) return;
    finished.sort((a, b) => a[1] - b[1]);
    for (const [id] of finished.slice(0, finished.length - FINISHED_KEPT_MAX)) this.txns.delete(id);
  }

  /** Placements held in memory (in progress and recently finished). */
  size(): number {
    return this.txns.size;
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
    this.d.notify({ type: 'deposit', deposit: this.view(txn, false) });
  }

  private runEffects(txn: PlacementTxn, effects: PlacementEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'open_door':
          this.openDoor(txn, e.compartment);
          break;
        case 'allocate': {
          // Every compartment this placement failed to open is excluded, not only the last one:
          // two failing doors can never send it back and forth.
          const exclude = new Set([...e.exclude, ...(txn.failedDoors ?? [])]);
          const next = allocate(this.d.views.candidates(), { size: e.size, largerThan: e.largerThan, exclude });
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
        case 'uncertain':
          this.held.delete(e.compartment);
          try {
            this.d.uncertain({ sessionId: txn.sessions.get(e.compartment) ?? txn.id, compartment: e.compartment, kind: txn.kind, parcelId: txn.parcelId, carrier: txn.carrier, waybill: txn.waybill, door: e.door, cause: e.cause });
          } catch (err) {
            // The session stays in flight and is reconciled at the next start; the hold keeps it from the next courier meanwhile.
            this.held.add(e.compartment);
            this.d.logger.error({ err, compartment: e.compartment }, 'could not record an uncertain placement');
          }
          txn.finishedAt = this.d.clock.now();
          break;
        case 'commit_cancelled': {
          const inspection = e.inspection ? { inspection: true as const, compartment: e.inspection } : {};
          const now = this.d.clock.now();
          // A drop-off code stays usable only when the compartment was seen empty: otherwise the
          // announced drop-off is voided (the carrier gets dropoff.cancelled with inspection).
          const voidCode = txn.kind === 'dropoff' && e.inspection !== undefined && this.d.store.parcel(txn.parcelId)?.state === 'announced_dropoff';
          this.d.recorder.commit(
            {
              actor: actorName(txn.actor),
              action: txn.kind === 'deposit' ? 'deposit.cancelled' : 'dropoff.cancelled',
              subject: txn.parcelId,
              data: inspection,
              events: [placementCancelled(txn.kind, txn.carrier, { waybill: txn.waybill, parcelId: txn.parcelId, ...inspection })],
            },
            voidCode ? () => this.d.store.transitionParcel(txn.parcelId, 'announced_dropoff', 'cancelled', now) : undefined,
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
          w?.reject(new LockerError(e.code, e.message ?? (e.code === ErrorCodes.LATCH_JAMMED ? 'no compartment of a fitting size would open' : `no door could be opened (${e.code})`), { deposit: txn.id, carrier: txn.carrier }));
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
        this.d.notify({ type: 'session', sessionId, compartment: compartmentId, state: outcome.type });
        const input = doorInputOf(outcome, compartmentId);
        if (!input) return;
        if (input.type === 'left_open') return this.d.alarms.doorLeftOpen(compartmentId, sessionId);
        const end = (state: 'done' | 'failed', how: string): void => {
          this.d.store.transaction(() => this.d.store.endSession(sessionId, state, how, this.d.clock.now()));
        };
        // A stored parcel ends its session in the commit itself; every other end is recorded here.
        if (input.type === 'door_closed' && !(txn.state.tag === 'open' && txn.state.compartment === compartmentId && input.itemPresent !== false)) end('done', 'closed');
        else if (input.type === 'door_jammed') end('failed', ErrorCodes.LATCH_JAMMED);
        else if (input.type === 'door_failed') end('failed', input.code);
        else if (input.type === 'door_uncertain' && txn.state.tag === 'opening' && txn.state.compartment === compartmentId && input.door === 'closed' && input.itemPresent === false) end('done', 'closed');
        this.drive(txn, input);
      });
    } catch (err) {
      const le = toLockerError(err);
      if (storeErrorCode(le) !== undefined) return this.unrecordable(txn, compartmentId, le);
      (txn.failedDoors ??= new Set()).add(compartmentId);
      try {
        this.d.store.transaction(() => this.d.store.endSession(sessionId, 'failed', le.code, now));
      } catch (endErr) {
        // The session row stays in flight: reconciliation resolves it at the next start.
        if (storeErrorCode(endErr) === undefined) throw endErr;
      }
      this.drive(txn, { type: 'door_failed', compartment: compartmentId, code: le.code });
    }
  }

  /**
   * The unlock could not be recorded (disk full, I/O error, damaged file): nothing was written
   * and no door opens (a door opens only once its session is on record). The placement ends
   * with the store's coded error at once: no other compartment is tried, since its unlock would
   * be refused the same way.
   */
  private unrecordable(txn: PlacementTxn, compartmentId: string, err: LockerError): void {
    this.held.delete(compartmentId);
    txn.state = { tag: 'failed', code: err.code };
    txn.error = err.code;
    txn.finishedAt = this.d.clock.now();
    this.d.logger.error({ code: err.code, deposit: txn.id, compartment: compartmentId }, `${err.code}: the unlock could not be recorded; no door was opened`);
    const w = txn.waiter;
    txn.waiter = undefined;
    w?.reject(new LockerError(err.code, `${err.detail}; no door was opened`, { deposit: txn.id }, { cause: err }));
    this.d.notify({ type: 'deposit', deposit: this.view(txn, false) });
  }

  /** Records a placement that reconciliation found committed at boot (from the sensors). */
  commitRecovered(r: RecoveredPlacement): Promise<void> {
    const txn: PlacementTxn = {
      id: r.id,
      kind: r.kind,
      actor: { kind: 'system' },
      carrier: r.carrier,
      waybill: r.waybill,
      parcelId: r.parcelId,
      reservation: r.reservation,
      state: { tag: 'stored', compartment: r.compartment, size: r.size },
      sessions: new Map([[r.compartment, r.sessionId]]),
      ...(r.settled ? { settled: true } : { reconciled: true }),
    };
    return this.commit(txn, r.compartment, r.size);
  }

  private async commit(txn: PlacementTxn, compartmentId: string, size: SizeClass): Promise<void> {
    this.recording++;
    try {
      await this.commitNow(txn, compartmentId, size);
    } finally {
      this.recording--;
    }
  }

  private async commitNow(txn: PlacementTxn, compartmentId: string, size: SizeClass): Promise<void> {
    const sessionId = txn.sessions.get(compartmentId) ?? '';
    const reconciled = txn.settled ? { settled: true as const } : txn.reconciled ? { reconciled: true as const } : {};
    let makingGroupCode: string | undefined;
    try {
      const carrier = this.d.views.carrier(txn.carrier);
      const now = this.d.clock.now();
      if (txn.kind === 'dropoff') {
        this.d.recorder.commit(
          {
            actor: actorName(txn.actor),
            action: 'dropoff.dropped_off',
            subject: txn.parcelId,
            data: { compartment: compartmentId, ...reconciled },
            events: [Events.dropoffDroppedOff(carrier.id, { parcelId: txn.parcelId, waybill: txn.waybill, compartment: compartmentId, size, droppedOffAt: now, ...reconciled })],
          },
          () => {
            this.d.store.storeParcel({ id: txn.parcelId, from: 'announced_dropoff', state: 'dropped_off', compartmentId, codeDigest: null, size, storedAt: now, expiresAt: null });
            this.d.store.endSession(sessionId, txn.reconciled ? 'reconciled' : 'done', 'dropped_off', now);
          },
        );
      } else {
        const reservation = txn.reservation ? this.d.store.parcel(txn.parcelId) : undefined;
        // A grouped parcel (issue 11, flow 2): the first one stored makes the group's code; the
        // others share it and get none of their own. The digest lives with the group, not the parcel.
        const group = reservation ? this.d.codes.groups.groupOf(txn.parcelId) : undefined;
        // Two members stored at once: the second waits for no record, it shares the code the first is making.
        const groupKey = group ? `${group.carrier}\n${group.group}` : undefined;
        const sharesCode = group !== undefined && groupKey !== undefined && (this.groupCodesMaking.has(groupKey) || this.groupLive(group));
        if (groupKey && !sharesCode) this.groupCodesMaking.add((makingGroupCode = groupKey));
        const code = reservation?.codeDigest || sharesCode ? undefined : this.d.codes.newUniqueCode();
        const digest = reservation?.codeDigest ?? (sharesCode ? null : this.d.codes.digestOf(code ?? '', false));
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
              Events.parcelStored(carrier.id, {
                parcelId: txn.parcelId,
                waybill: txn.waybill,
                compartment: compartmentId,
                size,
                storedAt: now,
                expiresAt,
                ...(txn.actor.kind === 'courier' ? { courier: txn.actor.courier.courierId } : {}),
                ...(codeJwe ? { codeJwe } : {}),
                codeChosenByCarrier: code === undefined && !sharesCode,
                ...(group ? { group: group.group, sharesCode } : {}),
                ...reconciled,
              }),
            ],
          },
          () => {
            if (group && digest && !reservation?.codeDigest) this.d.codes.groups.create(group, digest, now, now - SPENT_CODE_KNOWN_MS);
            if (reservation) this.d.store.storeParcel({ id: txn.parcelId, from: 'announced', state: 'stored', compartmentId, codeDigest: group ? null : digest, size, storedAt: now, expiresAt });
            else
              this.d.store.insertParcel({ id: txn.parcelId, carrier: carrier.id, waybill: txn.waybill, kind: 'delivery', state: 'stored', size, compartmentId, codeDigest: digest, dwellHours: null, announcedAt: null, storedAt: now, expiresAt });
            if (codeJwe) this.d.store.setTokenDigest(txn.parcelId, token.digest);
            this.d.store.endSession(sessionId, txn.reconciled ? 'reconciled' : 'done', 'stored', now);
          },
        );
        txn.expiresAt = expiresAt;
        if (this.d.revealCodes && code) {
          txn.pickupCode = code;
          this.d.notify({ type: 'demo-code', compartment: compartmentId, waybill: txn.waybill, carrier: carrier.id, code });
        }
      }
      txn.recorded = true;
      txn.finishedAt = now;
      this.held.delete(compartmentId);
      this.d.notify({ type: 'deposit', deposit: this.view(txn, false) });
      this.d.notify({ type: 'compartment', compartment: this.d.views.one(compartmentId) });
    } catch (err) {
      const le = toLockerError(err);
      txn.error = le.code;
      this.d.logger.error({ err, deposit: txn.id, compartment: compartmentId }, 'could not record a placed parcel; it is reconciled at the next start');
      this.d.alarms.raise(Events.storeFailed({ compartment: compartmentId, code: le.code }), [], { auditOnly: true });
    } finally {
      if (makingGroupCode) this.groupCodesMaking.delete(makingGroupCode);
    }
  }

  /**
   * The placement, if this holder started it: the same courier (carrier and courier id) for a
   * deposit, the starter's secret for a consumer drop-off. Anything else is reported as missing.
   */
  /** True when a group already has a code that a member still at the locker holds. */
  private groupLive(g: GroupRef): boolean {
    if (!this.d.codes.groups.digestOf(g)) return false;
    return this.d.codes.groups.memberIds(g).some((id) => {
      const p = this.d.store.parcel(id);
      return p?.state === 'stored' || p?.state === 'expired';
    });
  }

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
        events: [Events.compartmentService({ compartment: compartmentId, inService: false, reason: ErrorCodes.NEEDS_INSPECTION })],
      },
      () => this.d.store.setService(compartmentId, false, ErrorCodes.NEEDS_INSPECTION),
    );
    this.d.alarms.raise(Events.needsInspection({ compartment: compartmentId, purpose: txn.kind, reason }));
    this.d.notify({ type: 'compartment', compartment: this.d.views.one(compartmentId) });
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
      compartment: this.d.views.one(compartmentId),
      ...(t.reassignedFrom ? { reassignedFrom: t.reassignedFrom } : {}),
      ...(t.sessions.get(compartmentId) ? { sessionId: t.sessions.get(compartmentId) } : {}),
      ...(withCode && t.pickupCode ? { pickupCode: t.pickupCode } : {}),
      ...(t.expiresAt ? { expiresAt: t.expiresAt } : {}),
      ...(t.error ? { error: t.error } : {}),
    };
  }
}
