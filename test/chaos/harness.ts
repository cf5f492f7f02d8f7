// The crash-consistency harness behind `npm run chaos` (test/chaos/run.ts) and its short
// seeded CI run. Everything is observed from outside lockerd: each cycle starts lockerd on the
// simulator as a child process, checks the invariants on what the last power cut left, drives
// random deposits, pickups, drop-offs, collections and wrong codes through the kiosk HTTP API
// (doors and parcels through the simulator's world), and pulls the plug (SIGKILL) at a random
// moment: uniformly in time, right after a reply, or during boot. In some cycles the person at
// the open door finishes what they were doing while lockerd is down (edits the world file).
// One consumer on a real Mosquitto stays subscribed across every cycle.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { randomInt, seededRandom, type RandomSource } from '../../kernel/random.js';
import { foreignKeyProblems, integrityCheck } from '../../src/store/database.js';
import { LockerStore } from '../../src/store/lockerStore.js';
import { Outbox } from '../../src/store/outbox.js';
import { demoConfigInput, makeDemoLocker, type DemoLocker } from '../support/demoLocker.js';
import { freePort } from '../support/freePort.js';
import { sleep } from '../support/polling.js';
import { fastMqtt } from '../support/runtimeOverMqtt.js';
import { ChaosConsumer } from './consumer.js';
import {
  INVARIANTS,
  checkConfirmedFacts,
  checkConsumer,
  checkIntegrity,
  checkPhysicalWorld,
  checkSeqContiguity,
  checkSeqStable,
  checkTransitions,
  type ConfirmedParcel,
  type Invariant,
  type Snapshot,
  type Violation,
} from './invariants.js';
import { defaultRunner, spawnLockerdProcess, waitForAnswer, type LockerdProcess, type Runner } from './lockerdProcess.js';

export const LOCKER = 'demo-locker-1';
const BOOT_LIMIT_MS = 90_000;

export type KillMode = 'uniform' | 'after_reply' | 'mid_unlock' | 'boot';
export type ActionKind = 'deposit' | 'pickup' | 'dropoff' | 'collect' | 'wrong_code';

export interface ChaosOptions {
  seed: number;
  cycles: number;
  runner?: Runner;
  /** Progress lines (one per 50 cycles and every violation). */
  log?: (line: string) => void;
  /** Called every 25 cycles with the figures so far (the final consumer check not yet run). */
  progress?: (partial: ChaosResult) => void;
  /** Asked after every cycle: true ends the run early (the final boot and consumer check still run). */
  stopRequested?: () => boolean;
  /** Keep the data folder for a post-mortem. */
  keepDataDir?: boolean;
}

export interface ChaosResult {
  seed: number;
  /** Cycles run (fewer than planned when the run was stopped early). */
  cycles: number;
  cyclesPlanned: number;
  runner: Runner;
  durationMs: number;
  msPerCycle: number;
  kills: Record<KillMode, number>;
  actions: Record<ActionKind, { started: number; confirmed: number }>;
  personFinishedDuringOutage: number;
  inspectionsSettled: number;
  inspectionsLeft: number;
  checks: Record<Invariant, number>;
  /** Failed checks: a wrong record that stays wrong fails again at every later boot. */
  violations: Record<Invariant, number>;
  /** Different wrong records (by invariant and detail). */
  distinctViolations: Record<Invariant, number>;
  examples: Violation[];
  consumer: { rowsInDatabase: number; received: number; duplicates: number };
  bootMs: { median: number; max: number };
}

/** Thrown by the drive's HTTP calls once the plug is pulled: the drive stops there. */
class PowerCut extends Error {}

interface Intent {
  kind: ActionKind;
  compartment?: string;
  /** put: the person is placing an item; take: removing one. */
  hands: 'put' | 'take' | 'none';
}

