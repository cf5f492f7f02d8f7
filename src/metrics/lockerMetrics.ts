// The locker's figures for the operator, in one place: Prometheus metrics (prom-client, on a
// registry of its own: no global state) for the local /metrics endpoint, and the same figures
// in short form for the periodic `health` event on the operator stream.
//
// Every label value comes from the configuration or the layout in force (bus ids, board
// addresses, compartment ids, carriers' stream names) or from a fixed list in this file, never
// from what a stranger typed or sent: the label sets stay bounded.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LockBus, Scanner } from '../../hal/types.js';
import type { Clock } from '../../kernel/clock.js';
import type { LockerConfig } from '../config/schema.js';
import type { DoorController, DoorControllerEvent } from '../domain/doorController.js';
import type { EventRecorder, RecordSpec } from '../domain/eventRecorder.js';
import type { Db } from '../store/database.js';
import { Outbox } from '../store/outbox.js';
import type { DoorCycles } from './doorCycles.js';
import type { HostProbe, LoopDelay } from './hostProbe.js';

export const TRANSACTION_KINDS = ['deposit', 'dropoff', 'pickup', 'collect', 'remote_open'] as const;
export const TRANSACTION_OUTCOMES = ['ok', 'failed', 'jammed', 'cancelled', 'interrupted'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];
export type TransactionOutcome = (typeof TRANSACTION_OUTCOMES)[number];

/** Audit actions that end a transaction, and how they count. */
const FINAL_ACTIONS: Readonly<Record<string, readonly [TransactionKind, TransactionOutcome]>> = {
  'parcel.stored': ['deposit', 'ok'],
  'dropoff.dropped_off': ['dropoff', 'ok'],
  'parcel.picked_up': ['pickup', 'ok'],
  'parcel.retrieved': ['collect', 'ok'],
  'dropoff.collected': ['collect', 'ok'],
  'door.remote_open': ['remote_open', 'ok'],
  'deposit.cancelled': ['deposit', 'cancelled'],
  'dropoff.cancelled': ['dropoff', 'cancelled'],
  'pickup.failed': ['pickup', 'failed'],
  'collect.failed': ['collect', 'failed'],
  'remote_open.failed': ['remote_open', 'failed'],
  'deposit.interrupted': ['deposit', 'interrupted'],
  'dropoff.interrupted': ['dropoff', 'interrupted'],
  'pickup.interrupted': ['pickup', 'interrupted'],
  'collect.interrupted': ['collect', 'interrupted'],
  'remote_open.interrupted': ['remote_open', 'interrupted'],
};
/** Purposes whose transaction ends when the latch jams (a placement moves on to another door). */
const RETRIEVALS: ReadonlySet<string> = new Set(['pickup', 'collect', 'remote_open']);

