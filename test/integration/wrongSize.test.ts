// The parcel does not fit: the courier asks for a larger compartment, closes the first door
// empty, and the parcel is stored in the larger one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, LockerHarness, seqGaps, type DepositJson } from '../support/lockerHarness.js';

describe('wrong size', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('opens the next larger compartment, releases the first once closed empty, and stores the parcel there', async () => {
    const token = await h.courierLogin();
    const start = await h.startDeposit(token, 'SP-WS-1', 'S');
    expect(start.status).toBe(200);
    const id = start.body.deposit.id;
    expect(start.body.deposit.compartment.id).toBe('A1');

    const moved = await h.api<{ deposit: DepositJson }>('POST', `/api/courier/deposits/${id}/wrong-size`, {}, token);
    expect(moved.status).toBe(200);
    expect(moved.body.deposit).toMatchObject({ id, state: 'open', size: 'M', compartment: { id: 'A3', size: 'M' } });
    expect(h.simLock('A3').doorOpen).toBe(true);
    expect(h.simLock('A1').doorOpen).toBe(true);

    // While the first door stands open it is still held by this deposit.
    const op = await h.operatorLogin();
    expect((await h.operatorCompartment(op, 'A1')).state).toBe('occupied');

    h.close('A1');
    await h.waitForDoor('A1', 'closed');
    const { code, compartment } = await h.finishDeposit(token, moved.body.deposit);
    expect(compartment).toBe('A3');

    const parcels = h.read.parcels();
    expect(parcels).toHaveLength(1);
    expect(parcels[0]).toMatchObject({ waybill: 'SP-WS-1', state: 'stored', compartment_id: 'A3', size: 'M' });
    expect(await h.operatorCompartment(op, 'A1')).toMatchObject({ state: 'free', door: 'closed' });
    expect(await h.operatorCompartment(op, 'A3')).toMatchObject({ state: 'occupied', door: 'closed' });
    expect(h.simLock('A1').itemPresent).toBe(false);

    const events = h.read.outbox('c/swiftpost');
    expect(events.map((e) => e.type)).toEqual(['parcel.stored']);
    expect(events[0]?.data).toMatchObject({ compartment: 'A3', size: 'M', waybill: 'SP-WS-1' });
    expect(seqGaps(h.read.outbox())).toEqual([]);

    // The released compartment takes the next S parcel.
    const next = await h.deposit(token, 'SP-WS-2', 'S');
    expect(next.compartment).toBe('A1');

    const pickup = await h.pickup(code);
    expect(pickup.status).toBe(200);
    expect(pickup.body.compartment.id).toBe('A3');
    expect(h.read.inFlightSessions().filter((s) => s.compartment_id !== 'A3')).toEqual([]);
  });

  it('asks for a named size, and refuses when nothing larger is free', async () => {
    const token = await h.courierLogin();
    const start = await h.startDeposit(token, 'SP-WS-3', 'S');
    const id = start.body.deposit.id;
    const toL = await h.api<{ deposit: { compartment: { id: string }; size: string } }>('POST', `/api/courier/deposits/${id}/wrong-size`, { size: 'L' }, token);
    expect(toL.status).toBe(200);
    expect(toL.body.deposit).toMatchObject({ size: 'L', compartment: { id: 'A5' } });
    h.close('A1');

    // Then XL, and nothing is larger than XL.
    const toXl = await h.api<{ deposit: { compartment: { id: string } } }>('POST', `/api/courier/deposits/${id}/wrong-size`, { size: 'XL' }, token);
    expect(toXl.status).toBe(200);
    expect(toXl.body.deposit.compartment.id).toBe('A6');
    h.close('A5');
    const beyond = await h.api('POST', `/api/courier/deposits/${id}/wrong-size`, {}, token);
    expect(beyond.status).toBe(409);
    expect(errorCode(beyond)).toBe('NO_COMPARTMENT_FREE');

    // The deposit is still open in A6 and completes there.
    h.put('A6');
    h.close('A6');
    const stored = await h.waitForDeposit(token, id, 'stored');
    expect(stored.compartment.id).toBe('A6');
    expect(h.read.parcelByWaybill('SP-WS-3')).toMatchObject({ state: 'stored', compartment_id: 'A6', size: 'XL' });
  });
});