function pick<T>(r: RandomSource, xs: readonly T[]): T {
  const x = xs[randomInt(r, xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

function chance(r: RandomSource, p: number): boolean {
  return randomInt(r, 1_000_000) < p * 1_000_000;
}

function digits(r: RandomSource, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(r, 10));
  return s;
}

/** The chaos locker: the shipped simulator layout, board 1 with item sensors, board 0 without. */
async function chaosLocker(dataDir: string, brokerUrl: string): Promise<DemoLocker> {
  const base = demoConfigInput().hardware as { buses: { boards: { address: number }[] }[]; scanner: Record<string, unknown> };
  const hardware = {
    ...base,
    buses: base.buses.map((b) => ({
      ...b,
      pollIntervalMs: 100,
      fastPollIntervalMs: 40,
      fastPollForMs: 2000,
      replyTimeoutMs: 300,
      silentAfterMisses: 3,
      boards: b.boards.map((board) => ({ ...board, energiseMs: 150, itemSensors: board.address === 1 })),
    })),
    scanner: { ...base.scanner, reconnectMinMs: 50, reconnectMaxMs: 300 },
  };
  return makeDemoLocker(dataDir, {
    hardware,
    logLevel: 'warn',
    doors: { openTimeoutMs: 1500, leftOpenAlarmMs: 60_000, jamRetries: 1 },
    codes: { length: 10, burst: 1000, refillPerHour: 3600 },
    mqtt: fastMqtt(brokerUrl, LOCKER, 'replaced-by-the-demo-broker'),
  });
}

interface WorldLock {
  position: { bus: string; board: number; lock: number };
  latched: boolean;
  doorOpen: boolean;
  itemPresent: boolean;
  jammed: boolean;
}

async function readWorld(dataDir: string): Promise<{ locks: WorldLock[] } & Record<string, unknown>> {
  return JSON.parse(await readFile(join(dataDir, 'sim-world.json'), 'utf8')) as { locks: WorldLock[] } & Record<string, unknown>;
}

/** Reads everything the checks need, read-only, beside the running lockerd (WAL). */
async function snapshot(dataDir: string): Promise<Snapshot> {
  const db = new Database(join(dataDir, 'lockerd.db'), { readonly: true, fileMustExist: true });
  try {
    const store = new LockerStore(db);
    const outbox = new Outbox(db);
    const world = await readWorld(dataDir);
    return {
      integrity: integrityCheck(db),
      foreignKeyProblems: foreignKeyProblems(db).length,
      parcels: store.allParcels().map((p) => ({ id: p.id, carrier: p.carrier, waybill: p.waybill, kind: p.kind, state: p.state, compartmentId: p.compartmentId })),
      compartments: store.compartments().map((c) => ({ id: c.id, bus: c.bus, board: c.board, lock: c.lock, inService: c.inService, fault: c.fault })),
      inFlightSessions: store.inFlightSessions().map((s) => ({ id: s.id, compartmentId: s.compartmentId })),
      outbox: outbox.rows().map((r) => ({ stream: r.stream, seq: r.seq, id: r.id, type: r.type, data: JSON.parse(r.data) as Record<string, unknown> })),
      audit: store.auditTrail().map((a) => ({ action: a.action, subject: a.subject })),
      world: world.locks,
    };
  } finally {
    db.close();
  }
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => undefined);
  const r = seededRandom(`chaos:${o.seed}`);
  const runner = o.runner ?? defaultRunner();
  const started = Date.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'lockerd-chaos-'));
  // The demo's embedded broker comes up with lockerd on this port at every boot.
  const brokerUrl = `mqtt://127.0.0.1:${await freePort()}`;
  const demo = await chaosLocker(dataDir, brokerUrl);
  const consumer = new ChaosConsumer(brokerUrl, LOCKER, dataDir, { 'c/swiftpost': 'swiftpost', 'c/parcelgo': 'parcelgo', op: demo.config.operator.id });

  const zero = <T>(v: () => T): Record<Invariant, T> => Object.fromEntries(INVARIANTS.map((k) => [k, v()])) as Record<Invariant, T>;
  const checks = zero(() => 0);
  const violations = zero(() => 0);
  const distinct = zero(() => 0);
  const seenViolations = new Set<string>();
  const examples: Violation[] = [];
  const kills: Record<KillMode, number> = { uniform: 0, after_reply: 0, mid_unlock: 0, boot: 0 };
  const actions: ChaosResult['actions'] = { deposit: { started: 0, confirmed: 0 }, pickup: { started: 0, confirmed: 0 }, dropoff: { started: 0, confirmed: 0 }, collect: { started: 0, confirmed: 0 }, wrong_code: { started: 0, confirmed: 0 } };
  let personFinished = 0;
  let settled = 0;
  let inspectionsLeft = 0;
  const bootTimes: number[] = [];
  const confirmed = new Map<string, ConfirmedParcel & { code?: string }>();
  const seqIds = new Map<string, string>();
  const lastSeq = new Map<string, number>();
  let waybillN = 0;
  let cycle = 0;

  const record = (found: { invariant: Invariant; detail: string }[], ran: Invariant[]): void => {
    for (const k of ran) checks[k]++;
    for (const f of found) {
      violations[f.invariant]++;
      const key = `${f.invariant}|${f.detail}`;
      if (seenViolations.has(key)) continue;
      seenViolations.add(key);
      distinct[f.invariant]++;
      if (examples.length < 50) examples.push({ ...f, cycle });
      log(`cycle ${cycle}: VIOLATION ${f.invariant}: ${f.detail}`);
    }
  };

  const checkAll = async (complete: boolean): Promise<Snapshot> => {
    const s = await snapshot(dataDir);
    record(checkIntegrity(s), ['integrity']);
    record(checkConfirmedFacts(s, confirmed.values()), ['confirmedFacts']);
    record(checkPhysicalWorld(s), ['physicalWorld']);
    record(checkSeqContiguity(s), ['seqContiguity']);
    record(checkSeqStable(s, seqIds, lastSeq), ['seqStable']);
    record(checkTransitions(s), ['transitionEventAudit']);
    record(checkConsumer(s, LOCKER, consumer, complete), ['consumerReceivesEveryRow']);
    return s;
  };

  /**
   * A boot that does not answer within BOOT_LIMIT_MS is a violation (the locker does not
   * serve); it is killed and tried again. The limit is generous: on a shared, loaded machine a
   * cold start has been seen to take 25 s.
   */
  const boot = async (): Promise<LockerdProcess> => {
    for (let attempt = 1; ; attempt++) {
      const t0 = Date.now();
      const p = await spawnLockerdProcess(demo.config, await freePort(), { runner });
      try {
        checks.bootsAndServes++;
        await waitForAnswer(p, BOOT_LIMIT_MS);
        bootTimes.push(Date.now() - t0);
        consumer.start();
        return p;
      } catch (e) {
        // Kept for a post-mortem: the data folder as the hung boot found it.
        const copy = `${dataDir}-boot-failure-${cycle}-${attempt}`;
        await cp(dataDir, copy, { recursive: true }).catch(() => undefined);
        await p.kill();
        record([{ invariant: 'bootsAndServes', detail: `boot ${attempt} (data folder copied to ${copy}): ${(e instanceof Error ? e.message : String(e)).slice(0, 1500)}` }], []);
        if (attempt >= 3) throw e;
      }
    }
  };

  const current = (cyclesDone: number, rowsInDatabase: number): ChaosResult => {
    const durationMs = Date.now() - started;
    const sortedBoot = [...bootTimes].sort((a, b) => a - b);
    return {
      seed: o.seed,
      cycles: cyclesDone,
      cyclesPlanned: o.cycles,
      runner,
      durationMs,
      msPerCycle: Math.round(durationMs / Math.max(1, cyclesDone)),
      kills: { ...kills },
      actions: structuredClone(actions),
      personFinishedDuringOutage: personFinished,
      inspectionsSettled: settled,
      inspectionsLeft,
      checks: { ...checks },
      violations: { ...violations },
      distinctViolations: { ...distinct },
      examples: [...examples],
      consumer: { rowsInDatabase, received: consumer.rows.size, duplicates: consumer.stats.duplicates },
      bootMs: { median: sortedBoot[Math.floor(sortedBoot.length / 2)] ?? 0, max: sortedBoot.at(-1) ?? 0 },
    };
  };

  try {
    for (cycle = 1; cycle <= o.cycles; cycle++) {
      const cycleStart = Date.now();
      const mode: KillMode = chance(r, 0.15) ? 'boot' : chance(r, 0.2) ? 'mid_unlock' : chance(r, 0.5) ? 'after_reply' : 'uniform';
      if (mode === 'boot') {
        // Pull the plug somewhere in the boot (uniform over the typical boot time).
        const typical = bootTimes.length ? [...bootTimes].sort((a, b) => a - b)[Math.floor(bootTimes.length / 2)] ?? 800 : 800;
        const p = await spawnLockerdProcess(demo.config, await freePort(), { runner });
        await sleep(randomInt(r, typical + 1));
        await p.kill();
        kills.boot++;
      }
      const p = await boot();
      // The record the last power cut left, checked once the boot has reconciled.
      const s = await checkAll(false);
      const replies = { n: 0, killAt: mode === 'after_reply' ? 1 + randomInt(r, 8) : Infinity };
      let cut = false;
      const cutNow = (): void => {
        if (cut) return;
        cut = true;
        p.child.kill('SIGKILL');
      };
      // mid_unlock: the plug goes 0-300 ms after the first request that opens a door was sent
      // (latches take 150 ms): the window between the latch releasing and the poll seeing it.
      let unlockTimer: NodeJS.Timeout | undefined;
      const opensDoor = (method: string, path: string): boolean => method === 'POST' && (path === '/api/pickup' || path === '/api/dropoff' || path === '/api/courier/deposits' || /^\/api\/courier\/collections\/[^/]+\/open$/.test(path));
      const api = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> => {
        if (cut) throw new PowerCut();
        if (mode === 'mid_unlock' && !unlockTimer && opensDoor(method, path)) unlockTimer = setTimeout(cutNow, randomInt(r, 301));
        const headers: Record<string, string> = {};
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (token) headers.authorization = `Bearer ${token}`;
        let res: Response;
        try {
          res = await fetch(`${p.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
        } catch {
          throw new PowerCut();
        }
        const text = await res.text().catch(() => '');
        if (cut) throw new PowerCut();
        let parsed: unknown = {};
        try {
          parsed = text ? JSON.parse(text) : {};
        } catch {
          parsed = text;
        }
        replies.n++;
        if (replies.n >= replies.killAt) cutNow();
        return { status: res.status, body: parsed as T };
      };
      const uniformTimer = mode === 'uniform' ? setTimeout(cutNow, randomInt(r, 2_500)) : undefined;

      let intent: Intent | undefined;
      try {
        await settleInspections(api, demo, s, async (id, action) => {
          await api('POST', `/sim/compartments/${id}/${action}`);
        }).then((n) => {
          settled += n.settled;
          inspectionsLeft = n.left;
        });
        const steps = 1 + randomInt(r, 4);
        for (let i = 0; i < steps && !cut; i++) {
          const live = [...confirmed.values()].filter((c) => !c.retrievalStarted);
          const deliveries = live.filter((c) => c.kind === 'delivery' && c.code);
          const kind: ActionKind = pick(r, ['deposit', 'deposit', 'pickup', 'pickup', 'dropoff', 'collect', 'wrong_code'] as const);
          if (kind === 'pickup' && !deliveries.length) continue;
          intent = { kind, hands: 'none' };
          actions[kind].started++;
          if (kind === 'deposit') {
            const badge = await demo.mintCourierBadge('swiftpost', 'chaos-courier', ['deposit', 'collect']);
            const login = await api<{ token: string }>('POST', '/api/courier/login', { badge });
            if (login.status !== 200) continue;
            const waybill = `CH-${o.seed}-${++waybillN}`;
            const d = await api<{ deposit: { id: string; compartment: { id: string } } }>('POST', '/api/courier/deposits', { waybill, size: pick(r, ['S', 'M', 'L'] as const) }, login.body.token);
            if (d.status !== 200) continue;
            const compartment = d.body.deposit.compartment.id;
            intent = { kind, compartment, hands: 'put' };
            await api('POST', `/sim/compartments/${compartment}/put`);
            await api('POST', `/sim/compartments/${compartment}/close`);
            intent = { kind, compartment, hands: 'none' };
            const view = await pollView(api, `/api/courier/deposits/${d.body.deposit.id}`, login.body.token);
            if (view?.state === 'stored') {
              actions.deposit.confirmed++;
              confirmed.set(`swiftpost|${waybill}`, { waybill, carrier: 'swiftpost', kind: 'delivery', confirmed: 'stored', compartment, retrievalStarted: false, ...(view.pickupCode ? { code: view.pickupCode } : {}) });
            }
          } else if (kind === 'pickup') {
            if (!deliveries.length) continue;
            const c = pick(r, deliveries);
            c.retrievalStarted = true;
            // The consumer stands at the compartment from the moment the code is typed.
            intent = { kind, compartment: c.compartment, hands: 'take' };
            const res = await api<{ compartment: { id: string } }>('POST', '/api/pickup', { code: c.code });
            if (res.status !== 200) continue;
            actions.pickup.confirmed++;
            intent = { kind, compartment: res.body.compartment.id, hands: 'take' };
            await waitDoorOpen(api, res.body.compartment.id);
            await api('POST', `/sim/compartments/${res.body.compartment.id}/take`);
            await api('POST', `/sim/compartments/${res.body.compartment.id}/close`);
            intent = undefined;
          } else if (kind === 'dropoff') {
            const waybill = `CD-${o.seed}-${++waybillN}`;
            const a = await api<{ code?: string }>('POST', '/sim/carriers/parcelgo/reservations', { waybill, size: 'S', kind: 'dropoff' });
            if (a.status !== 200 || !a.body.code) continue;
            const d = await api<{ dropoffId: string; secret: string; compartment: { id: string } }>('POST', '/api/dropoff', { code: a.body.code });
            if (d.status !== 200) continue;
            const compartment = d.body.compartment.id;
            intent = { kind, compartment, hands: 'put' };
            await api('POST', `/sim/compartments/${compartment}/put`);
            await api('POST', `/sim/compartments/${compartment}/close`);
            intent = { kind, compartment, hands: 'none' };
            const view = await pollView(api, `/api/dropoff/${d.body.dropoffId}`, d.body.secret);
            if (view?.state === 'stored') {
              actions.dropoff.confirmed++;
              confirmed.set(`parcelgo|${waybill}`, { waybill, carrier: 'parcelgo', kind: 'dropoff', confirmed: 'dropped_off', compartment, retrievalStarted: false });
            }
          } else if (kind === 'collect') {
            const badge = await demo.mintCourierBadge('parcelgo', 'chaos-collector', ['collect']);
            const login = await api<{ token: string }>('POST', '/api/courier/login', { badge });
            if (login.status !== 200) continue;
            const list = await api<{ items: { parcelId: string; waybill: string; compartment: { id: string } }[] }>('GET', '/api/courier/collections', undefined, login.body.token);
            const item = list.status === 200 ? list.body.items[0] : undefined;
            if (!item) continue;
            const c = confirmed.get(`parcelgo|${item.waybill}`);
            if (c) c.retrievalStarted = true;
            intent = { kind, compartment: item.compartment.id, hands: 'take' };
            const res = await api('POST', `/api/courier/collections/${item.parcelId}/open`, undefined, login.body.token);
            if (res.status !== 200) continue;
            actions.collect.confirmed++;
            await waitDoorOpen(api, item.compartment.id);
            await api('POST', `/sim/compartments/${item.compartment.id}/take`);
            await api('POST', `/sim/compartments/${item.compartment.id}/close`);
            intent = undefined;
          } else {
            const res = await api('POST', '/api/pickup', { code: digits(r, 10) });
            checks.wrongCodeRefused++;
            if (res.status === 200) record([{ invariant: 'wrongCodeRefused', detail: 'a random code opened a door' }], []);
            else actions.wrong_code.confirmed++;
          }
          intent = undefined;
        }
        // Nothing left to do: the plug is pulled now (a kill after the last reply).
        cutNow();
      } catch (e) {
        if (!(e instanceof PowerCut)) {
          cutNow();
          throw e;
        }
      } finally {
        clearTimeout(uniformTimer);
        clearTimeout(unlockTimer);
      }
      await p.kill();
      if (mode !== 'boot') kills[mode]++;

      // The person at an open door may finish while the power is off.
      if (intent?.compartment && chance(r, 0.5) && (await finishDuringOutage(dataDir, s, intent))) personFinished++;
      if (process.env.CHAOS_TRACE) log(`cycle ${cycle} ${mode} intent=${intent?.kind ?? '-'} ${Date.now() - cycleStart} ms (boot ${bootTimes.at(-1) ?? 0}) consumer ${JSON.stringify(consumer.stats)} rows ${consumer.rows.size}`);
      if (cycle % 50 === 0) log(`cycle ${cycle}/${o.cycles}: ${Object.values(violations).reduce((a, b) => a + b, 0)} violations so far`);
      if (cycle % 25 === 0) o.progress?.(current(cycle, s.outbox.length));
      if (o.stopRequested?.()) {
        log(`stopped after cycle ${cycle} as asked`);
        break;
      }
    }

    // A last boot: every row must reach the consumer.
    const cyclesDone = Math.min(cycle, o.cycles);
    cycle = cyclesDone + 1;
    const last = await boot();
    const deadline = Date.now() + 30_000;
    let s = await snapshot(dataDir);
    while (Date.now() < deadline && checkConsumer(s, LOCKER, consumer, true).length > 0) {
      consumer.askAll(true);
      await sleep(300);
      s = await snapshot(dataDir);
    }
    await checkAll(true);
    await last.kill();
    return current(cyclesDone, s.outbox.length);
  } finally {
    await consumer.close();
    if (!o.keepDataDir) await rm(dataDir, { recursive: true, force: true });
    else log(`data folder kept: ${dataDir}`);
  }
}

type Api = <T>(method: string, path: string, body?: unknown, token?: string) => Promise<{ status: number; body: T }>;

async function pollView(api: Api, path: string, token: string): Promise<{ state: string; pickupCode?: string } | undefined> {
  for (let i = 0; i < 100; i++) {
    const v = await api<{ deposit: { state: string; pickupCode?: string } }>('GET', path, undefined, token);
    const state = v.body.deposit?.state;
    if (state && state !== 'opening' && state !== 'open' && state !== 'closing') return v.body.deposit;
    await sleep(20);
  }
  return undefined;
}

async function waitDoorOpen(api: Api, compartment: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const st = await api<{ locks: { compartment: string | null; doorOpen: boolean }[] }>('GET', '/sim/state');
    if (st.body.locks.find((l) => l.compartment === compartment)?.doorOpen) return;
    await sleep(20);
  }
}

/**
 * The operator's round at the start of a cycle: doors left open are shut (the person walked
 * away), and compartments sent to inspection are settled where the record allows it on this
 * version: a stray item with no parcel recorded is taken out, and the compartment goes back
 * into service when the record and the compartment agree.
 */
async function settleInspections(api: Api, demo: DemoLocker, s: Snapshot, sim: (id: string, action: string) => Promise<void>): Promise<{ settled: number; left: number }> {
  const positionOf = new Map(s.compartments.map((c) => [`${c.bus}/${c.board}/${c.lock}`, c.id]));
  for (const l of s.world) {
    const id = positionOf.get(`${l.position.bus}/${l.position.board}/${l.position.lock}`);
    if (!id || !l.doorOpen) continue;
    // The person who opened it takes what the record says is no longer theirs to leave.
    const recorded = s.parcels.some((p) => p.compartmentId === id && ['stored', 'expired', 'dropped_off'].includes(p.state));
    const c = s.compartments.find((x) => x.id === id);
    if (!recorded && l.itemPresent && c?.inService && c.fault === null) await sim(id, 'take');
    await sim(id, 'close');
  }
  const waiting = s.compartments.filter((c) => !c.inService || c.fault !== null);
  if (!waiting.length) return { settled: 0, left: 0 };
  const badge = await demo.mintOperatorBadge();
  const login = await api<{ token: string }>('POST', '/api/operator/login', { badge });
  if (login.status !== 200) return { settled: 0, left: waiting.length };
  const token = login.body.token;
  let settled = 0;
  for (const c of waiting) {
    const lock = s.world.find((l) => l.position.bus === c.bus && l.position.board === c.board && l.position.lock === c.lock);
    const live = s.parcels.filter((p) => p.compartmentId === c.id && ['stored', 'expired', 'dropped_off'].includes(p.state));
    if (!lock || (live.length > 0 && !lock.itemPresent) || live.length > 1) continue;
    if (live.length === 0 && lock.itemPresent) {
      const open = await api('POST', `/api/operator/compartments/${c.id}/open`, { reason: 'inspection' }, token);
      if (open.status !== 200) continue;
      await waitDoorOpen(api, c.id);
      await sim(c.id, 'take');
      await sim(c.id, 'close');
    }
    const back = await api('POST', `/api/operator/compartments/${c.id}/service`, { inService: true, reason: 'inspected' }, token);
    if (back.status === 200) settled++;
  }
  return { settled, left: waiting.length - settled };
}

/** What the person finishes while lockerd is down: only at a door that is (or can be) open. */
async function finishDuringOutage(dataDir: string, s: Snapshot, intent: Intent): Promise<boolean> {
  const c = s.compartments.find((x) => x.id === intent.compartment);
  if (!c) return false;
  const world = await readWorld(dataDir);
  const lock = world.locks.find((l) => l.position.bus === c.bus && l.position.board === c.board && l.position.lock === c.lock);
  if (!lock || (lock.latched && !lock.doorOpen)) return false;
  if (intent.hands === 'put') lock.itemPresent = true;
  if (intent.hands === 'take') lock.itemPresent = false;
  lock.doorOpen = false;
  lock.latched = true;
  await writeFile(join(dataDir, 'sim-world.json'), JSON.stringify(world));
  return true;
}
