// DoorController over a scripted LockBus on a manual clock, and CodeVault on a real in-memory
// store: the two services the runners stand on.
import { describe, expect, it } from 'vitest';
import { type BoardStatus, type LockBus, type LockBusEvent } from '../../../hal/types.js';
import { ManualClock } from '../../../kernel/clock.js';
import { BudgetLedger } from '../../../src/codes/budgetLedger.js';
import { CodesConfig } from '../../../src/config/schema.js';
import { CodeVault } from '../../../src/domain/codeVault.js';
import { DoorController, type DoorControllerEvent } from '../../../src/domain/doorController.js';
import { type DoorOutcome } from '../../../src/domain/doorRunner.js';
import { EventRecorder } from '../../../src/domain/eventRecorder.js';
import { parseEventData } from '../../../src/domain/events.js';
import { ErrorCodes } from '../../../kernel/errors.js';
import { createIdFactory } from '../../../src/ids.js';
import { silentLogger } from '../../../src/logger.js';
import { seededRandom } from '../../../kernel/random.js';
import { openDatabase } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { fixed } from '../../../src/domain/liveSettings.js';
import { Outbox } from '../../../src/store/outbox.js';

class ScriptedBus implements LockBus {
  readonly id = 'bus0';
  readonly unlocks: string[] = [];
  private readonly listeners = new Set<(e: LockBusEvent) => void>();
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async unlock(board: number, lock: number): Promise<void> {
    this.unlocks.push(`${board}/${lock}`);
  }
  async status(board: number): Promise<BoardStatus> {
    return { board, locks: [{ lock: 1, latched: true }], at: 0 };
  }
  lastStatus(): BoardStatus | undefined {
    return undefined;
  }
  silentBoards(): number[] {
    return [];
  }
  on(l: (e: LockBusEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: LockBusEvent): void {
    for (const l of this.listeners) l(e);
  }
  reading(lock: number, open: boolean, itemPresent?: boolean): void {
    this.emit({ type: 'reading', bus: 'bus0', board: 0, reading: { lock, latched: !open, ...(itemPresent === undefined ? {} : { itemPresent }) }, previous: undefined });
  }
}

function doors() {
  const clock = new ManualClock();
  const bus = new ScriptedBus();
  const controller = new DoorController(new Map([['bus0', bus]]), clock, fixed({ openTimeoutMs: 1_000, leftOpenAlarmMs: 5_000, jamRetries: 1 }), silentLogger());
  controller.setLayout([
    { id: 'K1', bus: 'bus0', board: 0, lock: 1 },
    { id: 'K2', bus: 'bus0', board: 0, lock: 2 },
  ]);
  const events: DoorControllerEvent[] = [];
  controller.on((e) => events.push(e));
  controller.start();
  bus.reading(1, false);
  bus.reading(2, false);
  return { clock, bus, controller, events };
}

describe('DoorController', () => {
  it('runs one session per door: unlock, opened, closed; a second open of the same door is DOOR_BUSY', async () => {
    const { bus, controller, clock } = doors();
    const outcomes: DoorOutcome[] = [];
    controller.open('K1', 's1', (o) => outcomes.push(o));
    expect(() => controller.open('K1', 's2', () => undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.DOOR_BUSY }));
    await clock.advance(0);
    expect(bus.unlocks).toEqual(['0/1']);
    bus.reading(1, true);
    bus.reading(1, false);
    expect(outcomes.map((o) => o.type)).toEqual(['opened', 'closed']);
    expect(controller.busy('K1')).toBe(false);
  });

  it('retries a door that did not open once, then reports did_not_open, timed on the clock', async () => {
    const { bus, controller, clock } = doors();
    const outcomes: DoorOutcome[] = [];
    controller.open('K1', 's1', (o) => outcomes.push(o));
    await new Promise((r) => setImmediate(r)); // the unlock frame is written; the open timeout starts
    await clock.advance(999);
    expect(outcomes).toEqual([]);
    await clock.advance(1);
    expect(outcomes.map((o) => o.type)).toEqual(['retrying']);
    await new Promise((r) => setImmediate(r));
    await clock.advance(1_000);
    expect(outcomes.map((o) => o.type)).toEqual(['retrying', 'did_not_open']);
    expect(bus.unlocks).toEqual(['0/1', '0/1']);
  });

  it('a door that opens with no session is forced open; a silent board makes its doors unreachable', () => {
    const { bus, controller, events } = doors();
    bus.reading(2, true);
    expect(events.filter((e) => e.type === 'forced_open')).toEqual([{ type: 'forced_open', compartment: 'K2' }]);
    bus.emit({ type: 'board-silent', bus: 'bus0', board: 0, code: 'BOARD_SILENT', message: 'no reply' });
    expect(controller.reachable('K1')).toBe(false);
    expect(() => controller.open('K1', 's', () => undefined)).toThrow(expect.objectContaining({ code: ErrorCodes.BOARD_SILENT }));
    bus.emit({ type: 'board-back', bus: 'bus0', board: 0 });
    expect(controller.reachable('K1')).toBe(true);
  });
});

describe('CodeVault', () => {
  function vault() {
    const clock = new ManualClock();
    const random = seededRandom('vault');
    const store = new LockerStore(openDatabase(':memory:'));
    const recorder = new EventRecorder(store, new Outbox(store.db), clock, createIdFactory(clock, random), 'boot', () => true);
    const cfg = CodesConfig.parse({ length: 10, burst: 3, refillPerHour: 60 });
    const codes = new CodeVault(store, recorder, fixed(cfg), new Uint8Array(32).fill(1), random, clock, new BudgetLedger(store, clock), () => 4);
    return { clock, store, codes };
  }

  it('a wrong code takes a try; the spent budget locks the keypad with an alarm.code_lockout that fits the catalogue', () => {
    const { codes, store } = vault();
    const reject = () => undefined;
    expect(() => codes.redeem('0000000001', ['stored'], reject)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_UNKNOWN }));
    expect(codes.lockout()).toMatchObject({ lockedOut: false, failuresLeft: 2 });
    expect(() => codes.redeem('0000000002', ['stored'], reject)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_UNKNOWN }));
    expect(() => codes.redeem('0000000003', ['stored'], reject)).toThrow(expect.objectContaining({ code: ErrorCodes.CODE_LOCKED_OUT }));
    const alarm = store.recentAudit('alarm.', 5)[0];
    expect(alarm?.action).toBe('alarm.code_lockout');
    expect(() => parseEventData('alarm.code_lockout', { ...alarm?.data, at: 1 })).not.toThrow();
  });

  it('issues unique codes of the configured length and refuses a carrier code already in use', () => {
    const { codes, store, clock } = vault();
    const code = codes.newUniqueCode();
    expect(code).toMatch(/^[0-9]{10}$/);
    const digest = codes.digestOf(code, true);
    store.insertParcel({ id: 'p1', carrier: 'c', waybill: 'W', kind: 'delivery', state: 'announced', size: 'S', compartmentId: null, codeDigest: digest, dwellHours: null, announcedAt: clock.now(), storedAt: null, expiresAt: null });
    expect(() => codes.digestOf(code, true)).toThrow(expect.objectContaining({ code: ErrorCodes.INPUT_INVALID }));
    expect(codes.newUniqueCode()).not.toBe(code);
  });
});
