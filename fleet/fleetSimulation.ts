// The fleet simulator's orchestrator: starts the locker process(es) and the carriers' back-end
// process against one broker, enrols the lockers' keys with the back ends, connects the fleet,
// runs the traffic for a bounded time, waits for the back ends to catch up, and computes the
// figures: end-to-end latency (event created at the locker -> verified and delivered in order
// at the carrier), per-stream completeness and order, and what the processes cost.
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { freemem, tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateEncryptionKeyPair } from '../src/crypto/keys.js';
import { type BackendReport } from './carrierBackend.js';
import { type FromBackend, type FromLockers, type ProcessLoad, type ToBackend, type ToLockers } from './fleetMessages.js';
import { type FleetProduction } from './lockerFleet.js';
import { ensureOpenFiles, filesNeeded } from './openFiles.js';
import { type FleetCarrier } from './simulatedLocker.js';

export interface FleetSimulationOptions {
  url: string;
  /** Broker password of every principal (lockers and carriers), if the broker wants one. */
  password?: string;
  lockers: number;
  /** Events per second across the whole fleet. */
  ratePerS: number;
  durationMs: number;
  carriers?: number;
  /** Connections in each carrier's shared subscription group. */
  members?: number;
  /** Processes the lockers are spread over. */
  lockerProcesses?: number;
  /** MQTT version of the lockers (the back ends always use 5 for $share). */
  protocolVersion?: 4 | 5;
  seed?: string;
  /** Events created in the first warmupMs are delivered and checked but left out of the latency figures. */
  warmupMs?: number;
  connectTimeoutMs?: number;
  /**
   * Folder that receives one data folder per locker (<dataDir>/<lockerId>/lockerd.db and its
   * -wal, -shm). Default: a new folder under the system's temp dir, removed after the run.
   */
  dataDir?: string;
  /** SQLite synchronous mode of the lockers' databases: 'normal' (default, no fsync per commit) or 'full' (lockerd's). */
  synchronous?: 'full' | 'normal';
  /** SQLite page cache per locker, KiB (default 256). */
  cacheKiB?: number;
  /** Acknowledged rows each outbox keeps per stream (default 1,000; lockerd's default is 10,000). */
  retainAcked?: number;
  log?: (line: string) => void;
  /** Called as the traffic starts and once it has stopped (e.g. to sample the broker's CPU). */
  onTraffic?: (phase: 'start' | 'end') => void;
}

export interface LatencySummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** What the lockers of one process hold in memory and descriptors. */
export interface LockerProcessFootprint {
  lockers: number;
  createMs: number;
  /** RSS before the first locker, after creating all, once connected, and at the peak of the traffic, bytes. */
  rssBefore: number;
  rssCreated: number;
  rssConnected: number;
  rssPeak: number;
  openFiles: number;
  openFilesLimit: number;
}

export interface FleetReport {
  options: Required<Omit<FleetSimulationOptions, 'password' | 'log' | 'onTraffic' | 'dataDir'>> & { dataDir: string };
  connected: number;
  connectMs: number;
  streams: number;
  emitted: number;
  emitFailures: number;
  /** Events per second actually created during the traffic phase. */
  achievedRatePerS: number;
  /** Created -> delivered in order at the back end (the application sees it), ms. */
  endToEnd: LatencySummary;
  /** Created -> signature verified on arrival, ms. */
  toVerified: LatencySummary;
  /** How late the generator created events against its schedule, ms. */
  scheduleLag: LatencySummary;
  /** Arrivals the locker processes shed because a second's worth of events was still in production. */
  shed: number;
  /** Every stream delivered 1..last exactly once and in order, and last matches the locker's outbox. */
  complete: boolean;
  completeStreams: number;
  missingEvents: number;
  /** Streams whose counted last seq disagrees with the outbox's own. */
  outboxMismatches: number;
  duplicates: number;
  arrivedAhead: number;
  replaysAsked: number;
  badSignatures: number;
  acksSent: number;
  /** Events received per back-end connection, per carrier. */
  perMember: Record<string, number[]>;
  /** Rows without a PUBACK once traffic stopped and the fleet settled. */
  unsentAfterSettle: number;
  catchUpMs: number;
  lockerLoad: ProcessLoad[];
  backendLoad: ProcessLoad;
  /** Per locker process: lockers, memory and descriptors. */
  footprint: LockerProcessFootprint[];
  /** Memory per simulated locker once connected ((RSS connected - RSS before) / lockers, the mean over processes), and at the traffic's peak, bytes. */
  bytesPerLockerConnected: number;
  bytesPerLockerPeak: number;
  /** Bytes of the lockers' database files (db, -wal, -shm) after the run. */
  databaseBytes: number;
  databaseFiles: number;
}

