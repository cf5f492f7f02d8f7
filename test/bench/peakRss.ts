// Peak memory of a lockerd process under load (issue 10, item 3: RSS <= 100 MB at peak).
//
// Each load runs against its own fresh lockerd child, started the way the systemd unit starts
// it (node with the unit's NODE_OPTIONS and environment, read from deploy/systemd/lockerd.service,
// `lockerd start --config FILE`), on a fresh copy of the same data folder, connected to a local
// Mosquitto. The kernel's VmRSS is sampled every 100 ms and VmHWM read at the end; the idle
// figure is measured in the same run, the same way, side by side:
//   idle             started, connected, nothing to do;
//   drain            a backlog of 100k signed events draining to the broker;
//   carrier commands 10,000 command messages (valid and invalid mix) published over MQTT as fast
//                    as the broker takes them;
//   event streams    2,000 connection attempts to /api/events, many held, many abandoned;
//   HTTP fuzz        oversized bodies, slowloris, many connections, bad JSON, for a fixed time.
// A figure, not a test: the verdict column says met or missed and by how much.
import { fork } from 'node:child_process';
import { cp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../kernel/random.js';
import { ed25519Signer } from '../../src/sync/detachedSignature.js';
import { envelopeSealer } from '../../src/sync/envelope.js';
import { loadOrCreateLockerIdentity } from '../../src/crypto/lockerIdentity.js';
import { silentLogger } from '../../src/logger.js';
import { benchDataDir, benchLocker, prepareLocker } from './support/benchLocker.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { haveMosquitto, startMosquitto } from './support/mosquitto.js';
import { writeBacklog } from './support/outboxBacklog.js';
import { carrierCommands, eventStreamAttempts, httpFuzz, type CommandLoadResult, type FuzzResult, type StreamLoadResult } from './support/peakLoads.js';
import { type MemorySplit, type PeakProbeReport } from './peakProbeChild.js';
import { freePort, procMemory, sleep, startLockerdProcess, waitExit, type ProcMemory } from './support/processes.js';
import { type BenchOptions, type BenchResult, type BenchRow, progress } from './support/result.js';
import { mib } from './support/stats.js';
import { readUnitLaunch } from './support/systemdUnit.js';

/** 100 MB read as 100 MiB would be generous: the 95.4 MiB is 100 * 10^6 bytes. */
const TARGET_RSS = 100e6;
const SAMPLE_MS = 100;
const SETTLE_MS = 2_000;
/**
 * The drain beside the unit's flags: the same flags without the heap growing factor, which
 * decides how much garbage (promoted row Buffers and packets) waits for a full GC.
 */
const XP_FLAG = '--heap-growing-percent';
/** Drains under each set of flags, alternating. */
const DRAIN_ROUNDS = 2;

/** NODE_OPTIONS without the flags named `prefix`. */
export function withoutFlag(nodeOptions: string, prefix: string): string {
  return nodeOptions
    .split(/\s+/)
    .filter((f) => f && !f.startsWith(prefix))
    .join(' ');
}

/** The launch without the flag named `prefix`, wherever the unit puts it. */
function launchWithout(l: Launch, prefix: string): Launch {
  const env = { ...l.env };
  if (env.NODE_OPTIONS !== undefined) env.NODE_OPTIONS = withoutFlag(env.NODE_OPTIONS, prefix);
  return { env, nodeArgs: l.nodeArgs.filter((a) => !a.startsWith(prefix)) };
}

/** How the systemd unit starts node: its Environment= lines and the node flags of its ExecStart. */
export interface Launch {
  env: Record<string, string>;
  nodeArgs: string[];
}

export function unitLaunch(): Promise<Launch> {
  const { env, execArgs } = readUnitLaunch();
  return Promise.resolve({ env, nodeArgs: execArgs });
}

export function describeLaunch(l: Launch): string {
  return [...l.nodeArgs, ...Object.entries(l.env).filter(([k]) => k !== 'NODE_ENV').map(([k, v]) => `${k}=${v}`)].join(', ');
}

interface Sampled {
  /** After the "lockerd ready" line and /api/health, before the load. */
  atStart: ProcMemory;
  /** The largest sampled VmRSS and the split of that sample. */
  peak: ProcMemory;
  /** VmHWM at the end (the kernel's own peak, between samples too). */
  hwm: number;
  afterSettle: ProcMemory;
  samples: number;
  seconds: number;
}

interface LoadRun<T> {
  name: string;
  sampled: Sampled;
  detail: T;
  /** The same load against lockerd in a probe process: what the memory is made of. */
  probe?: PeakProbeReport;
}

const here = dirname(fileURLToPath(import.meta.url));

/** The same load against startLockerd inside a probe process (same environment), for the V8 heap / Buffer split. */
async function probed(name: string, template: string, config: Record<string, unknown>, work: string, launch: Launch, load: (p: { url: string; port: number; pid: number }) => Promise<unknown>): Promise<PeakProbeReport> {
  const dataDir = join(work, `probe-${name}`);
  await cp(template, dataDir, { recursive: true });
  const configFile = join(work, `probe-${name}.json`);
  await writeFile(configFile, JSON.stringify({ ...config, dataDir }, null, 2));
  const port = await freePort();
  const child = fork(join(here, 'peakProbeChild.js'), [JSON.stringify({ config: configFile, port, sampleMs: SAMPLE_MS })], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, ...launch.env }, execArgv: launch.nodeArgs });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.once('message', (m: { url?: string }) => (m.url ? resolve(m.url) : reject(new Error('probe: no url'))));
      child.once('exit', (code) => reject(new Error(`probe exited with ${String(code)}`)));
    });
    if (child.pid === undefined) throw new Error('probe: no pid');
    await load({ url, port, pid: child.pid });
    await sleep(SETTLE_MS);
    const report = await new Promise<PeakProbeReport>((resolve, reject) => {
      child.once('message', (m: { report?: PeakProbeReport }) => (m.report ? resolve(m.report) : reject(new Error('probe: no report'))));
      child.send({ cmd: 'report' });
    });
    progress(`peakRss: ${name} (probe): peak RSS ${mib(report.atPeak.rss)}: heap used ${mib(report.atPeak.heapUsed)} of ${mib(report.atPeak.heapTotal)}, external ${mib(report.atPeak.external)}`);
    return report;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await waitExit(child);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Starts a fresh lockerd on a copy of `template`, runs `load` against it while sampling its memory. */
