// The simulator panel's clock control (issue 11, flow 9), and its fence: with --sim the panel
// moves lockerd's wall clock forward so a stored parcel expires (its code says so, the courier
// can collect it); without --sim there is no /sim/ route at all, the clock one included.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLockerd } from '../../src/composition/startLockerd.js';
import { apiCall, LockerHarness } from '../support/lockerHarness.js';
import { makeDemoLocker } from '../support/demoLocker.js';

describe('sim clock', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('moves time forward on --sim: the parcel expires and is due back to the carrier', async () => {
    const h = await LockerHarness.start();
    cleanups.push(() => h.cleanup());
    const token = await h.courierLogin('swiftpost', 'courier-1', ['deposit', 'collect']);
    const stored = await h.deposit(token, 'SP-CLOCK-1');
    const before = await apiCall<{ clock: { now: number; offsetMs: number } }>(h.url, 'GET', '/sim/state');
    expect(before.body.clock.offsetMs).toBe(0);

    const dwell = h.config.carriers.find((c) => c.id === 'swiftpost')?.dwellHours ?? 72;
    const moved = await apiCall<{ now: number; offsetMs: number; expired: number }>(h.url, 'POST', '/sim/clock/advance', { hours: dwell + 1 });
    expect(moved.status).toBe(200);
    expect(moved.body.offsetMs).toBe((dwell + 1) * 3_600_000);
    expect(moved.body.expired).toBe(1);
    expect(moved.body.now).toBeGreaterThanOrEqual(before.body.clock.now + (dwell + 1) * 3_600_000);

    const pickup = await h.kiosk.pickup(stored.code);
    expect(pickup.status).not.toBe(200);
    expect((pickup.body as unknown as { error: { code: string } }).error.code).toBe('CODE_EXPIRED');
    // The courier's session ended with the time that passed; the parcel is due back to the
    // carrier (badges minted on the machine's clock are expired too on lockerd's: docs/kiosk.md).
    expect((await apiCall(h.url, 'GET', '/api/courier/collections', undefined, token)).status).toBe(401);
    expect(h.read.parcelByWaybill('SP-CLOCK-1')?.state).toBe('expired');
    expect(h.read.eventTypes('c/swiftpost')).toContain('parcel.expired');

    // Bounded: never back, never more than 30 days at once.
    expect((await apiCall(h.url, 'POST', '/sim/clock/advance', { hours: -1 })).status).toBe(400);
    expect((await apiCall(h.url, 'POST', '/sim/clock/advance', { hours: 24 * 31 })).status).toBe(400);
  });

  it('does not exist without --sim', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lockerd-nosim-'));
    const demo = await makeDemoLocker(dataDir, { demo: { revealCodes: false } });
    const running = await startLockerd({ config: demo.config, sim: false, port: 0 });
    cleanups.push(async () => {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
    for (const [method, path] of [
      ['POST', '/sim/clock/advance'],
      ['GET', '/sim/state'],
      ['GET', '/sim/'],
      ['POST', '/sim/scanner/scan'],
    ] as const) {
      const r = await apiCall(running.url, method, path, method === 'POST' ? { hours: 100, text: '123456' } : undefined);
      expect(r.status, `${method} ${path}`).toBe(404);
    }
  });
});
