// A latched door pulled open without an unlock (vandalism, a weak latch): an alarm to the
// operator and, when a parcel is inside, an event to the carrier that owns it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockerHarness, seqGaps, waitFor } from '../support/lockerHarness.js';

describe('forced open', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('a compartment holding a parcel forced open raises alarm.door_forced_open and parcel.compartment_forced', async () => {
    const token = await h.courierLogin();
    const { compartment, code } = await h.deposit(token, 'SP-FO-1', 'M');
    expect(compartment).toBe('A3');
    const parcelId = h.read.parcelByWaybill('SP-FO-1')?.id;

    // Alarms go to the kiosk terminal's own stream (the operator screen), not the public one.
    const sse = await h.terminal();
    try {
      h.world.forceOpen(h.position('A3'));
      const alarm = await waitFor('forced-open alarm', () => h.read.events('alarm.door_forced_open')[0]);
      expect(alarm).toMatchObject({ stream: 'op', carrier: null, data: { compartment: 'A3' } });
      const forced = await waitFor('carrier event', () => h.read.events('parcel.compartment_forced')[0]);
      expect(forced).toMatchObject({ stream: 'c/swiftpost', carrier: 'swiftpost', data: { parcelId, waybill: 'SP-FO-1', compartment: 'A3' } });
      expect(forced.id).not.toBe(alarm.id);
      await sse.waitFor('alarm pushed to the kiosk', (e) => e.type === 'alarm' && (e.alarm as { type?: string }).type === 'alarm.door_forced_open');
      await sse.waitFor('door shown open', (e) => e.type === 'door' && e.compartment === 'A3' && e.door === 'open' && e.sessionId === undefined);
    } finally {
      sse.close();
    }
    await h.waitForDoor('A3', 'open');
    // No session was involved and nothing was consumed.
    expect(h.read.parcel(parcelId ?? '')?.state).toBe('stored');
    expect(h.read.inFlightSessions()).toEqual([]);

    // Closing it raises nothing more; the parcel can still be collected with its code.
    h.close('A3');
    await h.waitForDoor('A3', 'closed');
    // That closing raises nothing more is checked on the manual clock (test/unit/domain/doorTiming.test.ts).
    expect(h.read.events('alarm.door_forced_open')).toHaveLength(1);
    const pickup = await h.pickup(code);
    expect(pickup.status).toBe(200);
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.compartment_forced', 'parcel.picked_up']);
    expect(h.read.eventTypes('op')).toEqual(['alarm.door_forced_open']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });

  it('an empty compartment forced open alarms the operator only; doors opened by the locker never count as forced', async () => {
    const token = await h.courierLogin();
    // A door the locker opened itself is not "forced".
    const { code } = await h.deposit(token, 'SP-FO-2', 'S');
    await h.pickup(code);
    h.take('A1');
    h.close('A1');
    await h.waitForDoor('A1', 'closed');

    h.world.forceOpen(h.position('B4'));
    await waitFor('forced-open alarm', () => h.read.events('alarm.door_forced_open')[0]);
    expect(h.read.outbox('op').map((e) => [e.type, e.data.compartment])).toEqual([['alarm.door_forced_open', 'B4']]);
    expect(h.read.events('parcel.compartment_forced')).toEqual([]);
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.picked_up']);
    const alarms = await h.api<{ alarms: { type: string; compartment?: string }[] }>('GET', '/api/operator/alarms', undefined, await h.operatorLogin());
    expect(alarms.body.alarms.map((a) => [a.type, a.compartment])).toEqual([['alarm.door_forced_open', 'B4']]);
  });
});
