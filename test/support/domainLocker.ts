// A domain-level fixture: the real Locker, DoorController, CodeVault and the real SerialLockBus
// over the byte-level board simulator, on a ManualClock and an in-memory database. No HTTP, no
// child process, no wall-clock waits: time moves only when a test calls advance(), so the
// timing scenarios (door left open, jam retry, board silent) are exact and fast.
import { generateKeyPairSync } from 'node:crypto';
import { busBaudRate } from '../../hal/buses/protocols.js';
import { SerialLockBus } from '../../hal/buses/serialLockBus.js';
import { SerialTransport } from '../../hal/transport/serialTransport.js';
import { attachSimBus, simPositions } from '../../sim/boards/simBus.js';
import { SimSerialRegistry } from '../../sim/serial/simBinding.js';
import { SimWorld } from '../../sim/world.js';
import { ManualClock } from '../../kernel/clock.js';
import { BudgetLedger } from '../../src/codes/budgetLedger.js';
import { CarrierConfig, CodesConfig, DoorsConfig, LayoutConfig, SerialBusConfig, type SizeClass } from '../../src/config/schema.js';
import { CodeVault } from '../../src/domain/codeVault.js';
import { DoorController } from '../../src/domain/doorController.js';
import { EventRecorder } from '../../src/domain/eventRecorder.js';
import { isEventType, parseEventData } from '../../src/domain/events.js';
import { Locker, type LockerEvent } from '../../src/domain/locker.js';
import { applyLayout } from '../../src/domain/provisioning.js';
import { type CourierIdentity } from '../../src/domain/views.js';
import { createIdFactory } from '../../src/ids.js';
import { silentLogger } from '../../src/logger.js';
import { seededRandom } from '../../kernel/random.js';
import { openDatabase } from '../../src/store/database.js';
import { LockerStore } from '../../src/store/lockerStore.js';
import { type z } from 'zod';
import { fixed } from '../../src/domain/liveSettings.js';
import { Outbox } from '../../src/store/outbox.js';

export interface DomainLockerOptions {
  sizes?: SizeClass[];
  itemSensors?: boolean;
  energiseMs?: number;
  doors?: Partial<DoorsConfig>;
  adHocDeposit?: boolean;
}

type DoorsConfig = z.infer<typeof DoorsConfig>;

export interface OutboxEvent {
  stream: string;
  seq: number;
  type: string;
  carrier: string | null;
  data: Record<string, unknown>;
}

export const CARRIER = 'swiftpost';

/**
 * The simulated serial line schedules byte times in fractions of a millisecond; the locker's
 * clock (like the system clock) reads whole milliseconds, which the store's INTEGER columns need.
 */
class WholeMsClock extends ManualClock {
  override now(): number {
    return Math.floor(super.now());
  }
}

export class DomainLocker {
  readonly clock: ManualClock = new WholeMsClock(Date.UTC(2026, 0, 1, 8));
  readonly random = seededRandom('domain-locker');
  readonly newId = createIdFactory(this.clock, this.random);
  readonly db = openDatabase(':memory:');
  readonly store = new LockerStore(this.db);
  readonly world: SimWorld;
  readonly bus: SerialLockBus;
  readonly doors: DoorController;
  readonly outbox: Outbox;
  readonly recorder: EventRecorder;
  readonly codes: CodeVault;
  readonly locker: Locker;
  /** Everything the locker told its listeners, in order. */
  readonly notices: LockerEvent[] = [];
  readonly courier: CourierIdentity = { carrier: CARRIER, courierId: 'courier-1', permissions: ['deposit', 'collect'] };
  readonly doorSettings: DoorsConfig;
  /** The simulated serial devices: unplug(busPath) cuts the line to the boards. */
  readonly registry = new SimSerialRegistry();
  readonly busPath: string;

  constructor(o: DomainLockerOptions = {}) {
    const sizes = o.sizes ?? ['S', 'M', 'L'];
    const busConfig = SerialBusConfig.parse({
      id: 'bus0',
      protocol: 'kerong-cu16',
      transport: { kind: 'sim' },
      pollIntervalMs: 200,
      fastPollIntervalMs: 50,
      fastPollForMs: 2_000,
      replyTimeoutMs: 100,
      boards: [{ address: 0, locks: 16, itemSensors: o.itemSensors ?? true, energiseMs: o.energiseMs ?? 100 }],
    });
    this.world = new SimWorld(this.clock, simPositions(busConfig));
    const { path } = attachSimBus(this.registry, { config: busConfig, world: this.world, clock: this.clock });
    this.busPath = path;
    const transport = new SerialTransport({ path, baudRate: busBaudRate(busConfig), binding: this.registry.binding });
    this.bus = new SerialLockBus({ config: busConfig, transport, clock: this.clock, logger: silentLogger(), reopenMinMs: 20, reopenMaxMs: 100, jitter: () => 0.5 });

    const now = this.clock.now();
    applyLayout(this.store, LayoutConfig.parse({ version: 1, compartments: sizes.map((size, i) => ({ id: `K${i + 1}`, size, bus: 'bus0', board: 0, lock: i + 1, column: 1, row: i + 1 })) }), now);
    const signingKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    this.store.upsertCarrier(CarrierConfig.parse({ id: CARRIER, name: 'SwiftPost', signingKeys: [signingKey], adHocDeposit: o.adHocDeposit ?? true, dwellHours: 1 }), now);

    this.doorSettings = DoorsConfig.parse({ openTimeoutMs: 1_000, leftOpenAlarmMs: 5_000, ...o.doors });
    this.doors = new DoorController(new Map([['bus0', this.bus]]), this.clock, fixed(this.doorSettings), silentLogger());
    this.doors.setLayout(this.store.compartments().map((c) => ({ id: c.id, bus: c.bus, board: c.board, lock: c.lock })));
    this.outbox = new Outbox(this.db);
    this.recorder = new EventRecorder(this.store, this.outbox, this.clock, this.newId, 'boot-1', () => true);
    const codesConfig = CodesConfig.parse({ length: 10 });
    this.codes = new CodeVault(this.store, this.recorder, fixed(codesConfig), new Uint8Array(32).fill(7), this.random, this.clock, new BudgetLedger(this.store, this.clock), () => sizes.length);
    this.locker = new Locker({
      settings: { revealCodes: true },
      store: this.store,
      doors: this.doors,
      recorder: this.recorder,
      codes: this.codes,
      clock: this.clock,
      newId: this.newId,
      logger: silentLogger(),
      encryptCode: async () => undefined,
    });
    this.locker.on((e) => this.notices.push(e));
  }

