// A consumer sends a parcel: the carrier announces a drop-off with a code, the consumer's code
// opens a door, the parcel is dropped off when the door closes, and a courier of that carrier
// (only) collects it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, LockerHarness, seqGaps, type CompartmentJson, type DepositJson } from '../support/lockerHarness.js';

interface DropoffOpened {
  sessionId: string;
  dropoffId: string;
  /** The starter's secret: every follow-up call on the drop-off shows it. */
  secret: string;
  compartment: CompartmentJson;
  deposit: DepositJson;
}

interface Collections {
  items: { parcelId: string; kind: string; waybill: string; compartment: CompartmentJson }[];
}

describe('drop-off and collection', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('drops off with the announced code and is collected by a courier of the same carrier', async () => {
    const announced = await h.announce('parcelgo', { waybill: 'PG-DO-1', size: 'M', kind: 'dropoff' });
    expect(announced.code).toMatch(/^[0-9]{8}$/);
    const code = announced.code ?? '';
    expect(h.read.parcel(announced.parcelId)).toMatchObject({ kind: 'dropoff', state: 'announced_dropoff', compartment_id: null });
    expect(h.read.allText()).not.toContain(code);

    // A drop-off code is not a pickup code (and that is not a wrong guess).
    const asPickup = await h.pickup(code);
    expect(asPickup.status).toBe(404);
    expect(errorCode(asPickup)).toBe('CODE_UNKNOWN');
    expect(errorContext(asPickup)).toMatchObject({ reason: 'dropoff_code' });
    expect((await h.api<{ failuresLeft: number }>('GET', '/api/lockout')).body.failuresLeft).toBe(10);

    const opened = await h.api<DropoffOpened>('POST', '/api/dropoff', { code });
    expect(opened.status).toBe(200);
    expect(opened.body.compartment).toMatchObject({ id: 'A3', size: 'M' });
    expect(opened.body.deposit).toMatchObject({ kind: 'dropoff', waybill: 'PG-DO-1', carrier: 'parcelgo', state: 'open' });
    expect(h.simLock('A3').doorOpen).toBe(true);

    // The same code cannot open a second door while this one is in progress.
    const twice = await h.api('POST', '/api/dropoff', { code });
    expect(twice.status).toBe(409);
    expect(errorCode(twice)).toBe('TRANSACTION_STATE');

    h.put('A3');
    h.close('A3');
    const done = await h.api<{ state: string }>('POST', `/api/dropoff/${opened.body.dropoffId}/done`, undefined, opened.body.secret);
    expect(done.status).toBe(200);
    await h.waitForDoor('A3', 'closed');
    const view = await waitForDropoff(h, opened.body.dropoffId, opened.body.secret, 'stored');
    expect(view.pickupCode).toBeUndefined();
    expect(h.read.parcel(announced.parcelId)).toMatchObject({ state: 'dropped_off', compartment_id: 'A3', code_digest: null });
    const dropped = h.read.events('dropoff.dropped_off');
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toMatchObject({ stream: 'c/parcelgo', data: { parcelId: announced.parcelId, waybill: 'PG-DO-1', compartment: 'A3', size: 'M' } });

    // The used code is gone.
    const reused = await h.api('POST', '/api/dropoff', { code });
    expect(reused.status).toBe(404);
    expect(errorCode(reused)).toBe('CODE_UNKNOWN');

    // Another carrier's courier sees nothing and cannot open it.
    const sp = await h.courierLogin('swiftpost', 'sp-courier-1');
    expect((await h.api<Collections>('GET', '/api/courier/collections', undefined, sp)).body.items).toEqual([]);
    const spOpen = await h.api('POST', `/api/courier/collections/${announced.parcelId}/open`, {}, sp);
    expect(spOpen.status).toBe(404);
    expect(h.simLock('A3').doorOpen).toBe(false);

    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');
    const list = await h.api<Collections>('GET', '/api/courier/collections', undefined, pg);
    expect(list.body.items).toEqual([{ parcelId: announced.parcelId, kind: 'dropoff', waybill: 'PG-DO-1', compartment: expect.objectContaining({ id: 'A3', state: 'occupied' }) as unknown }]);

    const collect = await h.api<{ sessionId: string; compartment: CompartmentJson }>('POST', `/api/courier/collections/${announced.parcelId}/open`, {}, pg);
    expect(collect.status).toBe(200);
    expect(collect.body.compartment.id).toBe('A3');
    expect(h.simLock('A3').doorOpen).toBe(true);
    h.take('A3');
    h.close('A3');
    await h.waitForDoor('A3', 'closed');

    expect(h.read.parcel(announced.parcelId)?.state).toBe('collected');
    const events = h.read.outbox('c/parcelgo');
    expect(events.map((e) => e.type)).toEqual(['dropoff.announced', 'dropoff.dropped_off', 'dropoff.collected']);
    expect(events[2]?.data).toMatchObject({ parcelId: announced.parcelId, waybill: 'PG-DO-1', compartment: 'A3', courier: 'pg-courier-1' });
    expect(h.read.outbox('c/swiftpost')).toEqual([]);
    expect(seqGaps(h.read.outbox())).toEqual([]);
    expect((await h.api<Collections>('GET', '/api/courier/collections', undefined, pg)).body.items).toEqual([]);
    expect(h.read.inFlightSessions()).toEqual([]);
    expect(h.read.allText()).not.toContain(code);
  });

  it('a drop-off code chosen by the carrier works, and a pickup code is refused at the drop-off screen', async () => {
    const announced = await h.announce('swiftpost', { waybill: 'SP-DO-2', size: 'S', kind: 'dropoff', code: '24681357' });
    expect(announced.code).toBeUndefined();
    const courier = await h.courierLogin();
    const parcel = await h.deposit(courier, 'SP-DO-3', 'S');

    const wrongScreen = await h.api('POST', '/api/dropoff', { code: parcel.code });
    expect(wrongScreen.status).toBe(404);
    expect(errorContext(wrongScreen)).toMatchObject({ reason: 'pickup_code' });

    const opened = await h.api<DropoffOpened>('POST', '/api/dropoff', { code: '2468 1357' });
    expect(opened.status).toBe(200);
    const compartment = opened.body.compartment.id;
    expect(compartment).toBe('A2');
    h.put(compartment);
    h.close(compartment);
    await waitForDropoff(h, opened.body.dropoffId, opened.body.secret, 'stored');
    expect(h.read.parcel(announced.parcelId)).toMatchObject({ state: 'dropped_off', compartment_id: 'A2' });
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['dropoff.announced', 'parcel.stored', 'dropoff.dropped_off']);
  });
});

async function waitForDropoff(h: LockerHarness, id: string, secret: string, state: string): Promise<DepositJson> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const r = await h.api<{ deposit: DepositJson }>('GET', `/api/dropoff/${id}`, undefined, secret);
    if (r.status === 200 && r.body.deposit.state === state) return r.body.deposit;
    if (Date.now() > deadline) throw new Error(`drop-off ${id} did not reach ${state}: ${JSON.stringify(r.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
