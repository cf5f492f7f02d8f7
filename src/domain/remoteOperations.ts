// The locker's side of remote commands (src/sync/lockerOperations.ts): what an operator or a
// carrier may ask once the sync layer has verified the command. Every change goes through the
// locker's own flows, so it is audited and evented like a change made at the kiosk.
// A carrier's methods are scoped to that carrier: another carrier's parcel is "not found".
import type { CryptoKey } from 'jose';
import { type Clock } from '../../kernel/clock.js';
import { type CarrierConfig, type LayoutConfig, type LockerConfig } from '../config/schema.js';
import { type BadgeRevocations } from '../credentials/badgeRevocations.js';
import { decryptForLocker, encryptCodeForCarrier } from '../crypto/codeJwe.js';
import { assertKeypadPolicy } from '../codes/keypadPolicy.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type LockerStore } from '../store/lockerStore.js';
import {
  type CarrierParcel,
  type CommandActor,
  type CompartmentStatus,
  type CreateReservationArgs,
  type Inventory,
  type IssuerDirectory,
  type LockerOperations,
  type RemoteConfig,
  type RemoteOpenArgs,
  type RemoteOpenResult,
  type ReportedConfig,
  type ReservationResult,
  type RevocationResult,
  type RevokeBadgeArgs,
  type SetCompartmentServiceArgs,
  type SetConfigArgs,
  type UpdateArgs,
  type UpdateResult,
} from './lockerOperations.js';
import { type DoorController } from './doorController.js';
import { type LiveSettings, type RuntimeSettings } from './liveSettings.js';
import { type Locker } from './locker.js';
import { applyLayout, layoutVersion } from './provisioning.js';
import { type Actor, type CompartmentView } from './views.js';

export interface RemoteOperationsDeps {
  locker: Locker;
  store: LockerStore;
  doors: DoorController;
  clock: Clock;
  /** The configuration file as loaded; never changed (remote changes go to `settings`). */
  config: LockerConfig;
  /** The settings in force: setConfig publishes a new value, the services read it from here. */
  settings: LiveSettings<RuntimeSettings>;
  lockerEncryptionKey: CryptoKey;
  diagnostics: () => Record<string, unknown>;
  setLogLevel: (level: string) => void;
  /** The badge revocation list (shared with Credentials, which checks it at every login). */
  revocations: BadgeRevocations;
  /** The updater (src/update/updateAgent.ts), when the configuration has an updates section. */
  updates?: { update(args: UpdateArgs, by: CommandActor): Promise<UpdateResult> };
}

function actorOf(by: CommandActor): Actor {
  return by.kind === 'operator' ? { kind: 'operator', id: by.id } : { kind: 'carrier', id: by.id };
}

function status(c: CompartmentView, inService: boolean, fault: string | null): CompartmentStatus {
  return { id: c.id, size: c.size, state: c.state, inService, fault };
}

export class LockerRemoteOperations implements LockerOperations, IssuerDirectory {
  constructor(private readonly d: RemoteOperationsDeps) {}

  issuer(id: string): { kind: 'carrier' | 'operator'; signingKeys: CarrierConfig['signingKeys'] } | undefined {
    if (id === this.d.config.operator.id) return { kind: 'operator', signingKeys: this.d.config.operator.signingKeys };
    const c = this.d.store.carriers().find((x) => x.id === id);
    return c ? { kind: 'carrier', signingKeys: c.signingKeys } : undefined;
  }

  async setLayout(layout: LayoutConfig, by: CommandActor): Promise<{ version: number; compartments: number }> {
    const buses = new Map(this.d.config.hardware.buses.map((b) => [b.id, b]));
    for (const c of layout.compartments) {
      const bus = buses.get(c.bus);
      if (!bus) throw new LockerError(ErrorCodes.INPUT_INVALID, `compartment ${c.id}: unknown bus "${c.bus}"`);
      const fits = bus.protocol === 'gpio' ? c.board === 0 && bus.locks.some((l) => l.lock === c.lock) : bus.boards.some((b) => b.address === c.board && c.lock <= b.locks);
      if (!fits) throw new LockerError(ErrorCodes.INPUT_INVALID, `compartment ${c.id}: no lock ${c.lock} on board ${c.board} of bus ${c.bus}`);
    }
    applyLayout(this.d.store, layout, this.d.clock.now());
    this.d.doors.setLayout(this.d.store.compartments().map((c) => ({ id: c.id, bus: c.bus, board: c.board, lock: c.lock })));
    this.d.locker.recordLayoutApplied({ version: layout.version, by: by.id, commandId: by.commandId });
    return { version: layout.version, compartments: layout.compartments.length };
  }

