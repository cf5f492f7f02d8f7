// The health report on a manual clock: one `health` event on the operator stream per interval,
// none piled up while the previous one is unsent, door cycles and door open latency counted
// from door sessions and written with each report, transactions counted from commits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BoardStatus, LockBus, LockBusEvent, LockBusListener } from '../../../hal/types.js';
import { ManualClock } from '../../../kernel/clock.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { DoorController } from '../../../src/domain/doorController.js';
import { fixed } from '../../../src/domain/liveSettings.js';
import { EventRecorder } from '../../../src/domain/eventRecorder.js';
import { createIdFactory } from '../../../src/ids.js';
import { silentLogger } from '../../../src/logger.js';
import { createMetrics, type RunningMetrics } from '../../../src/metrics/startMetrics.js';
import type { HostProbe } from '../../../src/metrics/hostProbe.js';
import { cryptoRandom } from '../../../kernel/random.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';

/** A lock bus whose readings the test writes by hand; unlock resolves at once. */
class HandBus implements LockBus {
  readonly id = 'bus0';
  private readonly listeners = new Set<LockBusListener>();
  readonly unlocks: number[] = [];
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async unlock(_board: number, lock: number): Promise<void> {
    this.unlocks.push(lock);
  }
  status(): Promise<BoardStatus> {
    return Promise.reject(new Error('not used'));
  }
  lastStatus(): BoardStatus | undefined {
    return undefined;
  }
  silentBoards(): number[] {
    return [];
  }
  on(listener: LockBusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(e: LockBusEvent): void {
    for (const l of this.listeners) l(e);
  }
  door(lock: number, open: boolean): void {
    this.emit({ type: 'reading', bus: 'bus0', board: 0, reading: { lock, latched: !open }, previous: undefined });
  }
}

const host: HostProbe = {
  disk: () => Promise.resolve({ free: 5_000_000_000, total: 16_000_000_000 }),
  databaseBytes: () => 123_456,
  rssBytes: () => 48_000_000,
  loopDelay: () => ({ p50: 1, p99: 4, max: 9 }),
  resetLoopDelay: () => undefined,
  stop: () => undefined,
};

describe('the health report', () => {
  let dir: string;
  let db: Db;
  let clock: ManualClock;
  let bus: HandBus;
  let doors: DoorController;
  let recorder: EventRecorder;
  let m: RunningMetrics;

  const healthRows = () =>
    new Outbox(db)
      .rows('op')
      .filter((r) => r.type === 'health')
      .map((r) => ({ seq: r.seq, data: r.data, sent: r.sent }));

  function build(): void {
    db = openDatabase(join(dir, 'lockerd.db'), { synchronous: 'normal' });
    const store = new LockerStore(db);
    recorder = new EventRecorder(store, new Outbox(db), clock, createIdFactory(clock, cryptoRandom()), 'boot-1', () => true);
    bus = new HandBus();
    doors = new DoorController(new Map([['bus0', bus]]), clock, fixed({ openTimeoutMs: 1000, leftOpenAlarmMs: 60_000, jamRetries: 1 }), silentLogger());
    doors.setLayout([
      { id: 'A1', bus: 'bus0', board: 0, lock: 1 },
      { id: 'A2', bus: 'bus0', board: 0, lock: 2 },
    ]);
    const config = {
      dataDir: dir,
      locker: { id: 'locker-1' },
      hardware: { buses: [SerialBusConfig.parse({ id: 'bus0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 12 }] })] },
      metrics: { host: '127.0.0.1', port: null, healthIntervalS: 60 },
    };
    m = createMetrics({
      config: config as unknown as Parameters<typeof createMetrics>[0]['config'],
      version: '9.9.9',
      clock,
      db,
      databasePath: join(dir, 'lockerd.db'),
      doors,
      recorder,
      hardware: { buses: new Map([['bus0', bus]]) },
      compartments: () => ['A1', 'A2'],
      sync: () => undefined,
      logger: silentLogger(),
      host,
    });
    doors.start();
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-health-'));
    clock = new ManualClock();
    build();
    await m.start();
    bus.door(1, false);
    bus.door(2, false);
  });

  afterEach(async () => {
    await m.stop();
    doors.stop();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A door session on A1: unlock, the door is seen open `afterMs` later, then closed. */
  async function cycle(afterMs: number): Promise<void> {
    const outcomes: string[] = [];
    doors.open('A1', `s-${clock.now()}`, (o) => outcomes.push(o.type));
    await Promise.resolve();
    await Promise.resolve();
    await clock.advance(afterMs);
    bus.door(1, true);
    bus.door(1, false);
    expect(outcomes).toContain('opened');
  }

  it('appends one health event per interval with the figures in short form', async () => {
    await cycle(250);
    await cycle(450);
    recorder.commit({ actor: 'consumer', action: 'pickup.unlock', subject: 'A1' });
    recorder.commit({ actor: 'consumer', action: 'parcel.picked_up', subject: 'p1' });
    recorder.commit({ actor: 'courier', action: 'parcel.stored', subject: 'p2' });
    recorder.commit({ actor: 'system', action: 'parcel.announced', subject: 'p3' });
    expect(healthRows()).toHaveLength(0);

    await clock.advance(60_000);
    await m.health.report(); // shares the timer's report in flight
    const rows = healthRows();
    expect(rows).toHaveLength(1);
    const data = JSON.parse(rows[0]?.data ?? '{}') as Record<string, unknown>;
    expect(data).toMatchObject({
      intervalS: 60,
      version: '9.9.9',
      transactions: { 'deposit/ok': 1, 'pickup/ok': 1 },
      doorOpenMs: { count: 2, mean: 350, max: 450 },
      doorJams: 0,
      busErrors: {},
      silentBoards: [],
      scanner: { state: 'absent', reads: 0, rejected: 0 },
      mqtt: null,
      diskFreeBytes: 5_000_000_000,
      databaseBytes: 123_456,
      rssBytes: 48_000_000,
      loopDelayMs: { p50: 1, p99: 4, max: 9 },
      doorCycles: { A1: [2, 2], A2: [0, 0] },
    });
    // The door cycles were written with the event.
    expect(db.prepare('SELECT compartment_id, opens, unlocks FROM door_cycles').all()).toEqual([{ compartment_id: 'A1', opens: 2, unlocks: 2 }]);
    const text = await m.metrics.text();
    expect(text).toContain('lockerd_transactions_total{kind="pickup",outcome="ok"} 1');
    expect(text).toContain('lockerd_door_cycles{compartment="A1",event="open"} 2');
  });

  it('does not pile up health events while the previous one is unsent, but still writes the door cycles', async () => {
    await clock.advance(60_000);
    expect(healthRows()).toHaveLength(1);
    await cycle(100);
    await clock.advance(60_000);
    await clock.advance(60_000);
    expect(healthRows()).toHaveLength(1);
    expect(db.prepare('SELECT opens FROM door_cycles WHERE compartment_id = ?').get('A1')).toEqual({ opens: 1 });
    const outbox = new Outbox(db);
    outbox.markSent(new Map([['op', Math.max(...outbox.rows('op').map((r) => r.seq))]]));
    await clock.advance(60_000);
    expect(healthRows().map((r) => r.seq)).toEqual([1, 2]);
  });

  it('counts a bus error only for a configured board, and a door seen open at start is no cycle', async () => {
    bus.emit({ type: 'bus-error', bus: 'bus0', board: 0, code: 'BOARD_SILENT' });
    bus.emit({ type: 'bus-error', bus: 'bus0', board: 7, code: 'BOARD_SILENT' });
    bus.emit({ type: 'bus-error', bus: 'other', board: 0, code: 'BOARD_SILENT' });
    const figures = await m.metrics.figures();
    expect(figures.busErrors).toEqual({ 'bus0/0': 1 });
    const text = await m.metrics.text();
    expect(text).toContain('lockerd_bus_errors_total{bus="bus0",board="0"} 1');
    expect(text).not.toContain('board="7"');
    expect(text).not.toContain('bus="other"');

    await m.stop();
    doors.stop();
    db.close();
    build();
    // After a restart the first reading of an open door is not an opening.
    bus.door(1, true);
    expect((await m.metrics.figures()).doorCycles.A1).toEqual([0, 0]);
  });
});
