// The whole lockerd runtime on the simulator for integration scenarios: starts it in-process
// on a temp data folder and any free port, acts on the simulated physical locker, and cleans
// up. It owns only that; the rest has one owner each: kioskClient.ts (the kiosk API over HTTP),
// storeReader.ts (what was recorded, through the store), childLockerd.ts (lockerd in a child
// process) and polling.ts. They are re-exported here for the scenarios' convenience.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLockerd, type RunningLockerd } from '../../src/composition/startLockerd.js';
import { type Clock } from '../../kernel/clock.js';
import { type LockerConfig } from '../../src/config/schema.js';
import { type Logger } from '../../src/logger.js';
import { type SimPosition, type SimWorld } from '../../sim/world.js';
import { demoConfigInput, makeDemoLocker, type ConfigOverrides, type DemoLocker } from './demoLocker.js';
import { KioskClient, openEventStream, type ApiReply, type CompartmentJson, type DepositJson, type EventStream, type StoredDeposit, type TerminalStream } from './kioskClient.js';
import { waitFor } from './polling.js';
import { StoreReader } from './storeReader.js';
export { freePort } from './freePort.js';
export * from './kioskClient.js';
export * from './storeReader.js';
export * from './childLockerd.js';
export * from './polling.js';

// ---------------------------------------------------------------- timings and configs

/** Door timings short enough for a scenario to run in seconds. */
export const fastDoors = { openTimeoutMs: 1000, leftOpenAlarmMs: 1500, jamRetries: 1 };

/**
 * Bus timing used by every scenario: quick polls; reply timeout and misses as shipped, so a
 * busy test machine does not make a board look silent.
 */
export const fastBusTiming = { pollIntervalMs: 100, fastPollIntervalMs: 40, fastPollForMs: 2000, replyTimeoutMs: 300, silentAfterMisses: 3 };

interface BoardInput {
  address: number;
  locks: number;
  energiseMs?: number;
  itemSensors?: boolean;
}

/** The demo hardware (one CU48 bus of two boards, simulated scanner) with fast timings. */
export function fastDemoHardware(o: { energiseMs?: number; scanner?: Record<string, unknown> } = {}): Record<string, unknown> {
  const base = demoConfigInput();
  const hardware = base.hardware as { buses: { boards: BoardInput[] }[]; scanner?: Record<string, unknown> };
  return {
    buses: hardware.buses.map((b) => ({ ...b, ...fastBusTiming, boards: b.boards.map((board) => ({ ...board, energiseMs: o.energiseMs ?? 100 })) })),
    scanner: { ...(hardware.scanner ?? {}), reconnectMinMs: 50, reconnectMaxMs: 300, ...(o.scanner ?? {}) },
  };
}

/**
 * One CU16 board (address 0) behind the simulated bus, with item sensors or without, and a
 * small layout on it: compartments K1..K6 (S, S, M, M, L, XL).
 */
export function cu16Overrides(o: { itemSensors: boolean; energiseMs?: number }): ConfigOverrides {
  const sizes = ['S', 'S', 'M', 'M', 'L', 'XL'];
  return {
    hardware: {
      buses: [
        {
          id: 'bus0',
          protocol: 'kerong-cu16',
          transport: { kind: 'sim' },
          ...fastBusTiming,
          boards: [{ address: 0, locks: 16, itemSensors: o.itemSensors, energiseMs: o.energiseMs ?? 100 }],
        },
      ],
      scanner: { transport: { kind: 'sim' }, suffix: 'cr' },
    },
    layout: {
      version: 1,
      compartments: sizes.map((size, i) => ({ id: `K${i + 1}`, size, bus: 'bus0', board: 0, lock: i + 1, column: 1, row: i + 1 })),
    },
  };
}

/** Default overrides of every in-process scenario, merged under the scenario's own. */
export function scenarioOverrides(overrides: ConfigOverrides = {}): ConfigOverrides {
  return { hardware: fastDemoHardware(), doors: fastDoors, ...overrides };
}

// ---------------------------------------------------------------- the in-process locker

export interface LockerHarnessOptions {
  overrides?: ConfigOverrides;
  /** Reuse a data folder (a restart); a new temp folder otherwise. */
  dataDir?: string;
  /** The runtime's clock (e.g. an OffsetClock a scenario moves forward); the system clock otherwise. Kept across restart(). */
  clock?: Clock;
  /** The runtime's logger (e.g. one that captures lines); silent otherwise. Kept across restart(). */
  logger?: Logger;
  /** How often a store that refuses writes is probed (startLockerd's storeProbeMs). Kept across restart(). */
  storeProbeMs?: number;
}

export class LockerHarness {
  readonly read: StoreReader;
  /** The kiosk API, with hands on the simulated world for the doors. */
  readonly kiosk: KioskClient;
  private stopped = false;

  private constructor(
    readonly running: RunningLockerd,
    readonly demo: DemoLocker,
    readonly dataDir: string,
    private readonly runtime: Pick<LockerHarnessOptions, 'clock' | 'logger' | 'storeProbeMs'> = {},
  ) {
    this.read = new StoreReader(running.db);
    this.kiosk = new KioskClient(running.url, demo, { put: (id) => this.put(id), close: (id) => this.close(id) });
  }