  /** Starts the bus and waits (on the manual clock) until every door has been read once. */
  async start(): Promise<this> {
    this.doors.start();
    await this.settle(this.bus.open());
    await this.until('first door readings', () => this.store.compartments().every((c) => this.doors.door(c.id).open !== undefined));
    return this;
  }

  async stop(): Promise<void> {
    this.locker.stop();
    this.doors.stop();
    await this.bus.close();
    this.db.close();
  }

  /** Lets pending I/O (the simulated serial port, promise chains) run without moving time. */
  async flush(): Promise<void> {
    for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
  }

  /** Moves the manual clock forward in small steps, letting the serial I/O run between steps. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    for (let done = 0; done < ms; done += stepMs) {
      await this.clock.advance(Math.min(stepMs, ms - done));
      await this.flush();
    }
  }

  /** Advances the clock until the condition holds; fails after `limitMs` of simulated time. */
  async until<T>(what: string, condition: () => T | undefined | false, limitMs = 10_000): Promise<T> {
    for (let t = 0; ; t += 10) {
      await this.flush();
      const v = condition();
      if (v) return v;
      if (t >= limitMs) throw new Error(`${what}: not within ${limitMs} ms of simulated time`);
      await this.clock.advance(10);
    }
  }

  /** Runs the promise to its end while moving simulated time (an unlock needs the bus to answer). */
  async settle<T>(p: Promise<T>, limitMs = 10_000): Promise<T> {
    let result: { ok: true; v: T } | { ok: false; e: unknown } | undefined;
    p.then(
      (v) => (result = { ok: true, v }),
      (e: unknown) => (result = { ok: false, e }),
    );
    await this.until('the call to finish', () => result !== undefined, limitMs);
    if (!result) throw new Error('unreachable');
    if (!result.ok) throw result.e;
    return result.v;
  }

  position(compartment: string): { bus: string; board: number; lock: number } {
    const p = this.doors.position(compartment);
    if (!p) throw new Error(`no compartment ${compartment}`);
    return { bus: p.bus, board: p.board, lock: p.lock };
  }

  put(compartment: string): void {
    this.world.putParcel(this.position(compartment));
  }

  take(compartment: string): void {
    this.world.takeParcel(this.position(compartment));
  }

  close(compartment: string): void {
    this.world.closeDoor(this.position(compartment));
  }

  /** The outbox, in stream order; each event's data is checked against the catalogue. */
  events(type?: string): OutboxEvent[] {
    return [...this.outbox.rows()]
      .sort((a, b) => (a.stream === b.stream ? a.seq - b.seq : a.stream < b.stream ? -1 : 1))
      .map((r) => {
        if (!isEventType(r.type)) throw new Error(`event type ${r.type} is not in the catalogue`);
        return { stream: r.stream, seq: r.seq, type: r.type, carrier: r.carrier, data: parseEventData(r.type, JSON.parse(r.data)) as Record<string, unknown> };
      })
      .filter((e) => type === undefined || e.type === type);
  }

  /** A deposit from start to stored: door opens, parcel in, door closed. Returns the pickup code. */
  async deposit(waybill: string, size: SizeClass = 'S'): Promise<{ code: string; compartment: string }> {
    const started = await this.settle(this.locker.startDeposit(this.courier, { waybill, size }));
    const compartment = started.compartment.id;
    this.put(compartment);
    this.close(compartment);
    const view = await this.until('the deposit to be stored', () => {
      const v = this.locker.depositView(this.courier, started.id);
      return v.state === 'stored' ? v : undefined;
    });
    if (!view.pickupCode) throw new Error('no pickup code revealed');
    return { code: view.pickupCode, compartment };
  }
}

export async function domainLocker(o: DomainLockerOptions = {}): Promise<DomainLocker> {
  return new DomainLocker(o).start();
}
