// Issue 11, flow 2 through the running lockerd: createReservation { group } as the command
// handler receives it (zod at the edge), deposits over the kiosk API, the carrier's codes in
// parcel.stored (the first member's codeJwe holds the one code; later members share it), and
// pickups over POST /api/pickup, each reply saying where the group stands.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { decryptCodeJwe } from '../../src/crypto/codeJwe.js';
import { CreateReservationArgs } from '../../src/domain/lockerOperations.js';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';

let h: LockerHarness;
beforeEach(async () => {
  h = await LockerHarness.start();
});
afterEach(async () => {
  await h.cleanup();
});

const by = { kind: 'carrier', id: 'swiftpost', commandId: 'cmd-1' } as const;

it('a carrier groups two deliveries; its one code, sent in the first parcel.stored, opens both doors in turn', async () => {
  expect(CreateReservationArgs.safeParse({ waybill: 'SP-G1', size: 'S', kind: 'delivery', group: 'no spaces allowed' }).success).toBe(false);
  for (const waybill of ['SP-G1', 'SP-G2']) {
    const out = await h.running.remote.createReservation('swiftpost', CreateReservationArgs.parse({ waybill, size: 'S', kind: 'delivery', group: 'rcpt-9' }), { ...by, commandId: waybill });
    expect(out).toMatchObject({ waybill, state: 'announced', carrierCode: false });
  }
  const token = await h.courierLogin('swiftpost', 'sp-courier-1');
  const doors: string[] = [];
  for (const waybill of ['SP-G1', 'SP-G2']) {
    const started = await h.startDeposit(token, waybill, 'S');
    const compartment = started.body.deposit.compartment.id;
    h.put(compartment);
    h.close(compartment);
    await h.kiosk.waitForDeposit(token, started.body.deposit.id, 'stored');
    doors.push(compartment);
  }
  const key = h.demo.keys.carriers.swiftpost?.encryption;
  if (!key) throw new Error('no demo key for swiftpost');
  const events = await waitFor('both parcel.stored events', async () => {
    const e = h.read.events('parcel.stored').filter((x) => String(x.data.waybill).startsWith('SP-G'));
    return e.length === 2 ? e : undefined;
  }, 5_000);
  expect(events.map((e) => [e.data.group, e.data.sharesCode])).toEqual([
    ['rcpt-9', false],
    ['rcpt-9', true],
  ]);
  const [first, second] = await Promise.all(events.map((e) => decryptCodeJwe(e.data.codeJwe, key)));
  const code = first?.code ?? '';
  expect(code).toMatch(/^\d+$/);
  expect(second?.code).toBeUndefined();
  expect(second?.pickupToken).toBeDefined();

  for (const [i, door] of doors.entries()) {
    const r = await h.pickup(code);
    expect(r.status).toBe(200);
    const body = r.body as unknown as { compartment: { id: string }; group?: { position: number; total: number; remaining: number } };
    expect(body.compartment.id).toBe(door);
    expect(body.group).toMatchObject({ position: i + 1, total: 2, remaining: 1 - i });
    h.take(door);
    h.close(door);
    await h.waitForDoor(door, 'closed');
  }
  expect(h.read.events('parcel.picked_up').map((e) => e.data.waybill)).toEqual(['SP-G1', 'SP-G2']);
});
