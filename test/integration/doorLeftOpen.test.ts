// A door left standing open, over HTTP and the kiosk stream: the alarm reaches the operator
// screen, the session keeps waiting, and closing the door later still commits. The timing
// itself (not before doors.leftOpenAlarmMs, exactly once) is tested on the manual clock in
// test/unit/domain/doorTiming.test.ts; nothing here sleeps.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockerHarness, seqGaps, waitFor } from '../support/lockerHarness.js';

describe('door left open', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('raises the alarm after the configured time and still stores the parcel when the door is closed later', async () => {
    const token = await h.courierLogin();
    // Alarms go to the kiosk terminal's own stream (the operator screen), not the public one.
    const sse = await h.terminal();
    try {
      const r = await h.startDeposit(token, 'SP-LO-1', 'S');
      expect(r.status).toBe(200);
      const id = r.body.deposit.id;
      h.put('A1');

      const alarm = await waitFor('left-open alarm', () => h.read.events('alarm.door_left_open')[0], 3_000);
      expect(alarm).toMatchObject({ stream: 'op', carrier: null, data: { compartment: 'A1' } });
      await sse.waitFor('alarm on the kiosk stream', (e) => e.type === 'alarm' && JSON.stringify(e.alarm) === JSON.stringify({ type: 'alarm.door_left_open', compartment: 'A1' }));

      // The session keeps waiting: the deposit is still open, nothing stored, the session in flight.
      expect((await h.depositView(token, id)).state).toBe('open');
      expect(h.read.parcels()).toEqual([]);
      expect(h.read.inFlightSessions().map((s) => s.compartment_id)).toEqual(['A1']);
      expect(h.read.events('alarm.door_left_open')).toHaveLength(1);

      h.close('A1');
      const stored = await h.waitForDeposit(token, id, 'stored');
      expect(stored.pickupCode).toMatch(/^[0-9]{8}$/);
      expect(h.read.parcelByWaybill('SP-LO-1')).toMatchObject({ state: 'stored', compartment_id: 'A1' });
      expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored']);
      expect(h.read.inFlightSessions()).toEqual([]);
      expect(h.read.sessions()[0]).toMatchObject({ state: 'done', outcome: 'stored' });
    } finally {
      sse.close();
    }
  });

  it('a consumer who leaves the door open after a pickup raises the alarm; the pickup stays committed', async () => {
    const token = await h.courierLogin();
    const { code } = await h.deposit(token, 'SP-LO-2', 'M');
    const r = await h.pickup(code);
    expect(r.status).toBe(200);
    expect(h.read.parcelByWaybill('SP-LO-2')?.state).toBe('picked_up');
    h.take('A3');

    const alarm = await waitFor('left-open alarm', () => h.read.events('alarm.door_left_open')[0], 4_000);
    expect(alarm.data).toMatchObject({ compartment: 'A3', sessionId: r.body.sessionId });
    // The door is still in use until it is closed: it cannot be opened for anybody else.
    const op = await h.operatorLogin();
    const remote = await h.api('POST', '/api/operator/compartments/A3/open', { reason: 'check' }, op);
    expect(remote.status).toBe(409);

    h.close('A3');
    await h.waitForDoor('A3', 'closed');
    await waitFor('A3 free', async () => (await h.operatorCompartment(op, 'A3')).state === 'free');
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.picked_up']);
    expect(h.read.eventTypes('op')).toEqual(['alarm.door_left_open']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });
});