  async upsertCarrier(carrier: CarrierConfig, by: CommandActor): Promise<{ carrier: string; created: boolean }> {
    if (carrier.id === this.d.config.operator.id) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a carrier cannot use the operator id');
    const created = !this.d.store.carriers().some((c) => c.id === carrier.id);
    this.d.store.transaction(() => {
      this.d.store.upsertCarrier(carrier, this.d.clock.now());
      this.d.store.audit(this.d.clock.now(), `operator:${by.id}`, created ? 'carrier.added' : 'carrier.updated', carrier.id, { commandId: by.commandId });
    });
    return { carrier: carrier.id, created };
  }

  async removeCarrier(carrierId: string, by: CommandActor): Promise<{ carrier: string; removed: boolean }> {
    const live = this.d.store.carrierParcels(carrierId);
    if (live.length) throw new LockerError(ErrorCodes.TRANSACTION_STATE, `carrier ${carrierId} still has ${live.length} parcels or reservations at this locker`);
    const removed = this.d.store.carriers().some((c) => c.id === carrierId);
    this.d.store.transaction(() => {
      this.d.store.deleteCarrier(carrierId);
      this.d.store.audit(this.d.clock.now(), `operator:${by.id}`, 'carrier.removed', carrierId, { commandId: by.commandId });
    });
    return { carrier: carrierId, removed };
  }

  async setConfig(args: SetConfigArgs, by: CommandActor): Promise<ReportedConfig> {
    const current = this.d.store.provisioned('config');
    if (current && args.version <= current.version) throw new LockerError(ErrorCodes.VERSION_STALE, `config version ${args.version} is not newer than ${current.version}`, { current: current.version });
    // A remote change may not weaken the keypad below the 0.1 % target (CODE_POLICY_WEAK).
    if (args.desired.codes) {
      const codes = { ...this.d.settings.get().codes, ...args.desired.codes };
      assertKeypadPolicy({ length: codes.length, burst: codes.burst, refillPerHour: codes.refillPerHour, liveCodes: codes.maxLiveCodes ?? this.d.store.compartments().length });
    }
    const appliedAt = this.d.clock.now();
    this.applyRemoteConfig(args.desired);
    this.d.store.transaction(() => {
      this.d.store.putProvisioned('config', args.version, { desired: args.desired, appliedAt }, appliedAt);
      this.d.store.audit(appliedAt, `operator:${by.id}`, 'config.applied', null, { version: args.version, commandId: by.commandId });
    });
    return { version: args.version, desired: args.desired, appliedAt };
  }

  /** Applies the stored remote configuration at start (it outranks the file). */
  applyStoredConfig(): void {
    const r = this.reportedConfig();
    if (r) this.applyRemoteConfig(r.desired);
  }

  reportedConfig(): ReportedConfig | null {
    const p = this.d.store.provisioned('config');
    if (!p) return null;
    const v = p.value as { desired: RemoteConfig; appliedAt: number };
    return { version: p.version, desired: v.desired, appliedAt: v.appliedAt };
  }

  private applyRemoteConfig(desired: RemoteConfig): void {
    // A new value, published: the services read it at their next use (nothing is changed in place).
    this.d.settings.update((s) => ({
      codes: { ...s.codes, ...desired.codes },
      doors: { ...s.doors, ...desired.doors },
      sync: s.sync && desired.sync ? { ...s.sync, ...desired.sync } : s.sync,
    }));
    if (desired.logLevel) this.d.setLogLevel(desired.logLevel);
  }

  async setCompartmentService(args: SetCompartmentServiceArgs, by: CommandActor): Promise<CompartmentStatus> {
    const view = this.d.locker.setService(args.compartmentId, args.inService, args.reason, actorOf(by));
    const row = this.d.store.compartment(args.compartmentId);
    return status(view, row?.inService ?? args.inService, row?.fault ?? null);
  }

  async remoteOpen(args: RemoteOpenArgs, by: CommandActor): Promise<RemoteOpenResult> {
    const opened = await this.d.locker.remoteOpen(args.compartmentId, args.reason, { kind: 'operator', id: args.operatorId || by.id });
    return { compartmentId: args.compartmentId, sessionId: opened.sessionId, opened: true };
  }