  /** Starts lockerd on the simulator; the defaults of scenarioOverrides() apply under `overrides`. */
  static async start(options: LockerHarnessOptions = {}): Promise<LockerHarness> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'lockerd-it-')));
    const demo = await makeDemoLocker(dataDir, scenarioOverrides(options.overrides), options.clock);
    const runtime = { ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}), ...(options.storeProbeMs !== undefined ? { storeProbeMs: options.storeProbeMs } : {}) };
    const running = await startLockerd({ config: demo.config, sim: true, port: 0, ...runtime });
    const h = new LockerHarness(running, demo, dataDir, runtime);
    await waitFor('every door read once', () => h.running.locker.compartments().every((c) => c.door !== 'unknown' || c.state === 'out_of_service'), 5_000);
    return h;
  }

  get url(): string {
    return this.running.url;
  }

  get config(): LockerConfig {
    return this.running.config;
  }

  get world(): SimWorld {
    const w = this.running.world;
    if (!w) throw new Error('lockerd is not running on the simulator');
    return w;
  }

  /** Stops the runtime and keeps the data folder (for a restart on it). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.running.stop();
  }

  /** Stops the runtime (if running) and removes the data folder. */
  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Stops this runtime and starts a new one on the same data folder. */
  async restart(overrides?: ConfigOverrides): Promise<LockerHarness> {
    await this.stop();
    return LockerHarness.start({ dataDir: this.dataDir, ...this.runtime, ...(overrides ? { overrides } : {}) });
  }

  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<ApiReply<T>> {
    return this.kiosk.api<T>(method, path, body, token);
  }

  /** The public event stream (what anything on loopback may read). */
  events(): Promise<EventStream> {
    return openEventStream(`${this.url}/api/events`);
  }

  /**
   * The kiosk terminal's private stream: pairs as the kiosk page does (--sim needs no key) and
   * can tell the server which screen it shows, so scans are read for that screen.
   */
  async terminal(): Promise<TerminalStream> {
    const res = await fetch(`${this.url}/api/kiosk/pair`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (res.status !== 200 || !cookie) throw new Error(`pairing failed: ${res.status}`);
    const stream = await openEventStream(`${this.url}/api/events`, cookie);
    const url = this.url;
    return {
      ...stream,
      cookie,
      async show(screen: string, token?: string): Promise<void> {
        const r = await fetch(`${url}/api/kiosk/screen`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify({ screen }),
        });
        if (r.status !== 200) throw new Error(`screen ${screen}: ${r.status}`);
      },
    };
  }

  // ---- the physical locker ----

  position(compartmentId: string): SimPosition {
    const c = this.config.layout.compartments.find((x) => x.id === compartmentId);
    if (!c) throw new Error(`no compartment ${compartmentId} in the layout`);
    return { bus: c.bus, board: c.board, lock: c.lock };
  }

  simLock(compartmentId: string): { latched: boolean; doorOpen: boolean; itemPresent: boolean; jammed: boolean } {
    return this.world.lock(this.position(compartmentId));
  }

  put(compartmentId: string): void {
    this.world.putParcel(this.position(compartmentId));
  }

  take(compartmentId: string): void {
    this.world.takeParcel(this.position(compartmentId));
  }

  close(compartmentId: string): void {
    this.world.closeDoor(this.position(compartmentId));
  }

  jam(compartmentId: string, jammed = true): void {
    this.world.setJammed(this.position(compartmentId), jammed);
  }

  /** Waits until lockerd itself reports the door of a compartment in this state. */
  async waitForDoor(compartmentId: string, door: 'open' | 'closed', timeoutMs = 5_000): Promise<void> {
    await waitFor(`door ${compartmentId} ${door}`, () => this.running.locker.compartment(compartmentId).door === door, timeoutMs);
  }

  // ---- people (the kiosk client does the talking) ----

  courierLogin(carrier = 'swiftpost', courierId = 'courier-1', perms?: ('deposit' | 'collect')[]): Promise<string> {
    return this.kiosk.courierLogin(carrier, courierId, perms);
  }

  operatorLogin(): Promise<string> {
    return this.kiosk.operatorLogin();
  }

  operatorCompartments(token: string): Promise<CompartmentJson[]> {
    return this.kiosk.operatorCompartments(token);
  }

  operatorCompartment(token: string, id: string): Promise<CompartmentJson> {
    return this.kiosk.operatorCompartment(token, id);
  }

  startDeposit(token: string, waybill: string, size: string, extra: Record<string, unknown> = {}): Promise<ApiReply<{ deposit: DepositJson }>> {
    return this.kiosk.startDeposit(token, waybill, size, extra);
  }

  depositView(token: string, id: string): Promise<DepositJson> {
    return this.kiosk.depositView(token, id);
  }

  waitForDeposit(token: string, id: string, state: string, timeoutMs = 5_000): Promise<DepositJson> {
    return this.kiosk.waitForDeposit(token, id, state, timeoutMs);
  }

  deposit(token: string, waybill: string, size = 'S'): Promise<StoredDeposit> {
    return this.kiosk.deposit(token, waybill, size);
  }

  finishDeposit(token: string, deposit: DepositJson): Promise<StoredDeposit> {
    return this.kiosk.finishDeposit(token, deposit);
  }

  pickup(code: string): Promise<ApiReply<{ sessionId: string; compartment: CompartmentJson; parcel: { kind: string } }>> {
    return this.kiosk.pickup(code);
  }

  announce(carrier: string, body: { waybill: string; size: string; kind?: 'parcel' | 'dropoff'; code?: string; dwellHours?: number }): Promise<{ parcelId: string; code?: string }> {
    return this.kiosk.announce(carrier, body);
  }
}