/**
 * What one simulated locker may cost in memory: its SQLite connection (schema, ~90 prepared
 * statements of LockerStore and Outbox, a page cache capped by cacheKiB), its sync stack and MQTT
 * client (outgoing store bounded by the in-flight window). Measured 650-950 KiB (BENCHMARKS.md,
 * "Memory per locker"); a fleet that would not fit the machine's available memory at this bound
 * is refused before any locker is created.
 */
export const MEMORY_PER_LOCKER_BOUND = 1.25 * 2 ** 20;

/** Throws when `lockers` simulated lockers could not fit in `available` bytes at the bound above. */
export function checkFleetMemory(lockers: number, available: number = freemem()): void {
  const need = lockers * MEMORY_PER_LOCKER_BOUND;
  if (need > available * 0.9) {
    throw new Error(
      `${lockers} lockers may need up to ${(need / 2 ** 30).toFixed(1)} GiB (${MEMORY_PER_LOCKER_BOUND / 1024} KiB each) but ${(available / 2 ** 30).toFixed(1)} GiB is available: run fewer lockers, or spread them over machines`,
    );
  }
}

export function fleetLockerIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `locker-${String(i + 1).padStart(4, '0')}`);
}

const carrierNames = ['swiftpost', 'parcelgo', 'boxline', 'northmail', 'quickdrop', 'urbanex'];
export function fleetCarrierIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => carrierNames[i] ?? `carrier-${i + 1}`);
}

/** Nearest-rank percentiles. */
export function summariseLatency(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: sorted[sorted.length - 1] ?? Number.NaN, mean: sorted.length ? sum / sorted.length : Number.NaN };
}

/** A forked process of the simulator, spoken to with typed messages. */
class Peer<In extends { kind: string }, Out extends { kind: string }> {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<string, (m: Out) => void>();
  private failure: Error | undefined;
  private readonly failed: Promise<never>;

