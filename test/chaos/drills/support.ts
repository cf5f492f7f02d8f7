// Shared pieces of the drills (test/chaos/drills.ts): the result each drill reports, a scratch
// locker on the simulator or on a real pty with the board simulator behind it, and the kiosk
// calls the drills make. Everything runs lockerd as a child process and looks from outside.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SystemClock } from '../../../kernel/clock.js';
import { type LockerConfig, type SerialBusConfig } from '../../../src/config/schema.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';
import { SimBus, simPositions } from '../../../sim/boards/simBus.js';
import { PtyBoardBridge } from '../../../sim/serial/ptyBoardBridge.js';
import { SimWorld, type SimPosition } from '../../../sim/world.js';
import { makeDemoLocker, type ConfigOverrides, type DemoLocker } from '../../support/demoLocker.js';
import { freePort } from '../../support/freePort.js';
import { sleep } from '../../support/polling.js';
import { startSocatPtyPair, type SocatPtyPair } from '../../support/socatPtyPair.js';
import { spawnLockerdProcess, waitForAnswer, type LockerdProcess, type SpawnOptions } from '../lockerdProcess.js';

export interface DrillResult {
  name: string;
  /** The honest outcome issue 9's rules ask for. */
  expected: string;
  /** What happened. */
  observed: string;
  passed: boolean;
  /** The issue 9 finding whose rule the drill checks (a failure names where the fix belongs). */
  finding: string;
  ms?: number;
}

export type Drill = () => Promise<DrillResult>;

export interface Scratch {
  dir: string;
  dataDir: string;
  /** Kills every lockerd the drill started. */
  killAll(): Promise<void>;
  cleanup(): Promise<void>;
  track(p: LockerdProcess): LockerdProcess;
}

export async function scratch(prefix: string): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), `lockerd-drill-${prefix}-`));
  const procs: LockerdProcess[] = [];
  const killAll = async (): Promise<void> => {
    for (const p of procs) await p.kill();
  };
  return {
    dir,
    dataDir: join(dir, 'data'),
    track: (p) => {
      procs.push(p);
      return p;
    },
    killAll,
    cleanup: async () => {
      await killAll();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const fastBus = { pollIntervalMs: 100, fastPollIntervalMs: 40, fastPollForMs: 2000, replyTimeoutMs: 300, silentAfterMisses: 3 };

/** A demo locker on the simulator (the sim transport, the world in lockerd's process). */
export async function simLocker(dataDir: string, overrides: ConfigOverrides = {}): Promise<DemoLocker> {
  const base = (await import('../../support/demoLocker.js')).demoConfigInput().hardware as { buses: { boards: Record<string, unknown>[] }[] };
  const hardware = { ...base, buses: base.buses.map((b) => ({ ...b, ...fastBus, boards: b.boards.map((board) => ({ ...board, energiseMs: 150 })) })) };
  return makeDemoLocker(dataDir, { hardware, logLevel: 'warn', ...overrides });
}

export async function startLockerd(s: Scratch, config: LockerConfig, o: SpawnOptions = {}, timeoutMs = 30_000): Promise<LockerdProcess> {
  const p = s.track(await spawnLockerdProcess(config, await freePort(), o));
  await waitForAnswer(p, timeoutMs);
  return p;
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  body: T;
}

export async function api<T = Record<string, unknown>>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  let parsed: unknown = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed as T };
}

export function codeOf(r: Reply): string | undefined {
  const e = (r.body as { error?: { code?: string } }).error;
  return e?.code;
}

export async function courier(url: string, demo: DemoLocker, carrier = 'swiftpost'): Promise<string> {
  const r = await api<{ token: string }>(url, 'POST', '/api/courier/login', { badge: await demo.mintCourierBadge(carrier, 'drill-courier') });
  if (r.status !== 200) throw new Error(`courier login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export async function operator(url: string, demo: DemoLocker): Promise<string> {
  const r = await api<{ token: string }>(url, 'POST', '/api/operator/login', { badge: await demo.mintOperatorBadge() });
  if (r.status !== 200) throw new Error(`operator login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

export interface DepositView {
  id: string;
  state: string;
  compartment: { id: string };
  pickupCode?: string;
}

/** Polls until `probe` returns a value; undefined when the time is up (a drill reports, never throws for it). */
export async function within<T>(ms: number, probe: () => Promise<T | undefined> | T | undefined, every = 50): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > until) return undefined;
    await sleep(every);
  }
}

/** The store read from outside, read-only. */
export function readStore<T>(dataDir: string, fn: (store: LockerStore, outbox: Outbox, db: Database.Database) => T): T {
  const db = new Database(join(dataDir, 'lockerd.db'), { readonly: true, fileMustExist: true });
  try {
    return fn(new LockerStore(db), new Outbox(db), db);
  } finally {
    db.close();
  }
}

/** The board simulator on the far end of a real pty pair (socat), in this process. */
export interface PtyBoards {
  world: SimWorld;
  busConfig: SerialBusConfig;
  /** Pulls the cable: socat ends, both ttys vanish. */
  pull(): Promise<void>;
  /** Plugs it back: the same links again, the boards behind them. */
  plug(): Promise<void>;
  stop(): Promise<void>;
}

export async function ptyBoards(dir: string, simBus: SerialBusConfig, plugged = true): Promise<PtyBoards> {
  const clock = new SystemClock();
  const a = join(dir, 'ttyLOCK');
  const busConfig: SerialBusConfig = { ...simBus, transport: { kind: 'serial', path: a, baudRate: 19200 } };
  const world = new SimWorld(clock, simPositions(busConfig));
  const device = new SimBus({ config: busConfig, world, clock });
  let pair: SocatPtyPair | undefined;
  let bridge: PtyBoardBridge | undefined;
  const plug = async (): Promise<void> => {
    pair = await startSocatPtyPair({ dir, aName: 'ttyLOCK', bName: 'ttyBOARDS' });
    bridge = new PtyBoardBridge({ path: pair.b, device, baudRate: 19200 });
    await bridge.start();
  };
  const pull = async (): Promise<void> => {
    await pair?.stop();
    await bridge?.stop().catch(() => undefined);
    pair = undefined;
    bridge = undefined;
  };
  if (plugged) await plug();
  return { world, busConfig, pull, plug, stop: pull };
}

export function positionIn(config: LockerConfig, compartmentId: string): SimPosition {
  const c = config.layout.compartments.find((x) => x.id === compartmentId);
  if (!c) throw new Error(`no compartment ${compartmentId}`);
  return { bus: c.bus, board: c.board, lock: c.lock };
}
