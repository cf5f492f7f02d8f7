// `lockerd status`: one screen of health for someone standing at the locker. It reads the
// running lockerd's /metrics (loopback), or, when nothing answers there, the database read-only
// (door cycles, outbox backlog, and the figures of the last health report), and says which.
import { statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { LockerConfig } from '../config/schema.js';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { SIDECAR_SUFFIXES } from '../store/database.js';
import { Outbox, streamOf } from '../store/outbox.js';
import type { BacklogFigures, HealthFigures } from './lockerMetrics.js';

/** What the screen shows; every field optional where one source lacks it. */
export interface LockerStatus {
  lockerId: string;
  /** 'metrics': from the running lockerd; 'database': lockerd did not answer. */
  source: 'metrics' | 'database';
  /** The URL or database path read, and why the database (when it is). */
  from: string;
  note?: string;
  version?: string;
  uptimeS?: number;
  /** When the figures were taken (the last health report, from the database). */
  reportedAt?: number;
  transactions: Record<string, number>;
  doorOpen?: { count: number; meanMs: number };
  doorJams?: number;
  busErrors: Record<string, number>;
  silentBoards: string[];
  busesDisconnected: string[];
  scanner?: { state: string; reads: number; rejected: number };
  outbox: Record<string, BacklogFigures>;
  mqtt?: { connected: boolean; connects: number } | null;
  diskFreeBytes?: number | null;
  databaseBytes?: number;
  rssBytes?: number;
  loopDelayP99Ms?: number;
  doorCycles: Record<string, [number, number]>;
}

const MAX_SCRAPE_BYTES = 4 * 1024 * 1024;

export interface StatusOptions {
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export async function readLockerStatus(config: LockerConfig, o: StatusOptions = {}): Promise<LockerStatus> {
  const port = config.metrics.port;
  let note: string;
  if (port === null) note = 'the metrics listener is off (metrics.port is null)';
  else if (port === 0) note = 'metrics.port is 0 (a free port chosen at start), so there is no fixed address to ask';
  else {
    const host = config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host;
    const url = `http://${host}:${port}/metrics`;
    try {
      const text = await scrape(url, o);
      return { ...fromMetricsText(text), lockerId: config.locker.id, source: 'metrics', from: url };
    } catch (e) {
      const cause = e instanceof Error ? ((e.cause as { code?: unknown } | undefined)?.code ?? e.message) : String(e);
      note = `lockerd does not answer on ${url} (${String(cause)}): it is probably not running`;
    }
  }
  return { ...(await fromDatabase(config)), note };
}

async function scrape(url: string, o: StatusOptions): Promise<string> {
  const res = await (o.fetch ?? fetch)(url, { signal: AbortSignal.timeout(o.timeoutMs ?? 2_000), redirect: 'error' });
  if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? 0);
  if (length > MAX_SCRAPE_BYTES) throw new Error('the answer is too large');
  const text = await res.text();
  if (text.length > MAX_SCRAPE_BYTES) throw new Error('the answer is too large');
  return text;
}

// ---------------------------------------------------------------- from /metrics

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments and malformed lines skipped). */
export function parsePromText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = (l[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1] ?? '', labels, value });
  }
  return out;
}

