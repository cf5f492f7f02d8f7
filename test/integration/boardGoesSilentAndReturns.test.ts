// A lock board stops answering: an alarm, its compartments are unavailable (never allocated,
// a pickup from one fails with 502 BOARD_SILENT without consuming the code); when it answers
// again: another alarm and everything on it works again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, LockerHarness, seqGaps, waitFor } from '../support/lockerHarness.js';

interface Health {
  ok: boolean;
  buses: { id: string; connected: boolean; silentBoards: number[] }[];
  faults: unknown[];
}

const BOARD_1 = ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'D1', 'D2', 'D3', 'D4', 'D5', 'D6'];

describe('board goes silent and returns', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('takes the board out of use while silent and brings it back when it answers', async () => {
    const token = await h.courierLogin();
    const op = await h.operatorLogin();
    // XS parcels: B1 on board 0, then D1 on board 1.
    const first = await h.deposit(token, 'SP-BS-1', 'XS');
    const onBoard1 = await h.deposit(token, 'SP-BS-2', 'XS');
    expect([first.compartment, onBoard1.compartment]).toEqual(['B1', 'D1']);

    h.world.setBoardSilent('bus0', 1, true);
    const alarm = await waitFor('board silent alarm', () => h.read.events('alarm.board_silent')[0], 5_000);
    expect(alarm).toMatchObject({ stream: 'op', data: { bus: 'bus0', board: 1 } });
    expect([...(alarm.data.compartments as string[])].sort()).toEqual([...BOARD_1].sort());

    const health = await h.api<Health>('GET', '/api/health');
    // A silent board takes compartments out of service: health is not ok and names it (issue 9).
    expect(health.status).toBe(503);
    expect(health.body.ok).toBe(false);
    expect(health.body.faults).toEqual([{ code: 'BOARD_SILENT', bus: 'bus0', board: 1 }]);
    expect(health.body.buses).toEqual([{ id: 'bus0', connected: true, silentBoards: [1] }]);

    const list = await h.operatorCompartments(op);
    for (const c of list.filter((x) => BOARD_1.includes(x.id))) expect(c).toMatchObject({ state: 'out_of_service', fault: 'BOARD_SILENT' });
    for (const c of list.filter((x) => !BOARD_1.includes(x.id))) expect(c.state).not.toBe('out_of_service');

    // Never allocated: the next XS goes to the smallest fitting compartment on board 0 (an S),
    // not to the free XS compartment D2 on the silent board.
    const next = await h.deposit(token, 'SP-BS-3', 'XS');
    expect(next.compartment).toBe('A1');

    // Pickup from the silent board: 502, the code stays valid and did not count.
    const refused = await h.pickup(onBoard1.code);
    expect(refused.status).toBe(502);
    expect(errorCode(refused)).toBe('BOARD_SILENT');
    expect(errorContext(refused)).toMatchObject({ compartment: 'D1' });
    expect(h.read.parcelByWaybill('SP-BS-2')?.state).toBe('stored');
    expect((await h.api<{ failuresLeft: number }>('GET', '/api/lockout')).body.failuresLeft).toBe(10);
    expect(h.read.inFlightSessions()).toEqual([]);

    h.world.setBoardSilent('bus0', 1, false);
    const back = await waitFor('board back alarm', () => h.read.events('alarm.board_back')[0], 5_000);
    expect(back).toMatchObject({ stream: 'op', data: { bus: 'bus0', board: 1 } });
    const healthBack = await h.api<Health>('GET', '/api/health');
    expect(healthBack.status).toBe(200);
    expect(healthBack.body).toMatchObject({ ok: true, faults: [], buses: [{ id: 'bus0', connected: true, silentBoards: [] }] });
    const after = await h.operatorCompartments(op);
    expect(after.find((c) => c.id === 'D1')).toMatchObject({ state: 'occupied', door: 'closed' });
    expect(after.find((c) => c.id === 'D2')).toMatchObject({ state: 'free' });
    expect(after.find((c) => c.id === 'D2')?.fault).toBeUndefined();

    const pickup = await h.pickup(onBoard1.code);
    expect(pickup.status).toBe(200);
    expect(pickup.body.compartment.id).toBe('D1');
    expect(h.read.parcelByWaybill('SP-BS-2')?.state).toBe('picked_up');
    h.take('D1');
    h.close('D1');
    await h.waitForDoor('D1', 'closed');

    // And the board's compartments are allocated again.
    const again = await h.deposit(token, 'SP-BS-4', 'XS');
    expect(again.compartment).toBe('D1');

    expect(h.read.eventTypes('op')).toEqual(['alarm.board_silent', 'alarm.board_back']);
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.stored', 'parcel.stored', 'parcel.picked_up', 'parcel.stored']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });

  it('a deposit that needs a size only the silent board has is refused with BOARD_SILENT (the real cause)', async () => {
    const token = await h.courierLogin();
    // Fill the XL on board 0, then silence board 1 (which holds the other XL).
    const xl = await h.deposit(token, 'SP-BS-5', 'XL');
    expect(xl.compartment).toBe('A6');
    h.world.setBoardSilent('bus0', 1, true);
    await waitFor('board silent alarm', () => h.read.events('alarm.board_silent')[0], 5_000);
    const r = await h.startDeposit(token, 'SP-BS-6', 'XL');
    expect(r.status).toBe(502);
    expect(errorCode(r)).toBe('BOARD_SILENT');
    expect(h.world.lock(h.position('C6')).doorOpen).toBe(false);

    h.world.setBoardSilent('bus0', 1, false);
    await waitFor('board back alarm', () => h.read.events('alarm.board_back')[0], 5_000);
    const ok = await h.deposit(token, 'SP-BS-6', 'XL');
    expect(ok.compartment).toBe('C6');
  });
});
