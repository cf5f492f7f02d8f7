// Fleet simulator on one machine, in steps toward 10,000 lockers at 10,000 events/s.
//
// A real Mosquitto 2 (test/support/mosquittoBroker.ts: password file, the shipped ACL) on
// loopback; the fleet simulator (fleet/) connects every locker with its own MQTT connection
// under its own principal and runs the locker's real sync stack per locker: its own data folder
// and SQLite file opened as lockerd opens it (openLockerDatabase, WAL, every migration, the
// database identity and epoch), EventRecorder committing audit and outbox rows in one
// transaction, each row sealed (signed and encoded) at append, SyncClient and StreamPublisher
// publishing the stored bytes at QoS 1. Each carrier's back end consumes through an MQTT 5
// shared subscription, verifies every signature with the locker's enrolled key, restores order
// per stream by seq and records when each event became available in order. Latency is commit at
// the locker -> in-order delivery at the back end, on the machine's monotonic clock shared by
// all processes.
//
// The steps run one after another in one run, each on a fresh broker and fresh data folders, and
// each records CPU per process (locker processes, back ends, Mosquitto), event-loop delay, the
// load average and memory per locker, so the table says which process saturates first.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeFleetReport, fleetCarrierIds, fleetLockerIds, runFleetSimulation, type FleetReport } from '../../fleet/fleetSimulation.js';
import { FILES_BASE, FILES_PER_LOCKER, ensureOpenFiles, filesNeeded, openFileLimit } from '../../fleet/openFiles.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';
import { describeMachine, fileSystemOf, machineInfo } from './support/machine.js';
import { childPid, cpuMsOf, machineCpu, type MachineCpu } from './support/processCpu.js';
import { type BenchOptions, type BenchResult, type BenchRow, progress } from './support/result.js';

const TARGET_LOCKERS = 10_000;
const TARGET_RATE = 10_000;
const TARGET_P99_MS = 50;
const PASSWORD = 'fleet-bench';
/** A process counts as saturated when it used this much of one core over the traffic phase. */
const SATURATED = 0.85;

/**
 * Where the lockers' database files go: tmpfs when the machine has one. Ten thousand lockers
 * sharing this one disk (and its fsyncs with whatever else runs) would measure the disk: a first
 * run on ext4 stalled the locker processes' event loops for seconds at 20 % CPU. Every real locker
 * has its own disk; the files are still real SQLite files in WAL mode, with their -wal and -shm.
 */
function fleetDataRoot(): string {
  return existsSync('/dev/shm') && fileSystemOf('/dev/shm').startsWith('tmpfs') ? '/dev/shm' : tmpdir();
}

interface FleetRunSpec {
  lockers: number;
  ratePerS: number;
  processes: number;
  durationMs: number;
  warmupMs: number;
  carriers: number;
  members: number;
  /** Extra mosquitto.conf lines (an experiment); none is the shipped behaviour. */
  brokerExtra: string[];
}

interface FleetRun {
  spec: FleetRunSpec;
  report: FleetReport;
  /** Mosquitto's CPU over the traffic phase, ms (NaN when it could not be read). */
  brokerCpuMs: number;
  machineAt: Partial<Record<'start' | 'end', MachineCpu>>;
  /** 1-minute load average as the traffic started. */
  load: number;
  /** Wall time of the whole step (broker, creating, connecting, traffic, catch-up), ms. */
  stepMs: number;
  /** Wall time of the traffic phase (CPU shares are of this), ms. */
  trafficMs: number;
}

function verdictOf(r: FleetReport, lockers: number, rate: number): BenchRow['verdict'] {
  const rateHeld = r.achievedRatePerS >= rate * 0.97;
  return r.connected === lockers && rateHeld && r.complete && r.endToEnd.p99 <= TARGET_P99_MS ? 'met' : 'missed';
}

/**
 * Locker processes for a step: at least `wanted`, and enough that each stays under the hard
 * open-files limit (four descriptors per locker), which this process may not be allowed to
 * raise: in a container without CAP_SYS_RESOURCE even root cannot.
 */