  async inventory(): Promise<Inventory> {
    const counts = new Map<string, number>();
    for (const carrier of this.d.store.carriers()) {
      for (const p of this.d.store.carrierParcels(carrier.id)) {
        const k = `${carrier.id}\u0000${p.state}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
    const rows = new Map(this.d.store.compartments().map((c) => [c.id, c]));
    return {
      layoutVersion: layoutVersion(this.d.store),
      compartments: this.d.locker.compartments().map((v) => status(v, rows.get(v.id)?.inService ?? true, rows.get(v.id)?.fault ?? null)),
      parcels: [...counts].map(([k, count]) => {
        const [carrier = '', state = ''] = k.split('\u0000');
        return { carrier, state, count };
      }),
    };
  }

  async revokeBadge(args: RevokeBadgeArgs, by: CommandActor): Promise<RevocationResult> {
    // Only issuers this locker knows: each has a bounded share of the list, so a made-up issuer
    // name must not open a new share.
    const kind = this.issuer(args.issuer)?.kind;
    if (!kind) throw new LockerError(ErrorCodes.INPUT_INVALID, `no issuer "${args.issuer}" on this locker`, { issuer: args.issuer });
    const role = kind === 'operator' ? 'operator' : 'courier';
    const outcome =
      args.by === 'badge'
        ? this.d.revocations.revoke({ by: 'badge', issuer: args.issuer, role, jti: args.jti }, `${by.kind}:${by.id}`, args.reason)
        : this.d.revocations.revoke(
            { by: 'subject', issuer: args.issuer, role, subject: args.subject, notBefore: args.notBefore !== undefined ? args.notBefore * 1000 : this.d.clock.now() },
            `${by.kind}:${by.id}`,
            args.reason,
          );
    const { row } = outcome;
    return {
      issuer: row.issuer,
      by: row.kind,
      target: row.target,
      ...(row.notBefore !== null ? { notBefore: Math.floor(row.notBefore / 1000) } : {}),
      added: outcome.added,
      entries: outcome.entries,
      keptUntil: outcome.keptUntil,
    };
  }

  async update(args: UpdateArgs, by: CommandActor): Promise<UpdateResult> {
    if (!this.d.updates) throw new LockerError(ErrorCodes.UPDATE_NOT_CONFIGURED, 'this locker has no updates section (release root and release keys) in its configuration');
    return this.d.updates.update(args, by);
  }

  async diagnostics(): Promise<Record<string, unknown>> {
    return { ...this.d.diagnostics(), alarms: this.d.locker.alarms.recent(20) };
  }

  /** A drop-off code the locker generated goes back to the carrier only encrypted to its key. */
  async createReservation(carrier: string, args: CreateReservationArgs, by: CommandActor): Promise<ReservationResult & { codeJwe?: string }> {
    let code: string | undefined;
    if (args.codeJwe) {
      const payload = await decryptForLocker(args.codeJwe, this.d.lockerEncryptionKey, { codeLength: this.d.settings.get().codes.length, expectedWaybill: args.waybill });
      code = payload.code;
    }
    const out = this.d.locker.announce(
      carrier,
      { waybill: args.waybill, size: args.size, kind: args.kind, ...(args.dwellHours ? { dwellHours: args.dwellHours } : {}), ...(code ? { code } : {}), ...(args.requiresLow ? { requiresLow: true } : {}), ...(args.group ? { group: args.group } : {}) },
      actorOf(by),
    );
    let codeJwe: string | undefined;
    if (out.code) {
      const key = this.d.locker.carrier(carrier).encryptionKey;
      if (!key) throw new LockerError(ErrorCodes.CRYPTO_ERROR, `carrier ${carrier} has no encryption key to receive its drop-off code`);
      codeJwe = await encryptCodeForCarrier(key, { code: out.code, parcelId: out.parcelId, waybill: args.waybill });
    }
    return {
      parcelId: out.parcelId,
      waybill: args.waybill,
      kind: args.kind,
      state: args.kind === 'dropoff' ? 'announced_dropoff' : 'announced',
      carrierCode: code !== undefined,
      ...(codeJwe ? { codeJwe } : {}),
    };
  }

  async cancelReservation(carrier: string, waybill: string, by: CommandActor): Promise<{ waybill: string; state: 'cancelled' }> {
    this.d.locker.cancelReservation(carrier, waybill, actorOf(by));
    return { waybill, state: 'cancelled' };
  }

  async listParcels(carrier: string): Promise<CarrierParcel[]> {
    return this.d.store.carrierParcels(carrier).map((p) => ({
      id: p.id,
      carrier: p.carrier,
      waybill: p.waybill,
      kind: p.kind,
      state: p.state,
      size: p.size,
      compartmentId: p.compartmentId,
      expiresAt: p.expiresAt,
    }));
  }
}