/** Door open latency buckets, seconds: unlock frame out -> door seen open (includes the poll interval). */
const LATENCY_BUCKETS = [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

export interface SyncFigures {
  connected: boolean;
  connects: number;
}

export interface BacklogFigures {
  unsent: number;
  unacked: number;
}

/** The `data` of a `health` event (docs/protocol.md). */
export interface HealthFigures {
  version: string;
  uptimeS: number;
  /** "kind/outcome" -> count since start, non-zero entries only. */
  transactions: Record<string, number>;
  doorOpenMs: { count: number; mean: number; max: number };
  doorJams: number;
  /** "bus/board" -> status queries that got no or a garbled reply since start, non-zero only. */
  busErrors: Record<string, number>;
  silentBoards: string[];
  busesDisconnected: string[];
  scanner: { state: 'connected' | 'disconnected' | 'absent'; reads: number; rejected: number };
  /** Per stream ("op", "c/<carrier>"). */
  outbox: Record<string, BacklogFigures>;
  mqtt: SyncFigures | null;
  diskFreeBytes: number | null;
  databaseBytes: number;
  rssBytes: number;
  loopDelayMs: LoopDelay;
  /** Compartment -> [door openings, latch unlocks], since the locker was installed. */
  doorCycles: Record<string, [number, number]>;
}

export interface LockerMetricsOptions {
  config: Pick<LockerConfig, 'dataDir' | 'hardware' | 'locker' | 'mqtt'>;
  version: string;
  clock: Clock;
  db: Db;
  databasePath: string;
  doors: DoorController;
  recorder: EventRecorder;
  buses: ReadonlyMap<string, LockBus>;
  scanner?: Scanner;
  cycles: DoorCycles;
  host: HostProbe;
  /** Layout compartments in force (labels of the per-compartment metrics). */
  compartments: () => string[];
  sync?: () => SyncFigures | undefined;
}

export class LockerMetrics {
  readonly registry = new Registry();
  private readonly started: number;
  private readonly off: (() => void)[] = [];
  private readonly boards = new Map<string, number[]>();
  private readonly transactions = new Map<string, number>();
  private readonly busErrors = new Map<string, number>();
  private readonly doorKnown = new Map<string, boolean>();
  private readonly unlockAt = new Map<string, number>();
  private readonly lastPurpose = new Map<string, string>();
  private latency = { count: 0, sumMs: 0, maxMs: 0 };
  private jams = 0;
  private scans = { ok: 0, rejected: 0 };
  private readonly txCounter: Counter<'kind' | 'outcome'>;
  private readonly latencyHistogram: Histogram;
  private readonly busErrorCounter: Counter<'bus' | 'board'>;
  private readonly jamCounter: Counter<'compartment'>;
  private readonly scanCounter: Counter<'result'>;
  private readonly backlogStmt;

  constructor(private readonly o: LockerMetricsOptions) {
    this.started = o.clock.monotonic();
    for (const bus of o.config.hardware.buses) this.boards.set(bus.id, bus.protocol === 'gpio' ? [0] : bus.boards.map((b) => b.address));
    this.backlogStmt = new Outbox(o.db);
    const registers = [this.registry];
    // The collect callbacks run with `this` bound to their metric; they reach the figures through `self`.
    const self = { boards: this.boards, uptimeS: () => this.uptimeS(), backlog: () => this.backlog(), cycleCompartments: () => this.cycleCompartments() };

    new Gauge({ name: 'lockerd_info', help: 'Always 1; the labels name the locker and the running version.', labelNames: ['locker', 'version'], registers }).set({ locker: o.config.locker.id, version: o.version }, 1);
    new Gauge({
      name: 'lockerd_uptime_seconds',
      help: 'Seconds since this lockerd started.',
      registers,
      collect() {
        this.set(self.uptimeS());
      },
    });
    this.txCounter = new Counter({ name: 'lockerd_transactions_total', help: 'Finished transactions by kind and outcome since start.', labelNames: ['kind', 'outcome'], registers });
    for (const kind of TRANSACTION_KINDS) this.txCounter.inc({ kind, outcome: 'ok' }, 0);
    this.latencyHistogram = new Histogram({ name: 'lockerd_door_open_latency_seconds', help: 'Unlock frame sent -> door seen open.', buckets: LATENCY_BUCKETS, registers });
    this.jamCounter = new Counter({ name: 'lockerd_door_jams_total', help: 'Doors that did not open after their retries (latch jammed), by compartment.', labelNames: ['compartment'], registers });
    this.busErrorCounter = new Counter({ name: 'lockerd_bus_errors_total', help: 'Status queries with no reply or a garbled one, per board.', labelNames: ['bus', 'board'], registers });
    for (const [bus, boards] of this.boards) for (const board of boards) this.busErrorCounter.inc({ bus, board: String(board) }, 0);
    new Gauge({
      name: 'lockerd_board_silent',
      help: '1 while a board does not answer (after the configured misses).',
      labelNames: ['bus', 'board'],
      registers,
      collect() {
        for (const [bus, boards] of self.boards) {
          const silent = new Set(o.doors.silentBoards(bus));
          for (const board of boards) this.set({ bus, board: String(board) }, silent.has(board) ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'lockerd_bus_connected',
      help: '1 while the bus transport (serial port, TCP bridge) is open.',
      labelNames: ['bus'],
      registers,
      collect() {
        for (const bus of self.boards.keys()) this.set({ bus }, o.doors.busConnected(bus) ? 1 : 0);
      },
    });
    this.scanCounter = new Counter({ name: 'lockerd_scanner_reads_total', help: 'Scanner frames read (ok) and dropped (rejected: too long or not text).', labelNames: ['result'], registers });
    this.scanCounter.inc({ result: 'ok' }, 0);
    this.scanCounter.inc({ result: 'rejected' }, 0);
    const scanner = o.scanner;
    if (scanner)
      new Gauge({
        name: 'lockerd_scanner_connected',
        help: '1 while the scanner is connected, 0 while it is not; absent without a scanner.',
        registers,
        collect() {
          this.set(scanner.connected ? 1 : 0);
        },
      });
    new Gauge({
      name: 'lockerd_outbox_backlog',
      help: 'Outbox rows per stream: unsent (no PUBACK yet) and unacked (not acknowledged by the consumer).',
      labelNames: ['stream', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [stream, b] of Object.entries(self.backlog())) {
          this.set({ stream, state: 'unsent' }, b.unsent);
          this.set({ stream, state: 'unacked' }, b.unacked);
        }
      },
    });
    if (o.config.mqtt) {
      new Gauge({
        name: 'lockerd_mqtt_connected',
        help: '1 while connected to the broker, 0 while not; absent without an mqtt section.',
        registers,
        collect() {
          this.set(o.sync?.()?.connected ? 1 : 0);
        },
      });
      new Gauge({
        name: 'lockerd_mqtt_connects',
        help: 'Successful broker connections since start (a growing number means a flapping link).',
        registers,
        collect() {
          this.set(o.sync?.()?.connects ?? 0);
        },
      });
    }
    new Gauge({
      name: 'lockerd_disk_free_bytes',
      help: 'Bytes free for lockerd on the file system of the data folder.',
      registers,
      async collect() {
        const d = await o.host.disk(o.config.dataDir);
        if (d) this.set(d.free);
      },
    });
    new Gauge({
      name: 'lockerd_disk_size_bytes',
      help: 'Size of the file system of the data folder.',
      registers,
      async collect() {
        const d = await o.host.disk(o.config.dataDir);
        if (d) this.set(d.total);
      },
    });
    new Gauge({
      name: 'lockerd_database_bytes',
      help: 'The database file with its WAL, on disk.',
      registers,
      collect() {
        this.set(o.host.databaseBytes(o.databasePath));
      },
    });
    new Gauge({
      name: 'lockerd_resident_memory_bytes',
      help: 'Resident set size of the lockerd process.',
      registers,
      collect() {
        this.set(o.host.rssBytes());
      },
    });
    new Gauge({
      name: 'lockerd_event_loop_delay_seconds',
      help: 'Event-loop delay since the last health report (quantile 0.5, 0.99 and 1 = max).',
      labelNames: ['quantile'],
      registers,
      collect() {
        const d = o.host.loopDelay();
        this.set({ quantile: '0.5' }, d.p50 / 1000);
        this.set({ quantile: '0.99' }, d.p99 / 1000);
        this.set({ quantile: '1' }, d.max / 1000);
      },
    });
    new Gauge({
      name: 'lockerd_door_cycles',
      help: 'Door openings (event="open") and latch unlocks (event="unlock") per compartment since installation; persisted.',
      labelNames: ['compartment', 'event'],
      registers,
      collect() {
        this.reset();
        for (const compartment of self.cycleCompartments()) {
          const c = o.cycles.count(compartment);
          this.set({ compartment, event: 'open' }, c.opens);
          this.set({ compartment, event: 'unlock' }, c.unlocks);
        }
      },
    });

    this.off.push(o.doors.on((e) => this.onDoor(e)));
    this.off.push(o.recorder.onCommitted((spec) => this.onCommitted(spec)));
    for (const bus of o.buses.values())
      this.off.push(
        bus.on((e) => {
          if (e.type !== 'bus-error' || !this.boards.get(e.bus)?.includes(e.board)) return;
          const key = `${e.bus}/${e.board}`;
          this.busErrors.set(key, (this.busErrors.get(key) ?? 0) + 1);
          this.busErrorCounter.inc({ bus: e.bus, board: String(e.board) });
        }),
      );
    const offScanner = o.scanner?.on((e) => {
      if (e.type === 'scan') this.scans.ok++;
      else if (e.type === 'rejected') this.scans.rejected++;
      else return;
      this.scanCounter.inc({ result: e.type === 'scan' ? 'ok' : 'rejected' });
    });
    if (offScanner) this.off.push(offScanner);
  }

  stop(): void {
    for (const off of this.off.splice(0)) off();
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The short form for the `health` event. */
  async figures(): Promise<HealthFigures> {
    const disk = await this.o.host.disk(this.o.config.dataDir);
    const silentBoards: string[] = [];
    const busesDisconnected: string[] = [];
    for (const bus of this.boards.keys()) {
      for (const b of this.o.doors.silentBoards(bus)) silentBoards.push(`${bus}/${b}`);
      if (!this.o.doors.busConnected(bus)) busesDisconnected.push(bus);
    }
    const doorCycles: Record<string, [number, number]> = {};
    for (const c of this.cycleCompartments()) {
      const n = this.o.cycles.count(c);
      doorCycles[c] = [n.opens, n.unlocks];
    }
    const sync = this.o.sync?.();
    return {
      version: this.o.version,
      uptimeS: this.uptimeS(),
      transactions: Object.fromEntries([...this.transactions].filter(([, n]) => n > 0).sort(([a], [b]) => byCodeUnits(a, b))),
      doorOpenMs: { count: this.latency.count, mean: this.latency.count ? Math.round(this.latency.sumMs / this.latency.count) : 0, max: Math.round(this.latency.maxMs) },
      doorJams: this.jams,
      busErrors: Object.fromEntries([...this.busErrors].sort(([a], [b]) => byCodeUnits(a, b))),
      silentBoards,
      busesDisconnected,
      scanner: { state: this.o.scanner ? (this.o.scanner.connected ? 'connected' : 'disconnected') : 'absent', reads: this.scans.ok, rejected: this.scans.rejected },
      outbox: this.backlog(),
      mqtt: sync ? { connected: sync.connected, connects: sync.connects } : null,
      diskFreeBytes: disk ? disk.free : null,
      databaseBytes: this.o.host.databaseBytes(this.o.databasePath),
      rssBytes: this.o.host.rssBytes(),
      loopDelayMs: this.o.host.loopDelay(),
      doorCycles,
    };
  }

  /** Transactions counted so far ("kind/outcome" -> n), for tests and the status screen. */
  transactionCount(kind: TransactionKind, outcome: TransactionOutcome): number {
    return this.transactions.get(`${kind}/${outcome}`) ?? 0;
  }

  private uptimeS(): number {
    return Math.round((this.o.clock.monotonic() - this.started) / 1000);
  }

  private backlog(): Record<string, BacklogFigures> {
    return Object.fromEntries(this.backlogStmt.counts().map((r) => [r.stream, { unsent: r.unsent, unacked: r.unacked }]));
  }

  /** Compartments of the layout in force, and any that have counts from an older layout. */
  private cycleCompartments(): string[] {
    return [...new Set([...this.o.compartments(), ...this.o.cycles.compartments()])].sort();
  }

  private onDoor(e: DoorControllerEvent): void {
    if (e.type === 'unlock_sent') {
      this.o.cycles.unlocked(e.compartment);
      this.unlockAt.set(e.compartment, this.o.clock.monotonic());
      return;
    }
    if (e.type !== 'door') return;
    const before = this.doorKnown.get(e.compartment);
    this.doorKnown.set(e.compartment, e.open);
    if (!e.open || before === true) return;
    const sentAt = this.unlockAt.get(e.compartment);
    this.unlockAt.delete(e.compartment);
    // The first reading after a start is not an opening, unless an unlock caused it.
    if (before === undefined && sentAt === undefined) return;
    this.o.cycles.opened(e.compartment);
    if (sentAt === undefined) return;
    const ms = Math.max(0, this.o.clock.monotonic() - sentAt);
    this.latencyHistogram.observe(ms / 1000);
    this.latency = { count: this.latency.count + 1, sumMs: this.latency.sumMs + ms, maxMs: Math.max(this.latency.maxMs, ms) };
  }

  private onCommitted(spec: RecordSpec): void {
    const action = spec.action;
    if (action.endsWith('.unlock') && spec.subject) {
      this.lastPurpose.set(spec.subject, action.slice(0, -'.unlock'.length));
      return;
    }
    if (action === 'alarm.latch_jammed' && spec.subject) {
      const compartment = spec.subject;
      this.jams++;
      if (this.o.compartments().includes(compartment)) this.jamCounter.inc({ compartment });
      const purpose = this.lastPurpose.get(compartment);
      if (purpose && RETRIEVALS.has(purpose)) this.countTransaction(purpose as TransactionKind, 'jammed');
      return;
    }
    const final = FINAL_ACTIONS[action];
    if (final) this.countTransaction(final[0], final[1]);
  }

  private countTransaction(kind: TransactionKind, outcome: TransactionOutcome): void {
    const key = `${kind}/${outcome}`;
    this.transactions.set(key, (this.transactions.get(key) ?? 0) + 1);
    this.txCounter.inc({ kind, outcome });
  }
}

/** Plain code-unit order for metric keys: localeCompare would load ICU's collation data (issue 10, idle RSS). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
