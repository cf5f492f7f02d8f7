// The timing scenarios on the domain fixture (ManualClock, real SerialLockBus over the
// simulator): door left open, jam retry, forced open, board silent, expiry. Time moves only
// when the test advances it, so every bound is exact and nothing sleeps.
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

const LEFT_OPEN_MS = 5_000;

describe('door timing on the manual clock', () => {
  let h: DomainLocker;
  afterEach(async () => {
    await h.stop();
  });

  it('a door left open raises the alarm at doors.leftOpenAlarmMs, not before; the deposit still stores when closed later', async () => {
    h = await domainLocker({ doors: { leftOpenAlarmMs: LEFT_OPEN_MS } });
    const started = await h.settle(h.locker.startDeposit(h.courier, { waybill: 'SP-LO-1', size: 'S' }));
    const compartment = started.compartment.id;
    const openedAt = h.clock.now();
    h.put(compartment);

    await h.advance(LEFT_OPEN_MS - 300);
    expect(h.events('alarm.door_left_open')).toEqual([]);
    await h.until('the left-open alarm', () => h.events('alarm.door_left_open')[0], 1_000);
    expect(h.clock.now() - openedAt).toBeGreaterThanOrEqual(LEFT_OPEN_MS);
    expect(h.events('alarm.door_left_open')[0]).toMatchObject({ stream: 'op', data: { compartment, sessionId: started.sessionId } });
    expect(h.notices).toContainEqual({ type: 'alarm', alarm: { type: 'alarm.door_left_open', compartment } });

    // The session keeps waiting: still open, nothing stored, one alarm only.
    await h.advance(3 * LEFT_OPEN_MS, 50);
    expect(h.locker.depositView(h.courier, started.id).state).toBe('open');
    expect(h.store.inFlightSessions().map((s) => s.compartmentId)).toEqual([compartment]);
    expect(h.events('alarm.door_left_open')).toHaveLength(1);

    h.close(compartment);
    await h.until('stored', () => h.locker.depositView(h.courier, started.id).state === 'stored');
    expect(h.events().map((e) => e.type).sort()).toEqual(['alarm.door_left_open', 'parcel.stored']);
  });

  it('a consumer who leaves the door open after a pickup raises the alarm; the door stays busy until closed', async () => {
    h = await domainLocker({ doors: { leftOpenAlarmMs: LEFT_OPEN_MS } });
    const { code, compartment } = await h.deposit('SP-LO-2', 'M');
    const opened = await h.settle(h.locker.pickup(code));
    h.take(compartment);
    await h.advance(LEFT_OPEN_MS + 300, 50);
    expect(h.events('alarm.door_left_open')[0]?.data).toMatchObject({ compartment, sessionId: opened.sessionId });
    await expect(h.settle(h.locker.remoteOpen(compartment, 'check', { kind: 'operator', id: 'op' }))).rejects.toMatchObject({ code: ErrorCodes.DOOR_BUSY });
    h.close(compartment);
    await h.until('free again', () => h.locker.compartment(compartment).state === 'free');
    expect(h.events().filter((e) => e.carrier !== null).map((e) => e.type)).toEqual(['parcel.stored', 'parcel.picked_up']);
  });

  it('a jammed latch is retried once, then the compartment goes out of service and the code stays valid', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-JAM-1', 'S');
    h.world.setJammed(h.position(compartment), true);
    const t0 = h.clock.now();
    await expect(h.settle(h.locker.pickup(code))).rejects.toMatchObject({ code: ErrorCodes.LATCH_JAMMED, context: { codeStillValid: true } });
    // Two unlocks, each waited for doors.openTimeoutMs (1 s here).
    expect(h.clock.now() - t0).toBeGreaterThanOrEqual(2 * h.doorSettings.openTimeoutMs);
    expect(h.locker.compartment(compartment)).toMatchObject({ state: 'out_of_service', fault: ErrorCodes.LATCH_JAMMED });
    expect(h.events('alarm.latch_jammed')).toHaveLength(1);
    expect(h.events('parcel.pickup_failed')[0]?.data).toMatchObject({ reason: ErrorCodes.LATCH_JAMMED });

    // Fixed: the same code opens it, and the compartment is back in service.
    h.world.setJammed(h.position(compartment), false);
    await h.settle(h.locker.pickup(code));
    expect(h.events('compartment.recovered')).toHaveLength(1);
  });

  it('a door forced open alarms once, tells the carrier whose parcel is inside, and consumes nothing', async () => {
    h = await domainLocker();
    const { code, compartment } = await h.deposit('SP-FO-1', 'S');
    h.world.forceOpen(h.position(compartment));
    await h.until('forced-open alarm', () => h.events('alarm.door_forced_open')[0]);
    expect(h.events('parcel.compartment_forced')[0]?.data).toMatchObject({ waybill: 'SP-FO-1', compartment });
    h.close(compartment);
    await h.advance(1_000, 50);
    expect(h.events('alarm.door_forced_open')).toHaveLength(1);
    await h.settle(h.locker.pickup(code));
  });

  it('a silent board takes its compartments out of service and they come back with it', async () => {
    h = await domainLocker();
    h.world.setBoardSilent('bus0', 0, true);
    await h.until('board silent', () => h.events('alarm.board_silent')[0]);
    expect(h.locker.compartment('K1')).toMatchObject({ state: 'out_of_service', fault: 'BOARD_SILENT' });
    await expect(h.settle(h.locker.remoteOpen('K1', 'test', { kind: 'operator', id: 'op' }))).rejects.toMatchObject({ code: ErrorCodes.BOARD_SILENT });
    h.world.setBoardSilent('bus0', 0, false);
    await h.until('board back', () => h.events('alarm.board_back')[0], 30_000);
    expect(h.locker.compartment('K1').state).toBe('free');
  });

  it('a parcel expires exactly at its dwell time; its code is then refused', async () => {
    h = await domainLocker();
    const { code } = await h.deposit('SP-EXP-1', 'S');
    const parcel = h.store.liveParcelByWaybill('swiftpost', 'SP-EXP-1');
    const expiresAt = parcel?.expiresAt ?? 0;
    await h.clock.advance(expiresAt - h.clock.now() - 1);
    expect(h.locker.expireDue()).toBe(0);
    await h.clock.advance(1);
    expect(h.locker.expireDue()).toBe(1);
    await expect(h.locker.pickup(code)).rejects.toMatchObject({ code: ErrorCodes.CODE_EXPIRED });
  });
});
