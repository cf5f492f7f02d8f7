// Disk per deposit and per pickup: bytes written and fsyncs.
//
// A child process (transactionsChild.ts) runs the real lockerd on simulated CU48 boards over a
// database prepared with 100,000 parcel rows, and does N courier deposits, then N consumer
// pickups, each through to the door being seen shut. Three ways of looking at it:
//  1. strace -f -C -y: every write/pwrite64/writev and fsync/fdatasync with the file behind the
//     descriptor, cut into phases by markers the child writes to /dev/null. Only lockerd's own
//     files count toward the target (database, WAL, its folder); the simulator's world file and
//     the log lines on stdout are shown apart.
//     Twice: with no broker configured, and connected to a local Mosquitto (lockerd then publishes
//     each event and records its PUBACK, which is part of what a transaction costs in service).
//  2. The -C summary (whole process) of the N run minus a run with no measured transactions.
//  3. In-process, no strace: the WAL is read after each phase (frames, commit frames, the pages
//     each transaction wrote), then checkpointed to see what the database file receives.
// Plus an experiment: the same in-process estimate on databases created with smaller pages.
import { execFileSync, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDataDir, benchLocker, prepareLocker, type BenchLockerOptions } from './support/benchLocker.js';
import { describeMachine, machineInfo } from './support/machine.js';
import { type BenchOptions, type BenchResult, type BenchRow, progress } from './support/result.js';
import { describeLatency, fixed, kib, ms } from './support/stats.js';
import { haveMosquitto, startMosquitto } from './support/mosquitto.js';
import { lockerdKinds, parseStrace, sum, type PhaseIo, type StraceLog } from './support/straceLog.js';
import { type TransactionsChildArgs, type TransactionsChildResult, type WalPhase } from './transactionsChild.js';

const TARGET_FSYNCS = 2;
const TARGET_BYTES = 32 * 1024;
const AUTOCHECKPOINT_PAGES = 1000;
const here = dirname(fileURLToPath(import.meta.url));
const lockerOptions: BenchLockerOptions = { boards: 4, energiseMs: 50, fastPollIntervalMs: 20, logLevel: 'info' };
const traced = ['fsync', 'fdatasync', 'sync_file_range', 'pwrite64', 'write', 'writev', 'pwritev', 'pwritev2'];

function haveStrace(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface ChildRun {
  result: TransactionsChildResult;
  trace?: StraceLog;
  dataDir: string;
}

interface ChildOptions {
  mode: 'trace' | 'wal';
  n: number;
  strace: boolean;
  pageSize?: number;
  /** Run connected to this MQTT broker. */
  mqttUrl?: string;
}

async function runChild(o: ChildOptions): Promise<ChildRun> {
  const { mode, n } = o;
  const withStrace = o.strace;
  const dataDir = await benchDataDir('disk');
  const work = await benchDataDir('disk-work');
  try {
    const locker: BenchLockerOptions = { ...lockerOptions, ...(o.mqttUrl ? { mqttUrl: o.mqttUrl } : {}) };
    const demo = await benchLocker(dataDir, locker);
    const ids = demo.config.layout.compartments.map((c) => c.id);
    await prepareLocker(demo.config, { total: 100_000, announced: 10_000, storedIn: [], historicCompartments: ids, outbox: 0 }, o.pageSize);
    const args: TransactionsChildArgs = { dataDir, n, mode, out: join(work, 'result.json'), locker };
    const node = [...(mode === 'wal' ? ['--expose-gc'] : []), join(here, 'transactionsChild.js'), JSON.stringify(args)];
    const traceFile = join(work, 'strace.log');
    const [cmd, argv] = withStrace
      ? ['strace', ['-f', '-C', '-y', '-qq', '-s', '40', '--seccomp-bpf', '-e', `trace=${traced.join(',')}`, '-o', traceFile, process.execPath, ...node]]
      : [process.execPath, node];
    await new Promise<void>((resolve, reject) => {
      // stdout is a pipe, as under systemd/journald; the lines are read and dropped.
      const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.resume();
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`transactions child (${mode}) exited with ${String(code)}`))));
    });
    const result = JSON.parse(await readFile(args.out, 'utf8')) as TransactionsChildResult;
    const trace = withStrace ? parseStrace(await readFile(traceFile, 'utf8'), dataDir) : undefined;
    return { result, dataDir, ...(trace ? { trace } : {}) };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

