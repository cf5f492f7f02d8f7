// The one failure policy (issue 9, findings 5 and 7): a failed background path is named in
// health and alarmed to the operator as soon as the database takes the alarm; a full store is
// probed until it takes writes again, and the outage is then recorded (alarm.store_refused).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { LockerError } from '../../../kernel/errors.js';
import { BackgroundFailures } from '../../../src/composition/backgroundFailures.js';
import { healthFaults, StoreCondition } from '../../../src/composition/healthReport.js';
import { silentLogger } from '../../../src/logger.js';

const sqliteFull = (): Error => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

function setup() {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = new StoreCondition(() => clock.now());
  let full = false;
  const written: { type: string; data: Record<string, unknown> }[] = [];
  const write = (type: string, data: Record<string, unknown>): void => {
    if (full) throw new LockerError('STORE_FULL', 'the disk is full; nothing was changed', {}, { cause: sqliteFull() });
    written.push({ type, data });
  };
  const failures = new BackgroundFailures({
    clock,
    logger: silentLogger(),
    store,
    alarm: (data) => write('alarm.background_failed', data),
    storeResumed: (data) => write('alarm.store_refused', data),
    probeWrite: () => write('probe', {}),
    probeMs: 1_000,
  });
  return { clock, store, failures, written, setFull: (v: boolean) => (full = v) };
}

describe('BackgroundFailures', () => {
  it('swallows a throw, names the path in health, alarms once, and ends the fault when the path works again', () => {
    const { failures, store, written } = setup();
    expect(failures.run('expiry.sweep', () => {
      throw new Error('boom');
    })).toBeUndefined();
    failures.run('expiry.sweep', () => {
      throw new Error('boom again');
    });
    expect(healthFaults([], store, { background: failures.healthFaults() })).toEqual([{ code: 'INTERNAL', path: 'expiry.sweep', since: Date.UTC(2026, 0, 1), failures: 2 }]);
    expect(written.map((w) => w.type)).toEqual(['alarm.background_failed']);
    expect(failures.run('expiry.sweep', () => 7)).toBe(7);
    expect(failures.healthFaults()).toEqual([]);
  });

  it('a full disk: STORE_FULL in health, the alarm waits for the database, the probe finds the space that returned', async () => {
    const { clock, failures, store, written, setFull } = setup();
    setFull(true);
    failures.report('outbox.flush', new LockerError('STORE_FULL', 'the disk is full; nothing was changed', {}, { cause: sqliteFull() }));
    expect(healthFaults([], store, { background: failures.healthFaults() }).map((f) => f.code)).toEqual(['STORE_FULL', 'STORE_FULL']);
    expect(written).toEqual([]);
    await clock.advance(3_000);
    expect(written).toEqual([]);

    setFull(false);
    await clock.advance(1_000);
    // The probe's write worked: the store fault ends, the outage and the waiting alarm are recorded.
    expect(store.fault()).toBeUndefined();
    expect(written.map((w) => w.type)).toEqual(['probe', 'alarm.store_refused', 'alarm.background_failed']);
    expect(written[1]?.data).toEqual({ code: 'STORE_FULL', since: Date.UTC(2026, 0, 1), resumedAt: Date.UTC(2026, 0, 1) + 4_000 });
    expect(written[2]?.data).toMatchObject({ path: 'outbox.flush', code: 'STORE_FULL', failures: 1 });
    failures.stop();
  });

  it('a damaged file does not heal by itself: STORE_CORRUPT stays until a restart checks the file', async () => {
    const { clock, failures, store } = setup();
    failures.report('sync.connect', Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }));
    store.succeeded();
    await clock.advance(5_000);
    expect(store.fault()).toEqual({ code: 'STORE_CORRUPT', since: Date.UTC(2026, 0, 1) });
    expect(failures.healthFaults()).toMatchObject([{ code: 'STORE_CORRUPT', path: 'sync.connect' }]);
    failures.stop();
  });
});