function fromMetricsText(text: string): Omit<LockerStatus, 'lockerId' | 'source' | 'from'> {
  const samples = parsePromText(text);
  const all = (name: string) => samples.filter((s) => s.name === name);
  const one = (name: string, labels: Record<string, string> = {}) => all(name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  const transactions: Record<string, number> = {};
  for (const s of all('lockerd_transactions_total')) if (s.value > 0) transactions[`${s.labels.kind}/${s.labels.outcome}`] = s.value;
  const busErrors: Record<string, number> = {};
  for (const s of all('lockerd_bus_errors_total')) if (s.value > 0) busErrors[`${s.labels.bus}/${s.labels.board}`] = s.value;
  const outbox: Record<string, BacklogFigures> = {};
  for (const s of all('lockerd_outbox_backlog')) {
    const stream = s.labels.stream ?? '?';
    const b = (outbox[stream] ??= { unsent: 0, unacked: 0 });
    if (s.labels.state === 'unsent') b.unsent = s.value;
    if (s.labels.state === 'unacked') b.unacked = s.value;
  }
  const doorCycles: Record<string, [number, number]> = {};
  for (const s of all('lockerd_door_cycles')) {
    const c = (doorCycles[s.labels.compartment ?? '?'] ??= [0, 0]);
    if (s.labels.event === 'open') c[0] = s.value;
    if (s.labels.event === 'unlock') c[1] = s.value;
  }
  const latencyCount = one('lockerd_door_open_latency_seconds_count') ?? 0;
  const latencySum = one('lockerd_door_open_latency_seconds_sum') ?? 0;
  const scannerConnected = one('lockerd_scanner_connected');
  const mqttConnected = one('lockerd_mqtt_connected');
  const version = all('lockerd_info')[0]?.labels.version;
  const uptime = one('lockerd_uptime_seconds');
  const rss = one('lockerd_resident_memory_bytes');
  const db = one('lockerd_database_bytes');
  const loop = one('lockerd_event_loop_delay_seconds', { quantile: '0.99' });
  return {
    ...(version ? { version } : {}),
    ...(uptime !== undefined ? { uptimeS: uptime } : {}),
    transactions,
    doorOpen: { count: latencyCount, meanMs: latencyCount ? Math.round((latencySum / latencyCount) * 1000) : 0 },
    doorJams: all('lockerd_door_jams_total').reduce((n, s) => n + s.value, 0),
    busErrors,
    silentBoards: all('lockerd_board_silent')
      .filter((s) => s.value === 1)
      .map((s) => `${s.labels.bus}/${s.labels.board}`),
    busesDisconnected: all('lockerd_bus_connected')
      .filter((s) => s.value === 0)
      .map((s) => s.labels.bus ?? '?'),
    ...(scannerConnected !== undefined
      ? { scanner: { state: scannerConnected ? 'connected' : 'disconnected', reads: one('lockerd_scanner_reads_total', { result: 'ok' }) ?? 0, rejected: one('lockerd_scanner_reads_total', { result: 'rejected' }) ?? 0 } }
      : {}),
    outbox,
    mqtt: mqttConnected === undefined ? null : { connected: mqttConnected === 1, connects: one('lockerd_mqtt_connects') ?? 0 },
    diskFreeBytes: one('lockerd_disk_free_bytes') ?? null,
    ...(db !== undefined ? { databaseBytes: db } : {}),
    ...(rss !== undefined ? { rssBytes: rss } : {}),
    ...(loop !== undefined ? { loopDelayP99Ms: Math.round(loop * 1000) } : {}),
    doorCycles,
  };
}

// ---------------------------------------------------------------- from the database

async function fromDatabase(config: LockerConfig): Promise<LockerStatus> {
  const path = join(config.dataDir, 'lockerd.db');
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new LockerError(ErrorCodes.STATUS_UNAVAILABLE, `lockerd does not answer and its database ${path} cannot be read: ${(e as Error).message} (run as the lockerd user, or start lockerd)`, { path });
  }
  try {
    const tables = new Set(db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name));
    const doorCycles: Record<string, [number, number]> = {};
    if (tables.has('door_cycles'))
      for (const r of db.prepare<[], { compartment_id: string; opens: number; unlocks: number }>('SELECT compartment_id, opens, unlocks FROM door_cycles ORDER BY compartment_id').all()) doorCycles[r.compartment_id] = [r.opens, r.unlocks];
    const outbox: Record<string, BacklogFigures> = {};
    const rows = new Outbox(db);
    for (const r of rows.counts()) outbox[r.stream] = { unsent: r.unsent, unacked: r.unacked };
    const last = rows.lastOfType(streamOf(null), 'health');
    const report = last ? (JSON.parse(last.data) as Partial<HealthFigures>) : undefined;
    let diskFreeBytes: number | null = null;
    try {
      const s = await statfs(config.dataDir);
      diskFreeBytes = s.bavail * s.bsize;
    } catch {
      // unknown
    }
    let databaseBytes = 0;
    for (const suffix of ['', ...SIDECAR_SUFFIXES]) {
      try {
        databaseBytes += statSync(`${path}${suffix}`).size;
      } catch {
        // absent
      }
    }
    return {
      lockerId: config.locker.id,
      source: 'database',
      from: path,
      ...(last ? { reportedAt: last.ts } : {}),
      ...(report?.version ? { version: report.version } : {}),
      transactions: report?.transactions ?? {},
      ...(report?.doorOpenMs ? { doorOpen: { count: report.doorOpenMs.count, meanMs: report.doorOpenMs.mean } } : {}),
      ...(report?.doorJams !== undefined ? { doorJams: report.doorJams } : {}),
      busErrors: report?.busErrors ?? {},
      silentBoards: report?.silentBoards ?? [],
      busesDisconnected: report?.busesDisconnected ?? [],
      ...(report?.scanner ? { scanner: report.scanner } : {}),
      outbox,
      ...(report?.mqtt !== undefined ? { mqtt: report.mqtt } : {}),
      diskFreeBytes,
      databaseBytes,
      doorCycles,
    };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------- the screen

const MOST_USED = 6;

export function renderLockerStatus(s: LockerStatus, now: number): string[] {
  const lines: string[] = [];
  if (s.source === 'metrics') lines.push(`lockerd ${s.lockerId}: running${s.version ? ` (version ${s.version}` : ''}${s.uptimeS !== undefined ? `, up ${duration(s.uptimeS)})` : s.version ? ')' : ''}`, `  read from ${s.from}`);
  else {
    lines.push(`lockerd ${s.lockerId}: not answering; read from the database (read-only)`, `  ${s.from}`);
    if (s.note) lines.push(`  ${s.note}`);
    lines.push(s.reportedAt !== undefined ? `  figures of the last health report, ${duration(Math.max(0, Math.round((now - s.reportedAt) / 1000)))} ago (${new Date(s.reportedAt).toISOString()})` : '  no health report stored yet: only door cycles, outbox and disk below');
  }
  const live = s.source === 'metrics' || s.reportedAt !== undefined;
  const tx = Object.entries(s.transactions);
  if (live) pushLive(lines, s, tx);
  const streams = Object.entries(s.outbox);
  lines.push(`outbox:         ${streams.length ? streams.map(([k, b]) => `${k} ${b.unsent} unsent/${b.unacked} unacked`).join(', ') : 'empty'}`);
  const host = [
    s.diskFreeBytes !== undefined && s.diskFreeBytes !== null ? `disk free ${bytes(s.diskFreeBytes)}` : 'disk free unknown',
    ...(s.databaseBytes !== undefined ? [`database ${bytes(s.databaseBytes)}`] : []),
    ...(s.rssBytes !== undefined ? [`memory ${bytes(s.rssBytes)}`] : []),
    ...(s.loopDelayP99Ms !== undefined ? [`event loop p99 ${s.loopDelayP99Ms} ms`] : []),
  ];
  lines.push(`host:           ${host.join(', ')}`);
  const cycles = Object.entries(s.doorCycles).sort(([a, x], [b, y]) => y[1] - x[1] || y[0] - x[0] || a.localeCompare(b));
  const used = cycles.filter(([, [opens, unlocks]]) => opens + unlocks > 0);
  const shown = used.slice(0, MOST_USED);
  lines.push(
    `door cycles:    ${shown.length ? `${shown.map(([c, [opens, unlocks]]) => `${c} ${opens}/${unlocks}`).join(', ')} (opens/unlocks${used.length > MOST_USED ? `, most used ${MOST_USED} of ${used.length}` : ''})` : 'none counted yet'}`,
  );
  return lines;
}

function pushLive(lines: string[], s: LockerStatus, tx: [string, number][]): void {
  lines.push(`transactions:   ${tx.length ? tx.map(([k, n]) => `${k} ${n}`).join(', ') : 'none'}${s.source === 'metrics' ? ' (since start)' : ''}`);
  if (s.doorOpen) lines.push(`doors:          ${s.doorOpen.count} opened after an unlock, mean ${s.doorOpen.meanMs} ms; ${s.doorJams ?? 0} jammed`);
  const errors = Object.entries(s.busErrors);
  lines.push(`buses:          ${s.busesDisconnected.length ? `DISCONNECTED ${s.busesDisconnected.join(', ')}; ` : ''}${s.silentBoards.length ? `SILENT boards ${s.silentBoards.join(', ')}; ` : 'no silent board; '}${errors.length ? `errors ${errors.map(([b, n]) => `${b}: ${n}`).join(', ')}` : 'no errors'}`);
  if (s.scanner) lines.push(`scanner:        ${s.scanner.state}, ${s.scanner.reads} reads, ${s.scanner.rejected} rejected`);
  else lines.push('scanner:        absent');
  lines.push(`mqtt:           ${s.mqtt === undefined ? 'unknown' : s.mqtt === null ? 'not configured' : `${s.mqtt.connected ? 'connected' : 'DISCONNECTED'} (${s.mqtt.connects} connects)`}`);
}

function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} B`;
}

function duration(s: number): string {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}