  constructor(script: string, name: string) {
    const here = fileURLToPath(new URL('.', import.meta.url));
    // Same extension as this file: .ts under tsx (or a test runner), .js once compiled. The
    // child gets its own flags, not whatever the parent was started with; FLEET_NODE_FLAGS adds
    // more (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the lockers and back ends).
    const ext = extname(fileURLToPath(import.meta.url));
    const extra = (process.env.FLEET_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
    this.child = fork(join(here, `${script}${ext}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...(ext === '.ts' ? ['--import', 'tsx'] : []), ...extra] });
    this.failed = new Promise<never>((_, reject) => {
      this.child.on('message', (raw) => {
        const m = raw as Out & { message?: string };
        if (m.kind === 'failed') {
          this.failure = new Error(`${name}: ${m.message ?? 'failed'}`);
          reject(this.failure);
          return;
        }
        const w = this.waiting.get(m.kind);
        this.waiting.delete(m.kind);
        w?.(m);
      });
      this.child.on('exit', (code, signal) => {
        this.failure ??= new Error(`${name} exited (${String(code ?? signal)})`);
        reject(this.failure);
      });
    });
    this.failed.catch(() => undefined);
  }

  request<K extends Out['kind']>(message: In, reply: K): Promise<Extract<Out, { kind: K }>> {
    const answer = new Promise<Extract<Out, { kind: K }>>((resolve) => this.waiting.set(reply, (m) => resolve(m as Extract<Out, { kind: K }>)));
    this.child.send(message);
    return Promise.race([answer, this.failed]);
  }

  tell(message: In): void {
    this.child.send(message);
  }

  async close(stop: In): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    try {
      if (this.child.connected) this.child.send(stop);
      else this.child.kill('SIGTERM');
    } catch {
      this.child.kill('SIGTERM');
    }
    await exited;
    clearTimeout(timer);
  }
}

type LockersPeer = Peer<ToLockers, FromLockers>;
type BackendPeer = Peer<ToBackend, FromBackend>;

export async function runFleetSimulation(o: FleetSimulationOptions): Promise<FleetReport> {
  const log = o.log ?? (() => undefined);
  const options = {
    url: o.url,
    lockers: o.lockers,
    ratePerS: o.ratePerS,
    durationMs: o.durationMs,
    carriers: o.carriers ?? 2,
    members: o.members ?? 2,
    lockerProcesses: Math.max(1, Math.min(o.lockerProcesses ?? 1, o.lockers)),
    protocolVersion: o.protocolVersion ?? 4,
    seed: o.seed ?? 'fleet',
    warmupMs: o.warmupMs ?? 0,
    connectTimeoutMs: o.connectTimeoutMs ?? 120_000,
    synchronous: o.synchronous ?? 'normal',
    cacheKiB: o.cacheKiB ?? 256,
    retainAcked: o.retainAcked ?? 1_000,
  };
  const ownDataDir = o.dataDir === undefined;
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'lockerd-fleet-'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockerIds = fleetLockerIds(options.lockers);
  // Streams continue where a locker's database left them, but the back ends and the completeness
  // check start from seq 1: a fleet runs on fresh data folders only.
  const taken = lockerIds.filter((id) => existsSync(join(dataDir, id)));
  if (taken.length) throw new Error(`${dataDir} already holds data folders of ${taken.length} of these lockers (${taken[0] ?? ''}...): give the fleet an empty --data-dir`);
  const carrierIds = fleetCarrierIds(options.carriers);
  const carriers: FleetCarrier[] = [];
  for (const id of carrierIds) carriers.push({ id, encryptionKey: (await generateEncryptionKeyPair()).publicJwk });
  const password = o.password !== undefined ? { password: o.password } : {};

  const shards: string[][] = Array.from({ length: options.lockerProcesses }, () => []);
  lockerIds.forEach((id, i) => shards[i % shards.length]?.push(id));
  checkFleetMemory(options.lockers);
  // Forked processes inherit this process's open-files limit: raise it for the largest shard.
  ensureOpenFiles(filesNeeded(Math.max(...shards.map((s) => s.length))));
  const lockerPeers: LockersPeer[] = shards.map((_, i) => new Peer<ToLockers, FromLockers>('lockerFleetProcess', `locker process ${i + 1}`));
  let backend: BackendPeer | undefined;
  try {
    log(`creating ${options.lockers} lockers (keys, a database file each under ${dataDir}, synchronous ${options.synchronous}) in ${options.lockerProcesses} process(es)`);
    const enrolled = await Promise.all(
      lockerPeers.map((p, i) =>
        p.request(
          { kind: 'init', url: options.url, ...password, protocolVersion: options.protocolVersion, lockerIds: shards[i] ?? [], carriers, seed: options.seed, connectTimeoutMs: options.connectTimeoutMs, connectBatch: 50,
            dataRoot: dataDir, synchronous: options.synchronous, cacheKiB: options.cacheKiB, retainAcked: options.retainAcked },
          'enrolled',
        ),
      ),
    );
    const keys = Object.assign({}, ...enrolled.map((e) => e.keys)) as Record<string, (typeof enrolled)[number]['keys'][string]>;

    backend = new Peer<ToBackend, FromBackend>('carrierBackendProcess', 'carrier back ends');
    await backend.request({ kind: 'init', url: options.url, ...password, carriers: carrierIds, members: options.members, keys }, 'ready');
    log(`back ends of ${carrierIds.join(', ')} subscribed ($share, ${options.members} connections each)`);

    const t0 = performance.now();
    const connectedReplies = await Promise.all(lockerPeers.map((p) => p.request({ kind: 'connect' }, 'connected')));
    const connected = connectedReplies.reduce((s, r) => s + r.connected, 0);
    const connectMs = performance.now() - t0;
    log(`${connected} of ${options.lockers} lockers connected in ${(connectMs / 1000).toFixed(1)} s`);

    log(`traffic: ${options.ratePerS} events/s for ${options.durationMs / 1000} s`);
    backend.tell({ kind: 'mark' });
    o.onTraffic?.('start');
    const perProcessRate = options.ratePerS / lockerPeers.length;
    const produced = await Promise.all(lockerPeers.map((p) => p.request({ kind: 'run', ratePerS: perProcessRate, durationMs: options.durationMs }, 'produced')));
    o.onTraffic?.('end');
    const expected: Record<string, number> = {};
    for (const r of produced) for (const s of r.production.streams) if (s.lastSeq > 0) expected[`${s.locker}/${s.carrier}`] = s.lastSeq;

    // A saturated fleet drains its outboxes after the traffic: give it as long as the traffic ran.
    const settled = await Promise.all(lockerPeers.map((p) => p.request({ kind: 'settle', timeoutMs: Math.max(15_000, options.durationMs) }, 'settled')));
    const result = await backend.request({ kind: 'await', expected, timeoutMs: Math.max(20_000, options.durationMs) }, 'report');
    log(`back ends ${result.complete ? 'caught up' : 'did NOT catch up'} ${(result.waitedMs / 1000).toFixed(1)} s after the last event`);
    const footprint = enrolled.map((e, i): LockerProcessFootprint => ({
      lockers: e.created.lockers,
      createMs: e.created.ms,
      rssBefore: e.created.rssBefore,
      rssCreated: e.created.rssCreated,
      rssConnected: connectedReplies[i]?.rssConnected ?? Number.NaN,
      rssPeak: produced[i]?.load.maxRssBytes ?? Number.NaN,
      openFiles: connectedReplies[i]?.openFiles ?? e.created.openFiles,
      openFilesLimit: e.created.openFilesLimit,
    }));
    const files = databaseFiles(dataDir);
    return summarise(
      { ...options, dataDir },
      produced.map((p) => p.production),
      Object.assign({}, ...produced.map((p) => p.outboxLastSeqs)) as Record<string, number>,
      result.reports,
      {
        connected,
        connectMs,
        unsent: settled.reduce((s, r) => s + r.unsent, 0),
        catchUpMs: result.waitedMs,
        lockerLoad: produced.map((p) => p.load),
        backendLoad: result.load,
        footprint,
        databaseBytes: files.bytes,
        databaseFiles: files.count,
      },
    );
  } finally {
    await Promise.all([...lockerPeers.map((p) => p.close({ kind: 'stop' })), backend?.close({ kind: 'stop' })]);
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Size and number of the lockers' database files (lockerd.db, -wal, -shm) under the fleet's folder. */
function databaseFiles(root: string): { bytes: number; count: number } {
  let bytes = 0;
  let count = 0;
  for (const locker of readdirSync(root, { withFileTypes: true })) {
    if (!locker.isDirectory()) continue;
    for (const f of readdirSync(join(root, locker.name))) {
      if (!/\.db(-wal|-shm)?$/.test(f)) continue;
      bytes += statSync(join(root, locker.name, f)).size;
      count += 1;
    }
  }
  return { bytes, count };
}

function meanPerLocker(footprint: readonly LockerProcessFootprint[], at: (f: LockerProcessFootprint) => number): number {
  const lockers = footprint.reduce((s, f) => s + f.lockers, 0);
  return lockers ? footprint.reduce((s, f) => s + (at(f) - f.rssBefore), 0) / lockers : Number.NaN;
}

function summarise(
  options: FleetReport['options'],
  productions: FleetProduction[],
  outboxLastSeqs: Record<string, number>,
  reports: BackendReport[],
  extra: {
    connected: number;
    connectMs: number;
    unsent: number;
    catchUpMs: number;
    lockerLoad: ProcessLoad[];
    backendLoad: ProcessLoad;
    footprint: LockerProcessFootprint[];
    databaseBytes: number;
    databaseFiles: number;
  },
): FleetReport {
  const delivered = new Map<string, BackendReport['streams'][number]>();
  for (const r of reports) for (const s of r.streams) delivered.set(`${s.locker}/${s.carrier}`, s);
  const firstAt = Math.min(...productions.map((p) => p.firstAt));
  const lastAt = Math.max(...productions.map((p) => p.lastAt));
  const measureFrom = firstAt + options.warmupMs;
  const endToEnd: number[] = [];
  const toVerified: number[] = [];
  let streams = 0;
  let completeStreams = 0;
  let missing = 0;
  let mismatches = 0;
  let emitted = 0;
  let failed = 0;
  const lag: number[] = [];
  for (const p of productions) {
    emitted += p.emitted;
    failed += p.failed;
    for (const v of p.scheduleLagMs) lag.push(v);
    for (const s of p.streams) {
      if (s.lastSeq === 0) continue;
      streams += 1;
      const key = `${s.locker}/${s.carrier}`;
      if (outboxLastSeqs[key] !== s.lastSeq) mismatches += 1;
      const d = delivered.get(key);
      const got = Math.min(d?.delivered ?? 0, s.lastSeq);
      missing += s.lastSeq - got;
      // Delivered means seq 1..delivered arrived in order exactly once: the cursor never skips.
      if (d && d.delivered === s.lastSeq) completeStreams += 1;
      for (let i = 0; i < got; i++) {
        const created = s.createdAt[i];
        const at = d?.deliveredAt[i];
        const verified = d?.verifiedAt[i];
        if (created === undefined || at === undefined || verified === undefined || created < measureFrom) continue;
        endToEnd.push(at - created);
        toVerified.push(verified - created);
      }
    }
  }
  const perMember: Record<string, number[]> = {};
  for (const r of reports) perMember[r.carrier] = r.perMember;
  const sum = (f: (r: BackendReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  return {
    options,
    connected: extra.connected,
    connectMs: extra.connectMs,
    streams,
    emitted,
    emitFailures: failed,
    achievedRatePerS: lastAt > firstAt ? ((emitted - 1) * 1000) / (lastAt - firstAt) : 0,
    endToEnd: summariseLatency(endToEnd),
    toVerified: summariseLatency(toVerified),
    scheduleLag: summariseLatency(lag),
    shed: productions.reduce((n, p) => n + p.shed, 0),
    complete: missing === 0 && mismatches === 0 && failed === 0 && completeStreams === streams,
    completeStreams,
    missingEvents: missing,
    outboxMismatches: mismatches,
    duplicates: sum((r) => r.duplicates),
    arrivedAhead: sum((r) => r.arrivedAhead),
    replaysAsked: sum((r) => r.replaysAsked),
    badSignatures: sum((r) => r.badSignature),
    acksSent: sum((r) => r.acksSent),
    perMember,
    unsentAfterSettle: extra.unsent,
    catchUpMs: extra.catchUpMs,
    lockerLoad: extra.lockerLoad,
    backendLoad: extra.backendLoad,
    footprint: extra.footprint,
    bytesPerLockerConnected: meanPerLocker(extra.footprint, (f) => f.rssConnected),
    bytesPerLockerPeak: meanPerLocker(extra.footprint, (f) => f.rssPeak),
    databaseBytes: extra.databaseBytes,
    databaseFiles: extra.databaseFiles,
  };
}

function describeLatency(s: LatencySummary): string {
  return `p50 ${s.p50.toFixed(2)} ms, p90 ${s.p90.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, p99.9 ${s.p999.toFixed(2)} ms, max ${s.max.toFixed(2)} ms (n ${s.n})`;
}

export function describeFleetReport(r: FleetReport): string[] {
  const o = r.options;
  return [
    `lockers: ${r.connected} of ${o.lockers} connected (one MQTT connection each) in ${(r.connectMs / 1000).toFixed(1)} s`,
    `carriers: ${o.carriers}, ${r.streams} streams with traffic; back ends: ${o.members} shared-subscription connections per carrier`,
    `events: ${r.emitted} created at ${r.achievedRatePerS.toFixed(0)}/s (target ${o.ratePerS}/s) over ${o.durationMs / 1000} s; ${r.emitFailures} failed; ${r.shed} arrivals shed (the generator could not keep up)`,
    `end to end (created -> verified and delivered in order): ${describeLatency(r.endToEnd)}`,
    `created -> signature verified on arrival: ${describeLatency(r.toVerified)}`,
    `generator lag behind its schedule: p99 ${r.scheduleLag.p99.toFixed(2)} ms, max ${r.scheduleLag.max.toFixed(2)} ms`,
    `completeness and order: ${r.complete ? 'held' : 'NOT held'}: ${r.completeStreams}/${r.streams} streams complete, ${r.missingEvents} missing, ` +
      `${r.outboxMismatches} outbox mismatches, ${r.badSignatures} bad signatures`,
    `transport: ${r.arrivedAhead} arrived ahead of an earlier seq (reordered), ${r.duplicates} duplicates dropped, ${r.replaysAsked} replays asked, ${r.acksSent} acks sent`,
    `shared subscription spread: ${Object.entries(r.perMember)
      .map(([c, n]) => `${c} ${n.join('/')}`)
      .join(', ')}`,
    `after traffic: ${r.unsentAfterSettle} rows without PUBACK; back ends caught up in ${(r.catchUpMs / 1000).toFixed(2)} s`,
    `event-loop delay p99 / max: lockers ${r.lockerLoad.map((l) => `${l.loopDelayP99Ms.toFixed(1)} / ${l.loopDelayMaxMs.toFixed(0)} ms`).join(', ')}, ` +
      `back ends ${r.backendLoad.loopDelayP99Ms.toFixed(1)} / ${r.backendLoad.loopDelayMaxMs.toFixed(0)} ms; GC pauses: lockers ${r.lockerLoad.map((l) => `${l.gcPauseMs.toFixed(0)} ms (longest ${l.gcMaxPauseMs.toFixed(0)} ms)`).join(', ')}`,
    `CPU over the traffic phase: lockers ${r.lockerLoad.map((l) => `${((l.cpuMs / l.wallMs) * 100).toFixed(0)} %`).join(' + ')} of a core, ` +
      `back ends ${((r.backendLoad.cpuMs / r.backendLoad.wallMs) * 100).toFixed(0)} %; peak RSS lockers ${r.lockerLoad.map((l) => `${(l.maxRssBytes / 2 ** 20).toFixed(0)} MiB`).join(' + ')}, ` +
      `back ends ${(r.backendLoad.maxRssBytes / 2 ** 20).toFixed(0)} MiB`,
    `memory per locker: ${(r.bytesPerLockerConnected / 1024).toFixed(0)} KiB connected, ${(r.bytesPerLockerPeak / 1024).toFixed(0)} KiB at the traffic's peak; ` +
      `descriptors ${r.footprint.map((f) => `${f.openFiles} of ${f.openFilesLimit}`).join(', ')}; ` +
      `databases: ${r.databaseFiles} files, ${(r.databaseBytes / 2 ** 20).toFixed(1)} MiB (synchronous ${o.synchronous})`,
  ];
}
