// The whole lockerd runtime on the simulator for integration scenarios: starts it in-process
// on a temp data folder and any free port, talks to it only over HTTP, acts on the simulated
// physical locker, reads the database to check what was recorded, and cleans up. Also the
// pieces the power-cut scenarios need to run lockerd as a child process and kill it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startLockerd, type RunningLockerd } from '../../src/composition/startLockerd.js';
import { type Clock } from '../../kernel/clock.js';
import { type LockerConfig } from '../../src/config/schema.js';
import { type Logger } from '../../src/logger.js';
import { packageRoot } from '../../src/packageRoot.js';
import { type Db } from '../../src/store/database.js';
import { Outbox } from '../../src/store/outbox.js';
import { type SimPosition, type SimWorld } from '../../sim/world.js';
import { type CompartmentView, type DepositView } from '../../src/domain/views.js';
import { demoConfigInput, makeDemoLocker, type ConfigOverrides, type DemoLocker } from './demoLocker.js';
import { freePort } from './freePort.js';
export { freePort };

// ---------------------------------------------------------------- shapes of API replies

/** The API's views, as the server types them (docs/kiosk-api.md). */
export type CompartmentJson = CompartmentView;
export type DepositJson = DepositView;

export interface ErrorJson {
  error: { code: string; message: string; context: Record<string, unknown> };
}

export interface ApiReply<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface OutboxRow {
  stream: string;
  seq: number;
  id: string;
  type: string;
  carrier: string | null;
  ts: number;
  bootId: string;
  data: Record<string, unknown>;
}

export interface ParcelDbRow {
  id: string;
  carrier: string;
  waybill: string;
  kind: string;
  state: string;
  size: string | null;
  compartment_id: string | null;
  code_digest: string | null;
  expires_at: number | null;
}

export interface SessionDbRow {
  id: string;
  compartment_id: string;
  purpose: string;
  state: string;
  outcome: string | null;
  context: string;
}

export interface StoredDeposit {
  deposit: DepositJson;
  compartment: string;
  code: string;
}

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