function processesFor(lockers: number, wanted: number): number {
  const hard = openFileLimit().hard;
  const perProcess = Number.isFinite(hard) ? Math.max(1, Math.floor((hard - FILES_BASE) / FILES_PER_LOCKER)) : lockers;
  return Math.max(wanted, Math.ceil(lockers / perProcess));
}

async function runOnce(asked: FleetRunSpec): Promise<FleetRun> {
  const spec = { ...asked, processes: processesFor(asked.lockers, asked.processes) };
  const t0 = performance.now();
  const users: Record<string, string> = {};
  for (const id of [...fleetLockerIds(spec.lockers), ...fleetCarrierIds(spec.carriers)]) users[id] = PASSWORD;
  // The broker holds a socket per locker; each locker process four descriptors per locker.
  // Both inherit this process's limit.
  ensureOpenFiles(Math.max(spec.lockers + 1_024, filesNeeded(Math.ceil(spec.lockers / spec.processes))));
  progress(`fleet: ${spec.lockers} lockers, ${spec.ratePerS} events/s, ${spec.processes} locker process(es): starting Mosquitto${spec.brokerExtra.length ? ` with ${spec.brokerExtra.join(', ')}` : ''}`);
  // max_inflight_messages as in deploy/mosquitto/mosquitto.conf.
  const broker = await MosquittoBroker.start({ users, extra: ['max_inflight_messages 64', ...spec.brokerExtra] });
  const brokerPid = childPid('mosquitto');
  const brokerCpu = { start: Number.NaN, end: Number.NaN };
  const machineAt: Partial<Record<'start' | 'end', MachineCpu>> = {};
  let load = Number.NaN;
  const trafficAt = { start: Number.NaN, end: Number.NaN };
  const dataDir = mkdtempSync(join(fleetDataRoot(), 'lockerd-fleet-'));
  try {
    const report = await runFleetSimulation({
      dataDir,
      url: broker.url,
      password: PASSWORD,
      lockers: spec.lockers,
      ratePerS: spec.ratePerS,
      durationMs: spec.durationMs,
      carriers: spec.carriers,
      members: spec.members,
      lockerProcesses: spec.processes,
      protocolVersion: 4,
      warmupMs: spec.warmupMs,
      connectTimeoutMs: 300_000,
      log: (line) => progress(`fleet: ${line}`),
      onTraffic: (phase) => {
        if (brokerPid !== undefined) brokerCpu[phase] = cpuMsOf(brokerPid);
        machineAt[phase] = machineCpu();
        trafficAt[phase] = performance.now();
        if (phase === 'start') load = loadavg()[0] ?? Number.NaN;
      },
    });
    for (const line of describeFleetReport(report)) progress(`fleet: ${line}`);
    return { spec, report, brokerCpuMs: brokerCpu.end - brokerCpu.start, machineAt, load, stepMs: performance.now() - t0, trafficMs: trafficAt.end - trafficAt.start };
  } finally {
    await broker.dispose();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const pct = (ms: number, durationMs: number): string => `${((ms / durationMs) * 100).toFixed(0)} %`;
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Which process ran out of CPU first over the traffic phase, with the machine's share. */
function saturation(run: FleetRun): string {
  const d = run.trafficMs;
  const r = run.report;
  const busy: string[] = [];
  r.lockerLoad.forEach((l, i) => {
    if (l.cpuMs / d >= SATURATED) busy.push(`locker process ${i + 1} (${pct(l.cpuMs, d)})`);
  });
  if (r.backendLoad.cpuMs / d >= SATURATED) busy.push(`back ends (${pct(r.backendLoad.cpuMs, d)})`);
  if (run.brokerCpuMs / d >= SATURATED) busy.push(`Mosquitto (${pct(run.brokerCpuMs, d)})`);
  const m0 = run.machineAt.start;
  const m1 = run.machineAt.end;
  const machineBusy = m0 && m1 ? (m1.busyMs - m0.busyMs) / d : Number.NaN;
  const cores = availableParallelism();
  const machineFull = machineBusy >= cores * 0.9;
  if (!busy.length && !machineFull) return 'none';
  return [...busy, ...(machineFull ? [`the machine (${(machineBusy * 100).toFixed(0)} % of ${cores * 100} %)`] : [])].join(', ');
}

/** CPU time per event created, µs: all locker processes, back ends, Mosquitto (over the traffic phase). */
function cpuPerEvent(run: FleetRun): string {
  const r = run.report;
  const n = Math.max(1, r.emitted);
  const us = (ms: number): string => (Number.isNaN(ms) ? '?' : ((ms * 1000) / n).toFixed(0));
  return `${us(r.lockerLoad.reduce((s, l) => s + l.cpuMs, 0))} / ${us(r.backendLoad.cpuMs)} / ${us(run.brokerCpuMs)} µs`;
}

function stepLine(run: FleetRun): string {
  const r = run.report;
  const s = run.spec;
  const d = run.trafficMs;
  const e = r.endToEnd;
  const m0 = run.machineAt.start;
  const m1 = run.machineAt.end;
  return [
    `${s.lockers.toLocaleString('en')} (${r.connected} connected; ${s.processes} locker process${s.processes > 1 ? 'es' : ''})`,
    `${s.ratePerS.toLocaleString('en')}/s -> ${r.achievedRatePerS.toFixed(0)}/s`,
    `${e.p50.toFixed(1)} / ${e.p99.toFixed(1)} / ${e.p999.toFixed(1)} / ${e.max.toFixed(0)} ms`,
    r.complete ? `held (${r.completeStreams}/${r.streams})` : `NOT held: ${r.missingEvents} missing, ${r.completeStreams}/${r.streams} complete`,
    r.lockerLoad.map((l) => pct(l.cpuMs, d)).join(' + '),
    pct(r.backendLoad.cpuMs, d),
    Number.isNaN(run.brokerCpuMs) ? 'not read' : pct(run.brokerCpuMs, d),
    m0 && m1 ? pct(m1.busyMs - m0.busyMs, d) : 'not read',
    `${r.lockerLoad.map((l) => l.loopDelayP99Ms.toFixed(0)).join(' / ')} ms; ${r.backendLoad.loopDelayP99Ms.toFixed(0)} ms`,
    `${r.scheduleLag.p99.toFixed(0)} ms`,
    cpuPerEvent(run),
    `${(r.bytesPerLockerConnected / 1024).toFixed(0)} / ${(r.bytesPerLockerPeak / 1024).toFixed(0)} KiB`,
    `${r.footprint.map((f) => mib(f.rssPeak)).join(' + ')}; ${mib(r.backendLoad.maxRssBytes)}`,
    saturation(run),
    run.load.toFixed(1),
  ].join(' | ');
}

export async function runFleet(o: BenchOptions): Promise<BenchResult> {
  if (!mosquittoAvailable()) throw new Error('mosquitto is not installed: apt-get install -y mosquitto mosquitto-clients');
  const carriers = 2;
  const members = 2;
  const durationMs = o.quick ? 5_000 : 20_000;
  const warmupMs = o.quick ? 1_000 : 5_000;
  // Steps toward the target: lockers and the fleet's event rate grow together (one event per
  // locker per second), then the full fleet at a lower rate, which separates "many connections"
  // from "many events".
  const steps: Omit<FleetRunSpec, 'durationMs' | 'warmupMs' | 'carriers' | 'members' | 'brokerExtra'>[] = o.quick
    ? [
        { lockers: 100, ratePerS: 100, processes: 1 },
        { lockers: 300, ratePerS: 300, processes: 2 },
      ]
    : [
        { lockers: 1_000, ratePerS: 1_000, processes: 1 },
        { lockers: 2_000, ratePerS: 2_000, processes: 2 },
        { lockers: 5_000, ratePerS: 5_000, processes: 2 },
        { lockers: 10_000, ratePerS: 10_000, processes: 2 },
        { lockers: 10_000, ratePerS: 2_000, processes: 2 },
      ];
  const limitsAtStart = openFileLimit();
  const machine = machineInfo(fleetDataRoot());
  progress(`fleet: open files limit soft ${limitsAtStart.soft}, hard ${limitsAtStart.hard}`);
  const runs: FleetRun[] = [];
  for (const step of steps) runs.push(await runOnce({ ...step, durationMs, warmupMs, carriers, members, brokerExtra: [] }));
  // Experiment: Mosquitto leaves Nagle's algorithm on for its client sockets unless told otherwise.
  const first = steps[0] ?? { lockers: 100, ratePerS: 100, processes: 1 };
  const experimentMs = o.quick ? 5_000 : 10_000;
  const noDelay = await runOnce({ ...first, durationMs: experimentMs, warmupMs, carriers, members, brokerExtra: ['set_tcp_nodelay true'] });

  const target = runs.find((r) => r.spec.lockers === TARGET_LOCKERS && r.spec.ratePerS === TARGET_RATE) ?? runs[runs.length - 1];
  if (!target) throw new Error('no fleet step ran');
  const baseline = runs[0] ?? target;
  const t = target.report;
  const held = runs.filter((r) => verdictOf(r.report, r.spec.lockers, r.spec.ratePerS) === 'met');
  const largest = held[held.length - 1];
  const how =
    'each locker its own MQTT connection and principal (password file, shipped ACL) to a local Mosquitto 2, its own SQLite file opened as lockerd opens it ' +
    `(WAL, synchronous NORMAL, on ${fileSystemOf(fleetDataRoot())}), rows sealed at append, the real SyncClient; Poisson arrivals, random locker and carrier; 2 carriers, each consuming with 2 connections ` +
    `in a $share group (MQTT 5), verifying every signature and restoring order per stream by seq; latency = committed at the locker -> delivered in order at the back end, first ${warmupMs / 1000} s left out; ${durationMs / 1000} s of traffic per step`;
  const rows: BenchRow[] = [
    {
      target: `fleet simulator, one ${availableParallelism()}-core machine: ${TARGET_LOCKERS.toLocaleString('en')} lockers, ${TARGET_RATE.toLocaleString('en')} events/s, p99 end-to-end <= ${TARGET_P99_MS} ms`,
      measured:
        `${t.connected}/${target.spec.lockers} lockers connected; ${t.achievedRatePerS.toFixed(0)} events/s created of ${target.spec.ratePerS} (${((t.achievedRatePerS / target.spec.ratePerS) * 100).toFixed(0)} %); ` +
        `p99 ${t.endToEnd.p99.toFixed(1)} ms (p50 ${t.endToEnd.p50.toFixed(1)} ms); order and completeness ${t.complete ? 'held' : 'NOT held'}; saturated: ${saturation(target)}; ` +
        `largest step that met every figure: ${largest ? `${largest.spec.lockers} lockers at ${largest.spec.ratePerS}/s (p99 ${largest.report.endToEnd.p99.toFixed(1)} ms)` : 'none'}`,
      verdict: verdictOf(t, target.spec.lockers, target.spec.ratePerS),
      how,
    },
    {
      target: 'memory per simulated locker (RSS of its process over the lockers it holds)',
      measured: runs.map((r) => `${r.spec.lockers}: ${(r.report.bytesPerLockerConnected / 1024).toFixed(0)} KiB connected, ${(r.report.bytesPerLockerPeak / 1024).toFixed(0)} KiB at peak`).join('; '),
      verdict: 'info',
      how: 'per locker process: (RSS once connected or peak RSS of the traffic phase - RSS before the first locker) / lockers in it; the mean over processes',
    },
    {
      target: `(baseline in the same run: ${baseline.spec.lockers} lockers at ${baseline.spec.ratePerS} events/s)`,
      measured: `p99 ${baseline.report.endToEnd.p99.toFixed(1)} ms (p50 ${baseline.report.endToEnd.p50.toFixed(1)} ms), ${baseline.report.achievedRatePerS.toFixed(0)} events/s, order and completeness ${baseline.report.complete ? 'held' : 'NOT held'}`,
      verdict: verdictOf(baseline.report, baseline.spec.lockers, baseline.spec.ratePerS),
      how: 'the first step of the table below',
    },
    {
      target: '(experiment: the first step with set_tcp_nodelay true in mosquitto.conf; the shipped configuration leaves Nagle on)',
      measured:
        `p99 ${noDelay.report.endToEnd.p99.toFixed(1)} ms (p50 ${noDelay.report.endToEnd.p50.toFixed(1)} ms, p99.9 ${noDelay.report.endToEnd.p999.toFixed(1)} ms) over ${noDelay.report.endToEnd.n} events; ` +
        `order and completeness ${noDelay.report.complete ? 'held' : 'NOT held'}`,
      verdict: 'info',
      how: `as above, ${experimentMs / 1000} s of traffic, a fresh broker with that one line added`,
    },
  ];
  const details = [
    `Machine: ${availableParallelism()} cores shared by Mosquitto, the locker processes, the back-end process and whatever else ran (the load average of each step is in its row); ` +
      `open files limit at the start soft ${limitsAtStart.soft}, hard ${limitsAtStart.hard}, raised per step with prlimit (up to the hard limit: this container does not let root raise that) to what the broker (one socket per locker) and ` +
      'each locker process (four descriptors per locker: database, -wal, -shm, socket) need; a step with more lockers than one process may hold under the hard limit gets more locker processes.',
    '',
    '| lockers | events/s target -> created | end to end p50 / p99 / p99.9 / max | order and completeness | CPU locker processes | CPU back ends | CPU Mosquitto | machine busy (of ' +
      `${availableParallelism() * 100} %) | loop delay p99 lockers; back ends | generator lag p99 | CPU per event: lockers / back ends / Mosquitto | memory per locker connected / peak | peak RSS locker processes; back ends | saturated (>= ${SATURATED * 100} % of a core) | load avg |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${stepLine(r)} |`),
    `| ${stepLine(noDelay)} (set_tcp_nodelay true) |`,
    '',
    ...runs.map(
      (r) =>
        `- ${r.spec.lockers} lockers at ${r.spec.ratePerS}/s: connected in ${(r.report.connectMs / 1000).toFixed(1)} s, created in ${r.report.footprint.map((f) => `${(f.createMs / 1000).toFixed(1)} s`).join(' / ')} ` +
        `(${r.report.footprint.map((f) => `${f.lockers} lockers, ${f.openFiles} descriptors of ${f.openFilesLimit}`).join('; ')}); ${r.report.emitted} events, ${r.report.arrivedAhead} arrived ahead of an earlier seq, ` +
        `${r.report.duplicates} duplicates, ${r.report.replaysAsked} replays asked, ${r.report.badSignatures} bad signatures; ${r.report.unsentAfterSettle} rows without PUBACK after settling, back ends caught up ` +
        `${(r.report.catchUpMs / 1000).toFixed(1)} s after the last event; GC pauses in the locker processes ${r.report.lockerLoad.map((l) => `${l.gcPauseMs.toFixed(0)} ms (longest ${l.gcMaxPauseMs.toFixed(0)} ms)`).join(', ')}; ` +
        `databases ${r.report.databaseFiles} files, ${(r.report.databaseBytes / 2 ** 20).toFixed(0)} MiB; the step took ${(r.stepMs / 1000).toFixed(0)} s`,
    ),
  ];
  return {
    name: 'fleet',
    title: `Fleet simulator: steps toward ${TARGET_LOCKERS.toLocaleString('en')} lockers, ${TARGET_RATE.toLocaleString('en')} events/s`,
    rows,
    details,
    machine,
    params: { steps: runs.map((r) => `${r.spec.lockers}x${r.spec.ratePerS}/s/${r.spec.processes}p`).join(', '), durationS: durationMs / 1000, warmupS: warmupMs / 1000, carriers, members, machine: describeMachine(machine) },
    data: {
      steps: runs.map((r) => ({ spec: r.spec, load: r.load, brokerCpuMs: r.brokerCpuMs, machineBusyMs: (r.machineAt.end?.busyMs ?? Number.NaN) - (r.machineAt.start?.busyMs ?? Number.NaN), saturated: saturation(r), report: summaryOf(r.report) })),
      noDelay: { spec: noDelay.spec, load: noDelay.load, report: summaryOf(noDelay.report) },
    },
    quick: o.quick,
  };
}

/** The report without its per-event arrays (machine-readable data stays small). */
function summaryOf(r: FleetReport): Omit<FleetReport, 'options'> & { options: Omit<FleetReport['options'], 'dataDir'> } {
  const { dataDir: _dataDir, ...options } = r.options;
  return { ...r, options };
}
