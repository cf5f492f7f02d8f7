// Attack (issue 7, finding 3): a stranger learns a consumer's drop-off id (it was on the public
// stream) and cancels it while the parcel is going in; the cancelling state took any door close
// as "cancelled", showed the compartment free with the parcel inside and kept the code usable.
// Now only the interaction that started a door session may act on it, and a cancel that cannot
// prove the compartment empty sends it to inspection.
import { afterEach, describe, expect, it } from 'vitest';
import { cu16Overrides, waitFor } from '../support/lockerHarness.js';
import { KioskUnderAttack } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

interface Opened {
  dropoffId: string;
  secret: string;
  compartment: { id: string };
}

function world(k: KioskUnderAttack) {
  const w = k.running.world;
  if (!w) throw new Error('no simulator');
  return w;
}

function position(k: KioskUnderAttack, id: string): { bus: string; board: number; lock: number } {
  const c = k.running.config.layout.compartments.find((x) => x.id === id);
  if (!c) throw new Error(`no ${id}`);
  return { bus: c.bus, board: c.board, lock: c.lock };
}

async function startDropoff(k: KioskUnderAttack, waybill: string): Promise<{ code: string; opened: Opened }> {
  const { code } = await k.announce('swiftpost', { waybill, size: 'M', kind: 'dropoff' });
  const r = await k.json('POST', '/api/dropoff', { code });
  expect(r.status).toBe(200);
  return { code: code ?? '', opened: r.json as unknown as Opened };
}

const compartment = (k: KioskUnderAttack, id: string) => k.running.locker.compartment(id);

describe('only the starter acts on a drop-off', () => {
  it('a stranger with the drop-off id cannot cancel, view or finish it', async () => {
    k = await KioskUnderAttack.start();
    const { opened } = await startDropoff(k, 'SP-DO-VICTIM');
    const id = opened.dropoffId;
    const door = opened.compartment.id;
    await waitFor('door open', () => world(k!).lock(position(k!, door)).doorOpen);

    for (const auth of [undefined, 'not-the-secret', opened.secret.slice(0, -2) + 'xx']) {
      const cancel = await k.json('POST', `/api/dropoff/${id}/cancel`, {}, auth);
      expect(cancel.status).toBe(404);
      expect((await k.json('GET', `/api/dropoff/${id}`, undefined, auth)).status).toBe(404);
      expect((await k.json('POST', `/api/dropoff/${id}/done`, {}, auth)).status).toBe(404);
    }
    // A courier session is no drop-off secret either.
    const courier = String((await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-x') })).json['token']);
    expect((await k.json('POST', `/api/courier/deposits/${id}/cancel`, {}, courier)).status).toBe(404);

    // The drop-off carries on: the parcel goes in and is recorded.
    world(k).putParcel(position(k, door));
    world(k).closeDoor(position(k, door));
    await waitFor('stored', async () => ((await k!.json('GET', `/api/dropoff/${id}`, undefined, opened.secret)).json['deposit'] as { state?: string } | undefined)?.state === 'stored');
    expect(compartment(k, door).state).toBe('occupied');
  });

  it('a cancel on a locker without item sensors sends the compartment to inspection and voids the code', async () => {
    k = await KioskUnderAttack.start();
    const { code, opened } = await startDropoff(k, 'SP-DO-NOSENSOR');
    const door = opened.compartment.id;
    await waitFor('door open', () => world(k!).lock(position(k!, door)).doorOpen);
    world(k).putParcel(position(k, door));
    const cancel = await k.json('POST', `/api/dropoff/${opened.dropoffId}/cancel`, {}, opened.secret);
    expect(cancel.status).toBe(200);
    world(k).closeDoor(position(k, door));
    await waitFor('inspection', () => compartment(k!, door).state === 'out_of_service');
    expect(compartment(k, door).fault).toBe('NEEDS_INSPECTION');
    expect(k.running.locker.alarms.recent(10).map((a) => a.type)).toContain('alarm.needs_inspection');
    const again = await k.json('POST', '/api/dropoff', { code });
    expect(again.status).toBe(404);
    expect(again.json.error?.code).toBe('CODE_UNKNOWN');
  });

  it('with item sensors: a cancel closed empty frees the compartment and keeps the code; one closed with the parcel inside goes to inspection', async () => {
    k = await KioskUnderAttack.start({ overrides: cu16Overrides({ itemSensors: true }) });
    const first = await startDropoff(k, 'SP-DO-EMPTY');
    const d1 = first.opened.compartment.id;
    await waitFor('door open', () => world(k!).lock(position(k!, d1)).doorOpen);
    expect((await k.json('POST', `/api/dropoff/${first.opened.dropoffId}/cancel`, {}, first.opened.secret)).status).toBe(200);
    world(k).closeDoor(position(k, d1));
    await waitFor('cancelled', async () => ((await k!.json('GET', `/api/dropoff/${first.opened.dropoffId}`, undefined, first.opened.secret)).json['deposit'] as { state?: string } | undefined)?.state === 'cancelled');
    expect(compartment(k, d1)).toMatchObject({ state: 'free' });
    const retry = await k.json('POST', '/api/dropoff', { code: first.code });
    expect(retry.status).toBe(200);
    const retried = retry.json as unknown as Opened;
    const d2 = retried.compartment.id;
    await waitFor('door open', () => world(k!).lock(position(k!, d2)).doorOpen);
    world(k).putParcel(position(k, d2));
    expect((await k.json('POST', `/api/dropoff/${retried.dropoffId}/cancel`, {}, retried.secret)).status).toBe(200);
    world(k).closeDoor(position(k, d2));
    await waitFor('inspection', () => compartment(k!, d2).state === 'out_of_service');
    expect(compartment(k, d2).fault).toBe('NEEDS_INSPECTION');
    expect((await k.json('POST', '/api/dropoff', { code: first.code })).json.error?.code).toBe('CODE_UNKNOWN');
  });

  it("a courier cannot act on another courier's deposit, even of the same carrier", async () => {
    k = await KioskUnderAttack.start();
    const a = String((await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-a') })).json['token']);
    const b = String((await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-b') })).json['token']);
    const dep = await k.json('POST', '/api/courier/deposits', { waybill: 'SP-A-1', size: 'S' }, a);
    const id = String((dep.json['deposit'] as { id: string }).id);
    expect((await k.json('POST', `/api/courier/deposits/${id}/cancel`, {}, b)).status).toBe(404);
    expect((await k.json('GET', `/api/courier/deposits/${id}`, undefined, b)).status).toBe(404);
    expect((await k.json('POST', `/api/dropoff/${id}/cancel`, {})).status).toBe(404);
    expect((await k.json('GET', `/api/courier/deposits/${id}`, undefined, a)).status).toBe(200);
  });
});