// ---------------------------------------------------------------- polling

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` until it returns something other than undefined/false, at most `timeoutMs`.
 * Throws with `what` and the last value seen when the time is up.
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------- HTTP

export async function apiCall<T = unknown>(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<ApiReply<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** The error code of a failed reply (undefined for a success). */
export function errorCode(r: ApiReply): string | undefined {
  const b = r.body as Partial<ErrorJson> | undefined;
  return b && typeof b === 'object' ? b.error?.code : undefined;
}

export function errorContext(r: ApiReply): Record<string, unknown> {
  return (r.body as ErrorJson).error.context;
}

// ---------------------------------------------------------------- server-sent events

export interface TerminalStream extends EventStream {
  cookie: string;
  /** Reports the screen the terminal shows (home, pickup, dropoff, login, waybill, none). */
  show(screen: string, token?: string): Promise<void>;
}

export interface EventStream {
  readonly events: Record<string, unknown>[];
  waitFor(what: string, match: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): void;
}

/** Reads `data:` messages of an SSE endpoint into `events` until closed (cookie: the kiosk terminal's). */
export async function openEventStream(url: string, cookie?: string): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream', ...(cookie ? { cookie } : {}) } });
  if (res.status !== 200 || !res.body) throw new Error(`event stream ${url} answered ${res.status}`);
  const events: Record<string, unknown>[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = message
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) events.push(JSON.parse(data) as Record<string, unknown>);
        }
      }
    } catch {
      // aborted or the server went away
    }
  })();
  return {
    events,
    waitFor: (what, match, timeoutMs = 5_000) => waitFor(`event: ${what}`, () => events.find(match), timeoutMs),
    close: () => abort.abort(),
  };
}

// ---------------------------------------------------------------- database reads

function outboxRows(db: Db, stream?: string): OutboxRow[] {
  return new Outbox(db)
    .rows(stream)
    .map((r) => ({ stream: r.stream, seq: r.seq, id: r.id, type: r.type, carrier: r.carrier, ts: r.ts, bootId: r.bootId, data: JSON.parse(r.data) as Record<string, unknown> }));
}

/** Streams whose seq numbers are not exactly 1..n (empty when every stream is contiguous). */
export function seqGaps(rows: readonly OutboxRow[]): string[] {
  const byStream = new Map<string, number[]>();
  for (const r of rows) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r.seq]);
  const problems: string[] = [];
  for (const [stream, seqs] of byStream) {
    const sorted = [...seqs].sort((a, b) => a - b);
    if (!sorted.every((s, i) => s === i + 1)) problems.push(`${stream}: ${sorted.join(',')}`);
  }
  return problems;
}

/** Every table's rows as text, to check that something (a plaintext code) appears nowhere. */
export function allTableText(db: Db): string {
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
  return tables.map((t) => `${t.name}\n${JSON.stringify(db.prepare(`SELECT * FROM "${t.name}"`).all())}`).join('\n');
}

export class DbReader {
  constructor(readonly db: Db) {}

  outbox(stream?: string): OutboxRow[] {
    return outboxRows(this.db, stream);
  }

  /** Event types of one stream, in seq order. */
  eventTypes(stream: string): string[] {
    return this.outbox(stream).map((r) => r.type);
  }

  events(type: string): OutboxRow[] {
    return this.outbox().filter((r) => r.type === type);
  }

  parcels(): ParcelDbRow[] {
    return this.db.prepare('SELECT * FROM parcels ORDER BY rowid').all() as ParcelDbRow[];
  }

  parcel(id: string): ParcelDbRow | undefined {
    return this.db.prepare('SELECT * FROM parcels WHERE id = ?').get(id) as ParcelDbRow | undefined;
  }

  parcelByWaybill(waybill: string): ParcelDbRow | undefined {
    return this.db.prepare('SELECT * FROM parcels WHERE waybill = ? ORDER BY rowid DESC').get(waybill) as ParcelDbRow | undefined;
  }

  sessions(): SessionDbRow[] {
    return this.db.prepare('SELECT id, compartment_id, purpose, state, outcome, context FROM door_sessions ORDER BY started_at, rowid').all() as SessionDbRow[];
  }

  inFlightSessions(): SessionDbRow[] {
    return this.sessions().filter((s) => s.state === 'in_flight');
  }

  compartmentRow(id: string): { in_service: number; fault: string | null } | undefined {
    return this.db.prepare('SELECT in_service, fault FROM compartments WHERE id = ?').get(id) as { in_service: number; fault: string | null } | undefined;
  }

  /** The keypad's token bucket as last written (tries left); undefined before the first wrong code. */
  keypadBudget(): { tokens: number; updated_at: number; alarmed_at: number } | undefined {
    return this.db.prepare("SELECT tokens, updated_at, alarmed_at FROM attempt_budgets WHERE scope = 'keypad'").get() as { tokens: number; updated_at: number; alarmed_at: number } | undefined;
  }

  auditActions(): string[] {
    return (this.db.prepare('SELECT action FROM audit ORDER BY id').all() as { action: string }[]).map((r) => r.action);
  }

  integrity(): string {
    return String(this.db.pragma('integrity_check', { simple: true }));
  }

  foreignKeyProblems(): unknown[] {
    return this.db.pragma('foreign_key_check') as unknown[];
  }

  allText(): string {
    return allTableText(this.db);
  }
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
}

export class LockerHarness {
  readonly read: DbReader;
  private stopped = false;

  private constructor(
    readonly running: RunningLockerd,
    readonly demo: DemoLocker,
    readonly dataDir: string,
    private readonly runtime: Pick<LockerHarnessOptions, 'clock' | 'logger'> = {},
  ) {
    this.read = new DbReader(running.db);
  }

  /** Starts lockerd on the simulator; the defaults of scenarioOverrides() apply under `overrides`. */
  static async start(options: LockerHarnessOptions = {}): Promise<LockerHarness> {
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'lockerd-it-')));
    const demo = await makeDemoLocker(dataDir, scenarioOverrides(options.overrides), options.clock);
    const runtime = { ...(options.clock ? { clock: options.clock } : {}), ...(options.logger ? { logger: options.logger } : {}) };
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
    return apiCall<T>(this.url, method, path, body, token);
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

  // ---- people ----

  async courierLogin(carrier = 'swiftpost', courierId = 'courier-1', perms?: ('deposit' | 'collect')[]): Promise<string> {
    const badge = await this.demo.mintCourierBadge(carrier, courierId, perms);
    const r = await this.api<{ token: string }>('POST', '/api/courier/login', { badge });
    if (r.status !== 200) throw new Error(`courier login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async operatorLogin(): Promise<string> {
    const badge = await this.demo.mintOperatorBadge();
    const r = await this.api<{ token: string }>('POST', '/api/operator/login', { badge });
    if (r.status !== 200) throw new Error(`operator login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  async operatorCompartments(token: string): Promise<CompartmentJson[]> {
    const r = await this.api<{ compartments: CompartmentJson[] }>('GET', '/api/operator/compartments', undefined, token);
    if (r.status !== 200) throw new Error(`compartments: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.compartments;
  }

  async operatorCompartment(token: string, id: string): Promise<CompartmentJson> {
    const c = (await this.operatorCompartments(token)).find((x) => x.id === id);
    if (!c) throw new Error(`no compartment ${id}`);
    return c;
  }

  startDeposit(token: string, waybill: string, size: string, extra: Record<string, unknown> = {}): Promise<ApiReply<{ deposit: DepositJson }>> {
    return this.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size, ...extra }, token);
  }

  async depositView(token: string, id: string): Promise<DepositJson> {
    const r = await this.api<{ deposit: DepositJson }>('GET', `/api/courier/deposits/${id}`, undefined, token);
    if (r.status !== 200) throw new Error(`deposit ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.deposit;
  }

  /** Waits until the deposit reaches `state` (as the courier sees it). */
  async waitForDeposit(token: string, id: string, state: string, timeoutMs = 5_000): Promise<DepositJson> {
    return waitFor(`deposit ${id} ${state}`, async () => {
      const d = await this.depositView(token, id);
      return d.state === state ? d : undefined;
    }, timeoutMs);
  }

  /** A whole deposit: door opens, the parcel goes in, the door is closed, stored with a code. */
  async deposit(token: string, waybill: string, size = 'S'): Promise<StoredDeposit> {
    const r = await this.startDeposit(token, waybill, size);
    if (r.status !== 200) throw new Error(`deposit ${waybill}: ${r.status} ${JSON.stringify(r.body)}`);
    return this.finishDeposit(token, r.body.deposit);
  }

  /** Puts the parcel into the open door of a deposit, closes it and waits until it is stored. */
  async finishDeposit(token: string, deposit: DepositJson): Promise<StoredDeposit> {
    const compartment = deposit.compartment.id;
    this.put(compartment);
    this.close(compartment);
    const stored = await this.waitForDeposit(token, deposit.id, 'stored');
    if (!stored.pickupCode) throw new Error(`deposit ${deposit.id} was stored without a revealed code`);
    return { deposit: stored, compartment, code: stored.pickupCode };
  }

  pickup(code: string): Promise<ApiReply<{ sessionId: string; compartment: CompartmentJson; parcel: { kind: string } }>> {
    return this.api('POST', '/api/pickup', { code });
  }

  /** Announces a parcel or drop-off as the carrier's back end would (simulator route). */
  async announce(carrier: string, body: { waybill: string; size: string; kind?: 'parcel' | 'dropoff'; code?: string; dwellHours?: number }): Promise<{ parcelId: string; code?: string }> {
    const r = await this.api<{ parcelId: string; code?: string }>('POST', `/sim/carriers/${carrier}/reservations`, body);
    if (r.status !== 200) throw new Error(`announce ${body.waybill}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

// ---------------------------------------------------------------- lockerd as a child process


export interface ChildLockerd {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the child wrote on stdout and stderr (for failure messages). */
  output(): string;
  /** Power cut: SIGKILL, resolves when the process is gone. */
  kill(): Promise<void>;
  /** Orderly stop: SIGTERM, resolves when the process is gone. */
  stop(): Promise<void>;
}

/**
 * Writes `config` to <dataDir>/lockerd.json and runs `lockerd start --config <file> --sim
 * --port <port>` in a child process (tsx, no build needed); resolves once /api/health answers.
 */
export async function spawnLockerd(config: LockerConfig, port: number, timeoutMs = 20_000): Promise<ChildLockerd> {
  const file = join(config.dataDir, 'lockerd.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'start', '--config', file, '--sim', '--port', String(port)], {
    cwd: packageRoot(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const url = `http://127.0.0.1:${port}`;
  const gone = (signal: NodeJS.Signals) => async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  try {
    await waitFor(
      'the child lockerd to answer',
      async () => {
        if (child.exitCode !== null) throw new Error(`lockerd exited with ${child.exitCode}: ${out}`);
        const r = await fetch(`${url}/api/health`).catch(() => undefined);
        return r?.status === 200;
      },
      timeoutMs,
      100,
    );
  } catch (e) {
    await gone('SIGKILL')();
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  return { url, process: child, output: () => out, kill: gone('SIGKILL'), stop: gone('SIGTERM') };
}

/** The simulated world file lockerd keeps in its data folder (the physical locker). */
export interface WorldFileLock {
  position: SimPosition;
  latched: boolean;
  doorOpen: boolean;
  itemPresent: boolean;
  jammed: boolean;
}

export async function readWorldFile(dataDir: string): Promise<{ locks: WorldFileLock[]; silentBoards: string[]; scannerPlugged: boolean }> {
  return JSON.parse(await readFile(join(dataDir, 'sim-world.json'), 'utf8')) as { locks: WorldFileLock[]; silentBoards: string[]; scannerPlugged: boolean };
}

/** Changes one lock in the world file while lockerd is down (what a person did meanwhile). */
export async function editWorldLock(dataDir: string, position: SimPosition, change: Partial<Omit<WorldFileLock, 'position'>>): Promise<void> {
  const world = await readWorldFile(dataDir);
  const lock = world.locks.find((l) => l.position.bus === position.bus && l.position.board === position.board && l.position.lock === position.lock);
  if (!lock) throw new Error(`no lock at ${JSON.stringify(position)} in the world file`);
  Object.assign(lock, change);
  await writeFile(join(dataDir, 'sim-world.json'), JSON.stringify(world));
}

/** Opens lockerd's database from outside the process (read-only; WAL lets it run alongside). */
export function openDbReadOnly(dataDir: string): { read: DbReader; close: () => void } {
  const db = new Database(join(dataDir, 'lockerd.db'), { readonly: true, fileMustExist: true });
  return { read: new DbReader(db), close: () => db.close() };
}

/**
 * A whole deposit against any lockerd URL, acting on the world through the /sim routes only
 * (for a lockerd in another process): door opens, parcel in, door closed, stored.
 */
export async function depositOverHttp(url: string, token: string, waybill: string, size: string): Promise<StoredDeposit> {
  const r = await apiCall<{ deposit: DepositJson }>(url, 'POST', '/api/courier/deposits', { waybill, size }, token);
  if (r.status !== 200) throw new Error(`deposit ${waybill}: ${r.status} ${JSON.stringify(r.body)}`);
  const compartment = r.body.deposit.compartment.id;
  for (const action of ['put', 'close']) {
    const a = await apiCall(url, 'POST', `/sim/compartments/${compartment}/${action}`);
    if (a.status !== 200) throw new Error(`sim ${action} ${compartment}: ${a.status} ${JSON.stringify(a.body)}`);
  }
  const stored = await waitFor(`deposit ${waybill} stored`, async () => {
    const d = await apiCall<{ deposit: DepositJson }>(url, 'GET', `/api/courier/deposits/${r.body.deposit.id}`, undefined, token);
    return d.body.deposit.state === 'stored' ? d.body.deposit : undefined;
  });
  if (!stored.pickupCode) throw new Error(`deposit ${waybill} was stored without a revealed code`);
  return { deposit: stored, compartment, code: stored.pickupCode };
}

/** Logs a courier in on any lockerd URL with a badge minted from the demo keys. */
export async function courierLoginAt(url: string, demo: DemoLocker, carrier = 'swiftpost', courierId = 'courier-1'): Promise<string> {
  const badge = await demo.mintCourierBadge(carrier, courierId);
  const r = await apiCall<{ token: string }>(url, 'POST', '/api/courier/login', { badge });
  if (r.status !== 200) throw new Error(`courier login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export async function operatorLoginAt(url: string, demo: DemoLocker): Promise<string> {
  const badge = await demo.mintOperatorBadge();
  const r = await apiCall<{ token: string }>(url, 'POST', '/api/operator/login', { badge });
  if (r.status !== 200) throw new Error(`operator login failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

/** A scratch data folder for a lockerd run in a child process. */
export async function tempDataDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lockerd-it-'));
}

/** Child lockerd processes and their data folders for one test file; cleanup() after each test. */
export function childLockerds(): { start(config: LockerConfig): Promise<ChildLockerd>; dataDir(): Promise<string>; cleanup(): Promise<void> } {
  const children: ChildLockerd[] = [];
  const dirs: string[] = [];
  return {
    async start(config) {
      const child = await spawnLockerd(config, await freePort());
      children.push(child);
      return child;
    },
    async dataDir() {
      const d = await tempDataDir();
      dirs.push(d);
      return d;
    },
    async cleanup() {
      for (const c of children.splice(0)) await c.kill();
      for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}
