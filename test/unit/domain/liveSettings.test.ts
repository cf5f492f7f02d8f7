// Remote setConfig publishes a new settings value; CodeVault and DoorController read it from
// LiveSettings. Nothing is changed in place: the configuration object the locker was started
// with is frozen here, and stays as it was.
import type { CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { type BoardStatus, type LockBus } from '../../../hal/types.js';
import { ManualClock } from '../../../kernel/clock.js';
import { BudgetLedger } from '../../../src/codes/budgetLedger.js';
import { LockerConfig } from '../../../src/config/schema.js';
import { CodeVault } from '../../../src/domain/codeVault.js';
import { DoorController } from '../../../src/domain/doorController.js';
import { type DoorOutcome } from '../../../src/domain/doorRunner.js';
import { EventRecorder } from '../../../src/domain/eventRecorder.js';
import { LiveSettings, fixed, type RuntimeSettings } from '../../../src/domain/liveSettings.js';
import { type Locker } from '../../../src/domain/locker.js';
import { LockerRemoteOperations } from '../../../src/domain/remoteOperations.js';
import { BadgeRevocations } from '../../../src/credentials/badgeRevocations.js';
import { silentLogger } from '../../../src/logger.js';
import { seededRandom } from '../../../kernel/random.js';
import { openDatabase } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';
import { demoConfigInput } from '../../support/demoLocker.js';

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** A bus whose unlock is written but whose door never reports open. */
function stuckBus(): LockBus {
  return {
    id: 'bus0',
    open: async () => {},
    close: async () => {},
    unlock: async () => {},
    status: async (board: number): Promise<BoardStatus> => ({ board, locks: [], at: 0 }),
    lastStatus: () => undefined,
    silentBoards: () => [],
    on: () => () => {},
  };
}

describe('LiveSettings', () => {
  it('hands out a frozen copy, publishes new values and tells the views that changed', () => {
    const mine = { codes: { length: 10, burst: 10, refillPerHour: 60 }, doors: { openTimeoutMs: 3000, leftOpenAlarmMs: 120_000, jamRetries: 1, transportReturnTimeoutMs: 30_000 }, sync: null };
    const s = new LiveSettings<RuntimeSettings>(mine);
    expect(Object.isFrozen(s.get().codes)).toBe(true);
    expect(() => {
      (s.get().codes as { length: number }).length = 6;
    }).toThrow(TypeError);
    const seen: number[] = [];
    const doorChanges: number[] = [];
    s.view('codes').onChange((next) => seen.push(next.length));
    const off = s.view('doors').onChange((next) => doorChanges.push(next.openTimeoutMs));
    s.update((c) => ({ ...c, codes: { ...c.codes, length: 8 } }));
    expect(seen).toEqual([8]);
    expect(doorChanges).toEqual([]);
    off();
    s.update((c) => ({ ...c, doors: { ...c.doors, openTimeoutMs: 500 } }));
    expect(doorChanges).toEqual([]);
    // The object the settings were built from is the caller's own and was never touched.
    expect(mine.codes.length).toBe(10);
    expect(fixed({ a: 1 }).get()).toEqual({ a: 1 });
  });

  it('a remote setConfig reaches CodeVault and DoorController without changing the shared config', async () => {
    const { $comment: _comment, ...input } = demoConfigInput();
    const config = deepFreeze(LockerConfig.parse({ ...input, dataDir: '/tmp/lockerd-live-settings' }));
    const clock = new ManualClock();
    const db = openDatabase(':memory:');
    const store = new LockerStore(db);
    let n = 0;
    const recorder = new EventRecorder(store, new Outbox(db), clock, () => `01ID${String(++n).padStart(22, '0')}`, 'boot', () => true);
    const settings = new LiveSettings<RuntimeSettings>({ codes: config.codes, doors: config.doors, sync: null });
    const codes = new CodeVault(store, recorder, settings.view('codes'), new Uint8Array(32), seededRandom(1), clock, new BudgetLedger(store, clock), () => 0);
    const doors = new DoorController(new Map([['bus0', stuckBus()]]), clock, settings.view('doors'), silentLogger());
    doors.setLayout([{ id: 'A1', bus: 'bus0', board: 1, lock: 1 }]);
    const remote = new LockerRemoteOperations({
      // setConfig never reaches the locker facade.
      locker: undefined as unknown as Locker,
      store,
      doors,
      clock,
      config,
      settings,
      lockerEncryptionKey: undefined as unknown as CryptoKey,
      diagnostics: () => ({}),
      setLogLevel: () => {},
      revocations: new BadgeRevocations(store, clock, () => config.badges),
    });
    expect(codes.codeLength).toBe(config.codes.length);

    await remote.setConfig({ version: 1, desired: { codes: { length: 9 }, doors: { openTimeoutMs: 400, jamRetries: 0 } } }, { kind: 'operator', id: 'ops', commandId: 'c1' });

    expect(codes.codeLength).toBe(9);
    expect(codes.newUniqueCode()).toMatch(/^\d{9}$/);
    // The door session started now uses the new open timeout: 400 ms, no retry.
    const outcomes: DoorOutcome[] = [];
    doors.open('A1', 'S1', (o) => outcomes.push(o));
    // The unlock frame is written (a resolved promise); the open timeout starts from here.
    await clock.advance(0);
    await clock.advance(399);
    expect(outcomes).toEqual([]);
    await clock.advance(1);
    expect(outcomes.map((o) => o.type)).toEqual(['did_not_open']);
    // The file's configuration is as it was loaded.
    expect([config.codes.length, config.doors.openTimeoutMs]).toEqual([8, 3000]);
  });
});
