// A latch that does not release: the deposit is retried once, then the compartment goes out of
// service with an alarm and another one opens; a pickup fails without consuming the code and
// works with the same code once the latch is freed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, fastDoors, LockerHarness, seqGaps, type CompartmentJson } from '../support/lockerHarness.js';

describe('door did not open', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('a jammed compartment is retried, taken out of service with an alarm, and the deposit moves to another one', async () => {
    const token = await h.courierLogin();
    h.jam('A1');
    const started = Date.now();
    const r = await h.startDeposit(token, 'SP-JAM-1', 'S');
    const took = Date.now() - started;
    expect(r.status).toBe(200);
    expect(r.body.deposit).toMatchObject({ state: 'open', compartment: { id: 'A2', size: 'S' }, reassignedFrom: 'A1' });
    // Two unlock attempts of openTimeoutMs each before giving up on A1.
    expect(took).toBeGreaterThanOrEqual(2 * fastDoors.openTimeoutMs - 50);
    expect(h.simLock('A1')).toMatchObject({ latched: true, doorOpen: false });
    expect(h.simLock('A2').doorOpen).toBe(true);

    const op = await h.operatorLogin();
    expect(await h.operatorCompartment(op, 'A1')).toMatchObject({ state: 'out_of_service', fault: 'LATCH_JAMMED' });
    expect(h.read.compartmentRow('A1')).toEqual({ in_service: 0, fault: 'LATCH_JAMMED' });
    const alarms = h.read.outbox('op').filter((e) => e.type === 'alarm.latch_jammed');
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.data).toMatchObject({ compartment: 'A1' });
    const failed = h.read.sessions().find((s) => s.compartment_id === 'A1');
    expect(failed).toMatchObject({ state: 'failed', outcome: 'LATCH_JAMMED', purpose: 'deposit' });

    const stored = await h.finishDeposit(token, r.body.deposit);
    expect(stored.compartment).toBe('A2');
    expect(h.read.parcelByWaybill('SP-JAM-1')).toMatchObject({ state: 'stored', compartment_id: 'A2' });
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored']);

    // A1 is never offered again while out of service, even after the latch is freed.
    h.jam('A1', false);
    const next = await h.deposit(token, 'SP-JAM-2', 'S');
    expect(next.compartment).toBe('B2');
    expect(seqGaps(h.read.outbox())).toEqual([]);
    expect(h.read.inFlightSessions()).toEqual([]);
  });

  it('a pickup from a jammed compartment fails with 502 LATCH_JAMMED, keeps the code, and the same code works after unjamming', async () => {
    const token = await h.courierLogin();
    const { code, compartment } = await h.deposit(token, 'SP-JAM-3', 'M');
    expect(compartment).toBe('A3');
    const parcelId = h.read.parcelByWaybill('SP-JAM-3')?.id;

    h.jam('A3');
    const r = await h.pickup(code);
    expect(r.status).toBe(502);
    expect(errorCode(r)).toBe('LATCH_JAMMED');
    expect(errorContext(r)).toMatchObject({ compartment: 'A3', codeStillValid: true });

    // Nothing consumed: the parcel is still stored, the code did not count as a failure.
    expect(h.read.parcel(parcelId ?? '')?.state).toBe('stored');
    const lockout = await h.api<{ lockedOut: boolean; failuresLeft: number }>('GET', '/api/lockout');
    expect(lockout.body).toEqual({ lockedOut: false, retryAfterMs: 0, failuresLeft: 10 });
    const op = await h.operatorLogin();
    expect(await h.operatorCompartment(op, 'A3')).toMatchObject({ state: 'out_of_service', fault: 'LATCH_JAMMED' });
    expect(h.read.eventTypes('op')).toContain('alarm.latch_jammed');
    const carrierEvents = h.read.outbox('c/swiftpost');
    expect(carrierEvents.map((e) => e.type)).toEqual(['parcel.stored', 'parcel.pickup_failed']);
    expect(carrierEvents[1]?.data).toMatchObject({ parcelId, reason: 'LATCH_JAMMED' });
    expect(h.simLock('A3')).toMatchObject({ doorOpen: false, itemPresent: true });

    // The out-of-service compartment is not offered to a new deposit.
    const other = await h.deposit(token, 'SP-JAM-4', 'M');
    expect(other.compartment).toBe('A4');

    h.jam('A3', false);
    const again = await h.pickup(code);
    expect(again.status).toBe(200);
    expect(again.body.compartment).toMatchObject({ id: 'A3' });
    expect(h.read.parcel(parcelId ?? '')?.state).toBe('picked_up');
    h.take('A3');
    h.close('A3');
    await h.waitForDoor('A3', 'closed');

    const back: CompartmentJson = await h.operatorCompartment(op, 'A3');
    expect(back).toMatchObject({ state: 'free', door: 'closed' });
    expect(back.fault).toBeUndefined();
    expect(h.read.compartmentRow('A3')).toEqual({ in_service: 1, fault: null });
    expect(h.read.eventTypes('op')).toEqual(['alarm.latch_jammed', 'compartment.recovered']);
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.pickup_failed', 'parcel.stored', 'parcel.picked_up']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });
});