async function measured<T>(name: string, template: string, config: Record<string, unknown>, work: string, launch: Launch, load: (p: { url: string; port: number; pid: number }) => Promise<T>): Promise<LoadRun<T>> {
  const dataDir = join(work, `run-${name}`);
  await cp(template, dataDir, { recursive: true });
  const configFile = join(work, `lockerd-${name}.json`);
  await writeFile(configFile, JSON.stringify({ ...config, dataDir }, null, 2));
  progress(`peakRss: ${name}: starting lockerd (${describeLaunch(launch)})`);
  const p = await startLockerdProcess(configFile, { sim: false, env: launch.env, nodeArgs: launch.nodeArgs, timeoutMs: 60_000 });
  try {
    await sleep(SETTLE_MS);
    const atStart = procMemory(p.pid);
    let peak = atStart;
    let samples = 0;
    const timer = setInterval(() => {
      try {
        const m = procMemory(p.pid);
        samples++;
        if (m.rss > peak.rss) peak = m;
      } catch {
        // the process is gone; the load will say so
      }
    }, SAMPLE_MS);
    const t0 = performance.now();
    let detail: T;
    try {
      detail = await load({ url: p.url, port: Number(new URL(p.url).port), pid: p.pid });
      await sleep(SETTLE_MS);
    } finally {
      clearInterval(timer);
    }
    const afterSettle = procMemory(p.pid);
    const hwm = Math.max(afterSettle.hwm, peak.rss);
    const sampled = { atStart, peak, hwm, afterSettle, samples, seconds: (performance.now() - t0) / 1000 };
    progress(`peakRss: ${name}: start ${mib(atStart.rss)}, peak ${mib(hwm)} (sampled ${mib(peak.rss)}), after ${mib(afterSettle.rss)}`);
    return { name, sampled, detail };
  } finally {
    await p.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function unsentOf(health: unknown): number {
  const streams = (health as { mqtt?: { publisher?: { streams?: { unsent?: number }[] } } }).mqtt?.publisher?.streams ?? [];
  return streams.reduce((n, st) => n + (st.unsent ?? 0), 0);
}

interface DrainDetail {
  before: number;
  after: number;
  seconds: number;
}

async function drain(url: string, maxSeconds: number): Promise<DrainDetail> {
  const unsent = async (): Promise<number> => unsentOf((await (await fetch(`${url}/api/health`)).json()) as unknown);
  const t0 = performance.now();
  const before = await unsent();
  let after = before;
  while (after > 0 && performance.now() - t0 < maxSeconds * 1000) {
    await sleep(500);
    after = await unsent();
  }
  return { before, after, seconds: (performance.now() - t0) / 1000 };
}

function skipped<T>(name: string): LoadRun<T> {
  const zero: ProcMemory = { rss: 0, hwm: 0, anon: 0, file: 0, shmem: 0 };
  const detail = { before: 0, after: 0, seconds: 0, published: 0, publishSeconds: 0, mix: {}, replies: {}, attempts: 0, held: 0, abandoned: 0, answers: {}, openAtEnd: 0, sent: {} };
  return { name: `${name} (not run)`, sampled: { atStart: zero, peak: zero, hwm: 0, afterSettle: zero, samples: 0, seconds: 0 }, detail: detail as unknown as T };
}

function splitRow(name: string, m: MemorySplit): string {
  return `| ${name} | ${mib(m.rss)} | ${mib(m.heapUsed)} / ${mib(m.heapTotal)} | ${mib(m.newSpace)} | ${mib(m.oldSpaces)} | ${mib(m.external)} (${mib(m.arrayBuffers)}) | ${mib(m.rss - m.heapTotal - m.external)} |`;
}

function peakAndTime(r: LoadRun<DrainDetail>): string {
  return `${mib(r.sampled.hwm)} (drained in ${r.detail.seconds.toFixed(1)} s)`;
}

function tally(r: Record<string, number>): string {
  return Object.entries(r)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
    .join(', ');
}

export async function runPeakRss(o: BenchOptions): Promise<BenchResult> {
  if (!haveMosquitto()) throw new Error('peakRss needs mosquitto');
  const events = Number(process.env.PEAK_RSS_EVENTS ?? (o.quick ? 10_000 : 100_000));
  const commands = o.quick ? 2_000 : 10_000;
  const streamAttempts = o.quick ? 400 : 2_000;
  const fuzzSeconds = o.quick ? 8 : 30;
  const idleSeconds = o.quick ? 3 : 10;
  const work = await benchDataDir('peak');
  const template = join(work, 'template');
  const drainTemplate = join(work, 'template-backlog');
  const machine = machineInfo(work);
  const unit = await unitLaunch();
  const broker = await startMosquitto(work);
  try {
    const demo = await benchLocker(template, { logLevel: 'info', mqttUrl: broker.url });
    const ids = demo.config.layout.compartments.map((c) => c.id);
    await prepareLocker(demo.config, { total: 0, announced: 0, storedIn: [], historicCompartments: ids, outbox: 0 });
    // The drain's folder: the same locker with a backlog signed at append with its own key, as lockerd writes it.
    await cp(template, drainTemplate, { recursive: true });
    const identity = await loadOrCreateLockerIdentity(drainTemplate, { random: seededRandom('peak-identity'), logger: silentLogger() });
    const sealer = envelopeSealer(demo.config.locker.id, ed25519Signer(identity.signingKey, identity.signingPublicJwk.kid ?? ''));
    const carriers = demo.config.carriers.flatMap((c) => (c.encryptionKey ? [{ id: c.id, encryptionKey: c.encryptionKey }] : []));
    progress(`peakRss: writing a backlog of ${events.toLocaleString('en')} signed events`);
    await writeBacklog({ file: join(drainTemplate, 'lockerd.db'), events, carriers, sealer });
    const config = { ...demo.config, demo: { revealCodes: false } };
    const lockerId = demo.config.locker.id;

    type Load<T> = (p: { url: string; port: number; pid: number }) => Promise<T>;
    // PEAK_RSS_LOADS=drain,fuzz (development): only those loads run; the others report zeros.
    const only = process.env.PEAK_RSS_LOADS?.split(',');
    const both = async <T>(name: string, tpl: string, load: Load<T>): Promise<LoadRun<T>> => {
      if (only && name !== 'idle' && !only.includes(name)) return skipped<T>(name);
      const run = await measured(name, tpl, config, work, unit, load);
      if (!o.quick || process.env.PEAK_RSS_PROBE === '1') run.probe = await probed(name, tpl, config, work, unit, load);
      return run;
    };
    const idle = await both('idle', template, async () => {
      await sleep(idleSeconds * 1000);
      return {};
    });
    const drainLoad: Load<DrainDetail> = (p) => drain(p.url, o.quick ? 60 : 300);
    const drained = await both('drain', drainTemplate, drainLoad);
    // Side by side, rounds alternating: the unit's flags without the heap growing factor.
    const xp = launchWithout(unit, XP_FLAG);
    const xpLabel = `the unit's flags without ${XP_FLAG}`;
    const drainRounds: { unit: LoadRun<DrainDetail>[]; xp: LoadRun<DrainDetail>[] } = { unit: [drained], xp: [] };
    const onlyDrain = !only || only.includes('drain');
    for (let round = 0; onlyDrain && round < DRAIN_ROUNDS; round++) {
      drainRounds.xp.push(await measured(`drain-without-growing-${round + 1}`, drainTemplate, config, work, xp, drainLoad));
      if (round + 1 < DRAIN_ROUNDS) drainRounds.unit.push(await measured(`drain-${round + 2}`, drainTemplate, config, work, unit, drainLoad));
    }
    const idleXp = onlyDrain ? await measured('idle-without-growing', template, config, work, xp, () => sleep(idleSeconds * 1000)) : undefined;
    const senders = demo.config.carriers.flatMap((c) => {
      const k = demo.keys.carriers[c.id];
      const kid = c.signingKeys[0]?.kid;
      return k ? [{ carrier: c.id, signing: k.signing, ...(kid ? { kid } : {}) }] : [];
    });
    const cmds = await both<CommandLoadResult>('commands', template, () =>
      carrierCommands({ url: broker.url, locker: lockerId, senders, count: commands, random: seededRandom('peak-commands'), quietMs: 3_000, maxWaitMs: 60_000 }),
    );
    const sse = await both<StreamLoadResult>('streams', template, (p) =>
      eventStreamAttempts({ port: p.port, attempts: streamAttempts, wave: 100, holdMs: 3_000, random: seededRandom('peak-streams') }),
    );
    const fuzz = await both<FuzzResult>('fuzz', template, (p) => httpFuzz({ port: p.port, seconds: fuzzSeconds, workers: 8, random: seededRandom('peak-fuzz') }));

    const unitLabel = describeLaunch(unit);
    const verdictOf = (r: LoadRun<unknown>): BenchRow['verdict'] => (r.sampled.hwm <= TARGET_RSS ? 'met' : 'missed');
    const missBy = (r: LoadRun<unknown>): string => (r.sampled.hwm > TARGET_RSS ? `; missed by ${mib(r.sampled.hwm - TARGET_RSS)}` : '');
    const peakOf = (r: LoadRun<unknown>): string => `peak ${mib(r.sampled.hwm)} (idle ${mib(idle.sampled.hwm)} in the same run; anon ${mib(r.sampled.peak.anon)}, file-backed ${mib(r.sampled.peak.file)} at the largest sample)${missBy(r)}`;
    const how = `a fresh lockerd child per load, started as the systemd unit starts it (${unitLabel}), connected to a local Mosquitto; VmRSS every ${SAMPLE_MS} ms and VmHWM at the end; 100 MB read as 100 * 10^6 bytes (95.4 MiB)`;
    const worstDrain = drainRounds.unit.reduce((a, b) => (b.sampled.hwm > a.sampled.hwm ? b : a));
    const rows: BenchRow[] = [
      {
        target: `peak RSS <= 100 MB while a backlog of ${events.toLocaleString('en')} events drains`,
        measured: `${peakOf(worstDrain)} (the higher of ${drainRounds.unit.length} rounds: ${drainRounds.unit.map((r) => mib(r.sampled.hwm)).join(', ')}); ${(worstDrain.detail.before - worstDrain.detail.after).toLocaleString('en')} events drained in ${worstDrain.detail.seconds.toFixed(1)} s`,
        verdict: verdictOf(worstDrain),
        how,
      },
      ...(drainRounds.xp.length
        ? [
            {
              target: `(side by side: the same drain with ${xpLabel})`,
              measured:
                `peaks ${drainRounds.xp.map(peakAndTime).join(', ')} against ${drainRounds.unit.map(peakAndTime).join(', ')} with the unit's flags (rounds alternating; drain time by /api/health every 0.5 s); ` +
                `idle there ${idleXp ? mib(idleXp.sampled.hwm) : '-'} against ${mib(idle.sampled.hwm)}`,
              verdict: 'info' as const,
              how: `${how}; there: ${describeLaunch(xp)}`,
            },
          ]
        : []),
      {
        target: `peak RSS <= 100 MB under ${commands.toLocaleString('en')} carrier commands over MQTT`,
        measured: `${peakOf(cmds)}; published in ${cmds.detail.publishSeconds.toFixed(1)} s; replies: ${tally(cmds.detail.replies) || 'none'}`,
        verdict: verdictOf(cmds),
        how: `${how}; mix: ${tally(cmds.detail.mix)}`,
      },
      {
        target: `peak RSS <= 100 MB under ${streamAttempts.toLocaleString('en')} event-stream connection attempts`,
        measured: `${peakOf(sse)}; held ${sse.detail.held}: ${tally(sse.detail.answers)}; abandoned ${sse.detail.abandoned}`,
        verdict: verdictOf(sse),
        how: `${how}; waves of 100, every second attempt held, the others abandoned before, during or right after the request`,
      },
      {
        target: `peak RSS <= 100 MB under an HTTP fuzz of ${fuzzSeconds} s`,
        measured: `${peakOf(fuzz)}; answers: ${tally(fuzz.detail.answers)}`,
        verdict: verdictOf(fuzz),
        how: `${how}; 8 workers, attacks: ${tally(fuzz.detail.sent)}`,
      },
    ];
    const all = [idle, ...(idleXp ? [idleXp] : []), ...drainRounds.unit, ...drainRounds.xp, cmds, sse, fuzz] as LoadRun<unknown>[];
    const details = [
      'Each load against its own fresh lockerd child (same data folder copied, same broker), in this order, in one run. Figures in MiB; the target is 100 MB = 95.4 MiB.',
      '',
      '| load | RSS before the load | peak (VmHWM) | largest sample: anon / file-backed | RSS 2 s after | verdict |',
      '|---|---|---|---|---|---|',
      ...all.map((r) => `| ${r.name} | ${mib(r.sampled.atStart.rss)} | ${mib(r.sampled.hwm)} | ${mib(r.sampled.peak.anon)} / ${mib(r.sampled.peak.file)} | ${mib(r.sampled.afterSettle.rss)} | ${r === idle ? 'baseline' : verdictOf(r)}${missBy(r)} |`),
      '',
      'What the memory is made of at the peak: the same load against lockerd started in a probe process (startLockerd, same configuration and environment), ' +
        'process.memoryUsage() and the V8 heap spaces sampled every 100 ms; the row is the sample with the largest RSS.',
      '',
      '| load | RSS | V8 heap used / committed | of it young generation | old spaces | external (Buffers) | rest (code, SQLite, malloc, stacks) |',
      '|---|---|---|---|---|---|---|',
      ...all.flatMap((r) => (r.probe ? [splitRow(r.name, r.probe.atPeak)] : [])),
      '',
      `Commands: ${tally(cmds.detail.mix)}; replies seen: ${tally(cmds.detail.replies) || 'none'}.`,
      `Event streams: ${sse.detail.attempts} attempts, ${sse.detail.held} held (${tally(sse.detail.answers)}), ${sse.detail.abandoned} abandoned; ${sse.detail.openAtEnd} streams open at the end of the hold.`,
      `HTTP fuzz: ${fuzz.detail.seconds.toFixed(1)} s; sent ${tally(fuzz.detail.sent)}; answers ${tally(fuzz.detail.answers)}.`,
    ];
    return {
      name: 'peakRss',
      title: 'Peak RSS under load (drain, carrier commands, event streams, HTTP fuzz)',
      rows,
      details,
      machine,
      params: { events, commands, streamAttempts, fuzzSeconds, idleSeconds, unit: unitLabel, machine: describeMachine(machine) },
      data: Object.fromEntries(all.map((r) => [r.name, { ...r.sampled, detail: r.detail, ...(r.probe ? { probe: r.probe } : {}) }])),
      quick: o.quick,
    };
  } finally {
    await broker.stop();
    await rm(work, { recursive: true, force: true });
  }
}
