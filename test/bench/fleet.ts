// Fleet simulator on one machine: 1,000 lockers, 1,000 events/s, p99 end to end <= 50 ms.
//
// A real Mosquitto 2 (test/support/mosquittoBroker.ts: password file, the shipped ACL) on
// loopback; the fleet simulator (fleet/) connects every locker with its own MQTT connection
// under its own principal and runs the locker's real sync stack per locker (EventRecorder into
// an in-memory SQLite outbox, SyncClient, signed envelopes, one stream per carrier, QoS 1).
// Each carrier's back end consumes through an MQTT 5 shared subscription, verifies every
// signature with the locker's enrolled key, restores order per stream by seq and records when
// each event became available in order. Latency is event creation at the locker -> in-order
// delivery at the back end, on the machine's monotonic clock shared by all processes.
import { readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { describeFleetReport, fleetCarrierIds, fleetLockerIds, runFleetSimulation, type FleetReport } from '../../fleet/fleetSimulation.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { childPid, cpuMsOf, machineCpu, type MachineCpu } from './support/processCpu.js';
import { type BenchOptions, type BenchResult, type BenchRow, progress } from './support/result.js';

const TARGET_LOCKERS = 1000;
const TARGET_RATE = 1000;
const TARGET_P99_MS = 50;
const PASSWORD = 'fleet-bench';

/** "Max open files" of this process (soft and hard), which the broker and the fleet inherit. */
function openFileLimit(): { soft: string; hard: string } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line?.replace('Max open files', '').trim().split(/\s+/) ?? [];
    return { soft: soft ?? 'unknown', hard: hard ?? 'unknown' };
  } catch {
    return { soft: 'unknown', hard: 'unknown' };
  }
}

function verdictOf(r: FleetReport, lockers: number, rate: number): BenchRow['verdict'] {
  const rateHeld = r.achievedRatePerS >= rate * 0.97;
  return r.connected === lockers && rateHeld && r.complete && r.endToEnd.p99 <= TARGET_P99_MS ? 'met' : 'missed';
}

interface FleetRun {
  report: FleetReport;
  /** Mosquitto's CPU over the traffic phase, ms (NaN when it could not be read). */
  brokerCpuMs: number;
  machineAt: Partial<Record<'start' | 'end', MachineCpu>>;
}

interface FleetRunSpec {
  lockers: number;
  ratePerS: number;
  durationMs: number;
  warmupMs: number;
  carriers: number;
  members: number;
  /** Extra mosquitto.conf lines (an experiment); none is the shipped behaviour. */
  brokerExtra: string[];
}

async function runOnce(spec: FleetRunSpec): Promise<FleetRun> {
  const users: Record<string, string> = {};
  for (const id of [...fleetLockerIds(spec.lockers), ...fleetCarrierIds(spec.carriers)]) users[id] = PASSWORD;
  progress(`fleet: starting Mosquitto with ${Object.keys(users).length} principals${spec.brokerExtra.length ? ` and ${spec.brokerExtra.join(', ')}` : ''}`);
  // max_inflight_messages as in deploy/mosquitto/mosquitto.conf.
  const broker = await MosquittoBroker.start({ users, extra: ['max_inflight_messages 64', ...spec.brokerExtra] });
  const brokerPid = childPid('mosquitto');
  const brokerCpu = { start: Number.NaN, end: Number.NaN };
  const machineAt: Partial<Record<'start' | 'end', MachineCpu>> = {};
  try {
    const report = await runFleetSimulation({
      url: broker.url,
      password: PASSWORD,
      lockers: spec.lockers,
      ratePerS: spec.ratePerS,
      durationMs: spec.durationMs,
      carriers: spec.carriers,
      members: spec.members,
      lockerProcesses: 1,
      protocolVersion: 4,
      warmupMs: spec.warmupMs,
      log: (line) => progress(`fleet: ${line}`),
      onTraffic: (phase) => {
        if (brokerPid !== undefined) brokerCpu[phase] = cpuMsOf(brokerPid);
        machineAt[phase] = machineCpu();
      },
    });
    for (const line of describeFleetReport(report)) progress(`fleet: ${line}`);
    return { report, brokerCpuMs: brokerCpu.end - brokerCpu.start, machineAt };
  } finally {
    await broker.dispose();
  }
}

