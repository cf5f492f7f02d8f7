// An in-memory LockerOperations for sync-layer tests: it keeps just enough state to answer
// like the core would (versions, carriers, reservations per carrier, compartments) and records
// every call, so tests can assert "called exactly once" and "never for another carrier".
import type { Ed25519PublicJwk, CarrierConfig, LayoutConfig } from '../../src/config/schema.js';
import { LockerError } from '../../kernel/errors.js';
import type {
  CarrierParcel,
  CommandActor,
  CompartmentStatus,
  CreateReservationArgs,
  Inventory,
  IssuerDirectory,
  LockerOperations,
  RemoteOpenArgs,
  RemoteOpenResult,
  ReportedConfig,
  RevocationResult,
  RevokeBadgeArgs,
  SetCompartmentServiceArgs,
  SetConfigArgs,
  UpdateArgs,
  UpdateResult,
} from '../../src/domain/lockerOperations.js';

export interface RecordedCall {
  method: keyof LockerOperations;
  args: unknown[];
}

export class FakeLockerOperations implements LockerOperations, IssuerDirectory {
  readonly calls: RecordedCall[] = [];
  layoutVersion = 0;
  readonly carriers = new Map<string, CarrierConfig>();
  readonly compartments = new Map<string, CompartmentStatus>();
  readonly parcels: CarrierParcel[] = [];
  config: ReportedConfig | null = null;
  /** How long remoteOpen takes (a door session), so retries can arrive while it runs. */
  remoteOpenDelayMs = 0;
  /** Compartments that hold a parcel: a layout without them strands it. */
  readonly occupied = new Set<string>();
  private nextId = 1;

  constructor(
    private readonly operator: { id: string; signingKeys: Ed25519PublicJwk[] },
    private readonly now: () => number = () => Date.now(),
  ) {}

  issuer(id: string): { kind: 'carrier' | 'operator'; signingKeys: readonly Ed25519PublicJwk[] } | undefined {
    if (id === this.operator.id) return { kind: 'operator', signingKeys: this.operator.signingKeys };
    const c = this.carriers.get(id);
    return c ? { kind: 'carrier', signingKeys: c.signingKeys } : undefined;
  }