interface PerTxn {
  fsyncs: number;
  bytes: number;
  walBytes: number;
  dbBytes: number;
  simulatorBytes: number;
  logBytes: number;
  writeCalls: number;
}

function perTxn(p: PhaseIo | undefined, n: number): PerTxn | undefined {
  if (!p || n === 0) return undefined;
  return {
    fsyncs: sum(p.syncs, lockerdKinds) / n,
    bytes: sum(p.bytes, lockerdKinds) / n,
    walBytes: p.bytes.wal / n,
    dbBytes: p.bytes.db / n,
    simulatorBytes: p.bytes.simulator / n,
    logBytes: p.bytes.log / n,
    writeCalls: p.writeCalls / n,
  };
}

interface WalEstimate {
  commits: number;
  fsyncs: number;
  walBytes: number;
  checkpointBytes: number;
  bytes: number;
  framesPerTxn: number;
}

function walEstimate(w: WalPhase | undefined, n: number): WalEstimate | undefined {
  if (!w || n === 0) return undefined;
  const framesPerTxn = w.wal.frames / n;
  const walBytes = w.wal.bytes / n;
  const checkpointBytes = (w.checkpointPages * w.wal.pageSize) / n;
  // synchronous=FULL: one WAL sync per commit; each automatic checkpoint syncs the WAL and the database file.
  const fsyncs = w.wal.commits / n + (2 * framesPerTxn) / AUTOCHECKPOINT_PAGES;
  return { commits: w.wal.commits / n, fsyncs, walBytes, checkpointBytes, bytes: walBytes + checkpointBytes, framesPerTxn };
}

function verdictOf(fsyncs: number, bytes: number): 'met' | 'missed' {
  return fsyncs <= TARGET_FSYNCS && bytes <= TARGET_BYTES ? 'met' : 'missed';
}

function describeTrace(t: PerTxn): string {
  return `${fixed(t.fsyncs)} fsyncs, ${kib(t.bytes)} written (WAL ${kib(t.walBytes)}, database file ${kib(t.dbBytes)} by checkpoints)`;
}

function describeEstimate(e: WalEstimate): string {
  return `${fixed(e.commits)} commits -> ${fixed(e.fsyncs)} fsyncs incl. checkpoints; ${kib(e.bytes)} (WAL ${kib(e.walBytes)} = ${fixed(e.framesPerTxn, 1)} page frames, checkpoint ${kib(e.checkpointBytes)})`;
}