export async function runFleet(o: BenchOptions): Promise<BenchResult> {
  if (!mosquittoAvailable()) throw new Error('mosquitto is not installed: apt-get install -y mosquitto mosquitto-clients');
  const lockers = o.quick ? 100 : TARGET_LOCKERS;
  const ratePerS = o.quick ? 200 : TARGET_RATE;
  const durationMs = o.quick ? 10_000 : 60_000;
  const warmupMs = o.quick ? 1_000 : 5_000;
  const experimentMs = o.quick ? 5_000 : 30_000;
  const carriers = 2;
  const members = 2;
  const limits = openFileLimit();
  const machine = machineInfo(tmpdir());
  progress(`fleet: open files limit soft ${limits.soft}, hard ${limits.hard}`);
  const spec: FleetRunSpec = { lockers, ratePerS, durationMs, warmupMs, carriers, members, brokerExtra: [] };
  const { report, brokerCpuMs, machineAt } = await runOnce(spec);
  // Experiment: Mosquitto leaves Nagle's algorithm on for its client sockets unless told otherwise.
  const noDelay = await runOnce({ ...spec, durationMs: experimentMs, brokerExtra: ['set_tcp_nodelay true'] });

  const e2e = report.endToEnd;
  const how =
    `${lockers} lockers, each its own MQTT connection and principal (password file, shipped ACL) to a local Mosquitto 2, running the real SyncClient on an in-memory SQLite outbox; ` +
    `${ratePerS} events/s in total (Poisson arrivals, random locker and carrier) for ${durationMs / 1000} s; ${carriers} carriers, each consuming with ${members} connections in a $share group (MQTT 5), ` +
    `verifying every signature and restoring order per stream by seq; latency = created at the locker -> delivered in order at the back end, first ${warmupMs / 1000} s left out`;
  const rows: BenchRow[] = [
    {
      target: 'fleet simulator, one 2-core machine: 1,000 lockers, 1,000 events/s, p99 end-to-end <= 50 ms',
      measured:
        `p99 ${e2e.p99.toFixed(1)} ms (p50 ${e2e.p50.toFixed(1)} ms, max ${e2e.max.toFixed(1)} ms) over ${e2e.n} events; ` +
        `${report.connected}/${lockers} lockers connected, ${report.achievedRatePerS.toFixed(0)} events/s created; ` +
        `order and completeness ${report.complete ? 'held' : 'NOT held'} on all ${report.streams} streams`,
      verdict: verdictOf(report, lockers, ratePerS),
      how,
    },
    {
      target: '(experiment: the same fleet with set_tcp_nodelay true in mosquitto.conf; the shipped configuration leaves Nagle on)',
      measured:
        `p99 ${noDelay.report.endToEnd.p99.toFixed(1)} ms (p50 ${noDelay.report.endToEnd.p50.toFixed(1)} ms, p99.9 ${noDelay.report.endToEnd.p999.toFixed(1)} ms) over ${noDelay.report.endToEnd.n} events; ` +
        `order and completeness ${noDelay.report.complete ? 'held' : 'NOT held'}`,
      verdict: 'info',
      how: `as above, ${experimentMs / 1000} s of traffic, a fresh broker with that one line added`,
    },
  ];
  const load = (ms: number): string => `${((ms / durationMs) * 100).toFixed(0)} %`;
  const ours = report.lockerLoad.reduce((sum, l) => sum + l.cpuMs, 0) + report.backendLoad.cpuMs + (Number.isNaN(brokerCpuMs) ? 0 : brokerCpuMs);
  const m0 = machineAt.start;
  const m1 = machineAt.end;
  const machineLine =
    m0 && m1
      ? `machine busy ${load(m1.busyMs - m0.busyMs)} of one core (of ${availableParallelism() * 100} %), of which this benchmark's processes ${load(ours)} and other work ${load(Math.max(0, m1.busyMs - m0.busyMs - ours))}; steal ${load(m1.stealMs - m0.stealMs)}`
      : 'machine load not read';
  const details = [
    `Machine: ${availableParallelism()} cores shared by Mosquitto, the locker process, the back-end process and whatever else ran; open files limit soft ${limits.soft}, hard ${limits.hard} ` +
      `(the fleet needs about ${lockers + 2 * members + 20} descriptors in the broker and as many in the locker process).`,
    '',
    '| figure | value |',
    '|---|---|',
    `| lockers connected | ${report.connected} of ${lockers}, in ${(report.connectMs / 1000).toFixed(1)} s (batches of 50) |`,
    `| events created | ${report.emitted} at ${report.achievedRatePerS.toFixed(0)}/s (target ${ratePerS}/s); generator lag p99 ${report.scheduleLag.p99.toFixed(2)} ms |`,
    `| created -> delivered in order | p50 ${e2e.p50.toFixed(2)} ms, p90 ${e2e.p90.toFixed(2)} ms, p99 ${e2e.p99.toFixed(2)} ms, p99.9 ${e2e.p999.toFixed(2)} ms, max ${e2e.max.toFixed(2)} ms |`,
    `| created -> signature verified on arrival | p50 ${report.toVerified.p50.toFixed(2)} ms, p99 ${report.toVerified.p99.toFixed(2)} ms |`,
    `| per-stream order and completeness | ${report.complete ? 'held' : 'NOT held'}: ${report.completeStreams}/${report.streams} streams delivered 1..last exactly once in order; ${report.missingEvents} missing; last seq matched the outbox on all but ${report.outboxMismatches} |`,
    `| transport | ${report.arrivedAhead} events arrived before an earlier seq of their stream (spread over the $share members) and waited; ${report.duplicates} duplicates dropped; ${report.replaysAsked} replays asked; ${report.badSignatures} bad signatures; ${report.acksSent} acks sent |`,
    `| $share spread | ${Object.entries(report.perMember)
      .map(([c, n]) => `${c} ${n.join(' / ')}`)
      .join('; ')} |`,
    `| CPU during traffic | locker process ${report.lockerLoad.map((l) => load(l.cpuMs)).join(' + ')} of a core, back ends ${load(report.backendLoad.cpuMs)}, ` +
      `Mosquitto ${Number.isNaN(brokerCpuMs) ? 'not measured' : load(brokerCpuMs)} |`,
    `| event loops during traffic | delay p99 / max: locker process ${report.lockerLoad.map((l) => `${l.loopDelayP99Ms.toFixed(1)} / ${l.loopDelayMaxMs.toFixed(0)} ms`).join(', ')}, back ends ${report.backendLoad.loopDelayP99Ms.toFixed(1)} / ${report.backendLoad.loopDelayMaxMs.toFixed(0)} ms; ` +
      `GC pauses in the locker process ${report.lockerLoad.map((l) => `${l.gcPauseMs.toFixed(0)} ms in all, longest ${l.gcMaxPauseMs.toFixed(0)} ms`).join(', ')} |`,
    `| whole machine during traffic | ${machineLine} |`,
    `| peak RSS | locker process ${report.lockerLoad.map((l) => `${(l.maxRssBytes / 2 ** 20).toFixed(0)} MiB`).join(' + ')}, back ends ${(report.backendLoad.maxRssBytes / 2 ** 20).toFixed(0)} MiB |`,
    '',
    `Where the tail comes from: without TCP_NODELAY on the broker's sockets, a small message the broker writes while its previous write to that client is not yet ` +
      `acknowledged at the TCP level is held back by Nagle's algorithm until that acknowledgement, which Linux may delay by up to 40 ms. With set_tcp_nodelay true (experiment row, ${experimentMs / 1000} s) the same fleet shows ` +
      `p50 ${noDelay.report.endToEnd.p50.toFixed(2)} ms, p90 ${noDelay.report.endToEnd.p90.toFixed(2)} ms, p99 ${noDelay.report.endToEnd.p99.toFixed(2)} ms, ` +
      `p99.9 ${noDelay.report.endToEnd.p999.toFixed(2)} ms, max ${noDelay.report.endToEnd.max.toFixed(2)} ms.`,
    '',
    'What is simplified: a fleet locker has no hardware and its outbox is an in-memory SQLite database (same schema and code path, ' +
      'no fsync), because a thousand file databases syncing on one disk would measure this disk rather than the fleet; the drain ' +
      'benchmark measures the durable outbox. Everything from the commit on is the shipped code: EventRecorder, SyncClient, ' +
      'StreamPublisher, envelope signing, the broker with its ACL, and verifyEnvelope at the carrier.',
  ];
  return {
    name: 'fleet',
    title: 'Fleet simulator: 1,000 lockers, 1,000 events/s',
    rows,
    details,
    machine,
    params: { lockers, ratePerS, durationS: durationMs / 1000, warmupS: warmupMs / 1000, carriers, members, machine: describeMachine(machine) },
    quick: o.quick,
  };
}