  callsOf(method: keyof LockerOperations): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private record(method: keyof LockerOperations, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  setLayout(layout: LayoutConfig, by: CommandActor): Promise<{ version: number; compartments: number }> {
    this.record('setLayout', layout, by);
    if (layout.version <= this.layoutVersion) {
      return Promise.reject(new LockerError('VERSION_STALE', `layout version ${layout.version} is not newer than ${this.layoutVersion}`));
    }
    const ids = new Set(layout.compartments.map((c) => c.id));
    const stranded = [...this.occupied].filter((id) => !ids.has(id));
    if (stranded.length > 0) return Promise.reject(new LockerError('LAYOUT_STRANDS_PARCEL', 'a stored parcel would be stranded', { compartments: stranded }));
    this.layoutVersion = layout.version;
    this.compartments.clear();
    for (const c of layout.compartments) {
      this.compartments.set(c.id, { id: c.id, size: c.size, state: this.occupied.has(c.id) ? 'occupied' : 'free', inService: true, fault: null });
    }
    return Promise.resolve({ version: layout.version, compartments: layout.compartments.length });
  }

  upsertCarrier(carrier: CarrierConfig, by: CommandActor): Promise<{ carrier: string; created: boolean }> {
    this.record('upsertCarrier', carrier, by);
    const created = !this.carriers.has(carrier.id);
    this.carriers.set(carrier.id, carrier);
    return Promise.resolve({ carrier: carrier.id, created });
  }

  removeCarrier(carrierId: string, by: CommandActor): Promise<{ carrier: string; removed: boolean }> {
    this.record('removeCarrier', carrierId, by);
    return Promise.resolve({ carrier: carrierId, removed: this.carriers.delete(carrierId) });
  }

  setConfig(args: SetConfigArgs, by: CommandActor): Promise<ReportedConfig> {
    this.record('setConfig', args, by);
    if (this.config && args.version <= this.config.version) return Promise.reject(new LockerError('VERSION_STALE', 'config version is not newer'));
    this.config = { version: args.version, desired: args.desired, appliedAt: this.now() };
    return Promise.resolve(this.config);
  }

  reportedConfig(): ReportedConfig | null {
    return this.config;
  }

  setCompartmentService(args: SetCompartmentServiceArgs, by: CommandActor): Promise<CompartmentStatus> {
    this.record('setCompartmentService', args, by);
    const c = this.compartments.get(args.compartmentId);
    if (!c) return Promise.reject(new LockerError('NOT_FOUND', `no compartment ${args.compartmentId}`));
    c.inService = args.inService;
    c.fault = args.inService ? null : args.reason;
    c.state = args.inService ? (this.occupied.has(c.id) ? 'occupied' : 'free') : 'out_of_service';
    return Promise.resolve({ ...c });
  }

  remoteOpen(args: RemoteOpenArgs, by: CommandActor): Promise<RemoteOpenResult> {
    this.record('remoteOpen', args, by);
    if (!this.compartments.has(args.compartmentId)) return Promise.reject(new LockerError('NOT_FOUND', `no compartment ${args.compartmentId}`));
    const result = { compartmentId: args.compartmentId, sessionId: `session-${this.nextId++}`, opened: true };
    if (this.remoteOpenDelayMs <= 0) return Promise.resolve(result);
    return new Promise((resolve) => setTimeout(() => resolve(result), this.remoteOpenDelayMs));
  }

  inventory(): Promise<Inventory> {
    this.record('inventory');
    const counts = new Map<string, number>();
    for (const p of this.parcels) counts.set(`${p.carrier}\u0000${p.state}`, (counts.get(`${p.carrier}\u0000${p.state}`) ?? 0) + 1);
    return Promise.resolve({
      layoutVersion: this.layoutVersion,
      compartments: [...this.compartments.values()],
      parcels: [...counts].map(([k, count]) => {
        const [carrier = '', state = ''] = k.split('\u0000');
        return { carrier, state, count };
      }),
    });
  }

  diagnostics(): Promise<Record<string, unknown>> {
    this.record('diagnostics');
    return Promise.resolve({ fake: true, calls: this.calls.length });
  }

  createReservation(carrier: string, args: CreateReservationArgs, by: CommandActor): Promise<{ parcelId: string; waybill: string; kind: 'delivery' | 'dropoff'; state: string; carrierCode: boolean }> {
    this.record('createReservation', carrier, args, by);
    if (this.parcels.some((p) => p.carrier === carrier && p.waybill === args.waybill && p.state !== 'cancelled')) {
      return Promise.reject(new LockerError('WAYBILL_DUPLICATE', `waybill ${args.waybill} is already announced`));
    }
    const parcel: CarrierParcel = {
      id: `parcel-${this.nextId++}`,
      carrier,
      waybill: args.waybill,
      kind: args.kind,
      state: args.kind === 'delivery' ? 'announced' : 'announced_dropoff',
      size: args.size,
      compartmentId: null,
      expiresAt: null,
    };
    this.parcels.push(parcel);
    return Promise.resolve({ parcelId: parcel.id, waybill: args.waybill, kind: args.kind, state: parcel.state, carrierCode: args.codeJwe !== undefined });
  }

  cancelReservation(carrier: string, waybill: string, by: CommandActor): Promise<{ waybill: string; state: 'cancelled' }> {
    this.record('cancelReservation', carrier, waybill, by);
    const p = this.parcels.find((x) => x.carrier === carrier && x.waybill === waybill && (x.state === 'announced' || x.state === 'announced_dropoff'));
    if (!p) return Promise.reject(new LockerError('RESERVATION_UNKNOWN', `no reservation ${waybill}`));
    p.state = 'cancelled';
    return Promise.resolve({ waybill, state: 'cancelled' });
  }

  listParcels(carrier: string): Promise<CarrierParcel[]> {
    this.record('listParcels', carrier);
    return Promise.resolve(this.parcels.filter((p) => p.carrier === carrier).map((p) => ({ ...p })));
  }

  /** Records the revocation and answers like the core; the list itself is tested on the real store. */
  revokeBadge(args: RevokeBadgeArgs, by: CommandActor): Promise<RevocationResult> {
    this.record('revokeBadge', args, by);
    if (this.issuer(args.issuer) === undefined) return Promise.reject(new LockerError('INPUT_INVALID', `no issuer "${args.issuer}" on this locker`));
    const target = args.by === 'badge' ? args.jti : args.subject;
    return Promise.resolve({ issuer: args.issuer, by: args.by, target, added: true, entries: 1, keptUntil: this.now() + 7 * 86_400_000 });
  }

  /** The updater is tested on real processes (test/interop/updatesWithRollback.test.ts). */
  update(args: UpdateArgs, by: CommandActor): Promise<UpdateResult> {
    this.record('update', args, by);
    return Promise.reject(new LockerError('UPDATE_NOT_CONFIGURED', 'this fake locker does not update'));
  }
}