export async function runDiskPerTransaction(o: BenchOptions): Promise<BenchResult> {
  const n = o.quick ? 20 : 150;
  const probe = await benchDataDir('disk-probe');
  const machine = machineInfo(probe);
  await rm(probe, { recursive: true, force: true });
  const strace = haveStrace();

  const mosquitto = haveMosquitto();
  progress(`diskPerTransaction: in-process WAL estimate, ${n} deposits + ${n} pickups`);
  const wal = await runChild({ mode: 'wal', n, strace: false });
  const small: { pageSize: number; deposit?: WalEstimate; pickup?: WalEstimate }[] = [];
  for (const pageSize of [1024, 2048]) {
    progress(`diskPerTransaction: experiment, database created with page_size ${pageSize}`);
    const r = await runChild({ mode: 'wal', n, strace: false, pageSize });
    small.push({ pageSize, deposit: walEstimate(r.result.deposits, n), pickup: walEstimate(r.result.pickups, n) });
  }
  let full: ChildRun | undefined;
  let base: ChildRun | undefined;
  let online: ChildRun | undefined;
  if (strace) {
    progress(`diskPerTransaction: under strace, ${n} deposits + ${n} pickups, no broker configured`);
    full = await runChild({ mode: 'trace', n, strace: true });
    progress('diskPerTransaction: under strace, no measured transactions (baseline)');
    base = await runChild({ mode: 'trace', n: 0, strace: true });
    if (mosquitto) {
      const brokerDir = await benchDataDir('disk-broker');
      const broker = await startMosquitto(brokerDir);
      try {
        progress(`diskPerTransaction: under strace, ${n} deposits + ${n} pickups, connected to Mosquitto`);
        online = await runChild({ mode: 'trace', n, strace: true, mqttUrl: broker.url });
      } finally {
        await broker.stop();
        await rm(brokerDir, { recursive: true, force: true });
      }
    }
  }
  const onlineDeposit = perTxn(online?.trace?.phases.get('deposits-begin'), n);
  const onlinePickup = perTxn(online?.trace?.phases.get('pickups-begin'), n);

  const depositEst = walEstimate(wal.result.deposits, n);
  const pickupEst = walEstimate(wal.result.pickups, n);
  const depositTrace = perTxn(full?.trace?.phases.get('deposits-begin'), n);
  const pickupTrace = perTxn(full?.trace?.phases.get('pickups-begin'), n);
  const shutdown = full?.trace?.phases.get('pickups-end');

  const rows: BenchRow[] = [];
  const how = (what: string): string =>
    `strace -f -C -y on a child lockerd (simulated CU48 boards, 100k parcel rows) doing ${n} ${what}; lockerd's database, WAL and data folder only, per transaction, checkpoints inside the phase included`;
  for (const [label, t, est, on] of [
    ['deposit', depositTrace, depositEst, onlineDeposit],
    ['pickup', pickupTrace, pickupEst, onlinePickup],
  ] as const) {
    if (on)
      rows.push({
        target: `disk per ${label}: <= 2 fsyncs, <= 32 KiB written (connected to an MQTT broker, as in service)`,
        measured: describeTrace(on),
        verdict: verdictOf(on.fsyncs, on.bytes),
        how: `${how(`${label}s`)}; lockerd publishes each event to a local Mosquitto and records its PUBACK (no consumer acknowledgements)`,
      });
    if (t) rows.push({ target: `disk per ${label}: <= 2 fsyncs, <= 32 KiB written${on ? ' (no broker configured)' : ''}`, measured: describeTrace(t), verdict: verdictOf(t.fsyncs, t.bytes), how: how(`${label}s`) });
    else if (est) rows.push({ target: `disk per ${label}: <= 2 fsyncs, <= 32 KiB written`, measured: `strace not installed; estimate: ${describeEstimate(est)}`, verdict: verdictOf(est.fsyncs, est.bytes), how: 'in-process WAL estimate only' });
    else rows.push({ target: `disk per ${label}: <= 2 fsyncs, <= 32 KiB written`, measured: 'not measured', verdict: 'not measured', how: '-' });
    if (est)
      rows.push({
        target: `(in-process estimate per ${label}, from the WAL and its commits)`,
        measured: describeEstimate(est),
        verdict: 'info',
        how: `checkpoints held back during the phase, WAL frames and commit frames counted; the pages lockerd's automatic checkpoint (every ${AUTOCHECKPOINT_PAGES} frames) would copy, and its 2 fsyncs, amortised`,
      });
  }
  const crossCheck: string[] = [];
  if (full?.trace && base?.trace) {
    const diff = (names: string[]): number => names.reduce((s, c) => s + ((full?.trace?.summary[c] ?? 0) - (base?.trace?.summary[c] ?? 0)), 0) / (2 * n);
    const syncs = diff(['fsync', 'fdatasync']);
    const writes = diff(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
    rows.push({
      target: '(strace -c cross-check, whole process, all files)',
      measured: `${fixed(syncs)} fsync+fdatasync and ${fixed(writes, 1)} write calls per transaction`,
      verdict: 'info',
      how: `summary counts of the ${n}+${n} run minus a run with none, divided by ${2 * n}; includes log lines and the simulator's world file`,
    });
    crossCheck.push(
      `strace summary (calls, whole process): ${Object.entries(full.trace.summary)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}; baseline without measured transactions: ${Object.entries(base.trace.summary)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}.`,
    );
  }
  for (const s of small) {
    if (s.deposit && s.pickup)
      rows.push({
        target: `(experiment: database created with page_size ${s.pageSize}; lockerd uses the default 4096)`,
        measured: `deposit ${fixed(s.deposit.fsyncs)} fsyncs, ${kib(s.deposit.bytes)}; pickup ${fixed(s.pickup.fsyncs)} fsyncs, ${kib(s.pickup.bytes)}`,
        verdict: 'info',
        how: 'same in-process WAL estimate on a database created with the smaller page size before migration',
      });
  }

  const details: string[] = [];
  details.push(
    'Per transaction, by file (strace, inside the phase):',
    '',
    '| | fsyncs | lockerd bytes | WAL | database file | write calls | not counted: simulator world file | not counted: log output (stdout) |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const [label, t] of [
    ['deposit, connected to a broker', onlineDeposit],
    ['pickup, connected to a broker', onlinePickup],
    ['deposit, no broker', depositTrace],
    ['pickup, no broker', pickupTrace],
  ] as const) {
    if (t) details.push(`| ${label} | ${fixed(t.fsyncs)} | ${kib(t.bytes)} | ${kib(t.walBytes)} | ${kib(t.dbBytes)} | ${fixed(t.writeCalls, 1)} | ${kib(t.simulatorBytes)} | ${kib(t.logBytes)} |`);
  }
  if (shutdown) {
    details.push(
      '',
      `At shutdown (final checkpoint when the database closes, after all ${2 * n} transactions): ${sum(shutdown.syncs, lockerdKinds)} fsyncs, ` +
        `${kib(sum(shutdown.bytes, lockerdKinds))} written; ${fixed(sum(shutdown.syncs, lockerdKinds) / (2 * n), 3)} fsyncs and ${kib(sum(shutdown.bytes, lockerdKinds) / (2 * n))} per transaction if amortised (not in the rows above).`,
    );
  }
  details.push(...(crossCheck.length ? ['', ...crossCheck] : []));
  for (const [label, w] of [
    ['deposit', wal.result.deposits],
    ['pickup', wal.result.pickups],
  ] as const) {
    if (!w) continue;
    details.push(
      '',
      `What each ${label} transaction writes (in-process, ${n} ${label}s: ${w.wal.commits} commits, ${w.wal.frames} WAL frames of ${w.wal.pageSize} + 24 bytes, ${w.wal.distinctPages} distinct pages; automatic checkpoints would copy ${w.checkpointPages} pages):`,
      '',
      '| commits | pages each | tables and indexes written |',
      '|---|---|---|',
      ...w.commitKinds.slice(0, 8).map((k) => `| ${k.count} | ${k.pages} | ${k.objects} |`),
    );
  }
  const r = wal.result;
  details.push('', 'Related figures from the same in-process run:', '');
  if (r.depositToUnlock) details.push(`- courier's deposit request -> unlock frame on the bus: ${describeLatency(r.depositToUnlock)} (line idle at the start)`);
  if (r.allocateMs !== undefined) details.push(`- \`allocate()\` over ${r.compartments} free compartments: ${ms(r.allocateMs)} per call`);
  if (r.heapPerPairBytes !== undefined)
    details.push(`- V8 heap still in use after GC, per deposit+pickup pair, over ${r.heapPairs ?? 0} more pairs once the code was warm: ${fixed(r.heapPerPairBytes / 1024, 2)} KiB (about 0 if nothing is kept)`);
  if (r.placementsHeld !== undefined) details.push(`- deposit transactions the Locker still holds in memory after ${2 + n + (r.heapPairs ?? 0)} finished deposits: ${r.placementsHeld}`);
  if (depositEst) {
    details.push(
      '',
      `What dominates: SQLite writes whole pages. A deposit makes ${fixed(depositEst.commits)} commits (the door-session record before the unlock, ` +
        `then parcel + audit + outbox event + session end when the door shuts) and each commit writes one ${wal.result.deposits?.wal.pageSize ?? 4096}-byte page per ` +
        `B-tree it touches (table and every index), so the WAL alone is ${kib(depositEst.walBytes)}; checkpoints then write those pages to the database file once more.`,
    );
  }
  return {
    name: 'diskPerTransaction',
    title: 'Disk per deposit and per pickup',
    rows,
    details,
    machine,
    params: {
      transactionsPerPhase: n,
      parcelRows: 100_000,
      compartments: wal.result.compartments,
      strace: strace ? 'yes' : 'not installed',
      mosquitto: mosquitto ? 'yes' : 'not installed',
      machine: describeMachine(machine),
    },
    quick: o.quick,
  };
}
