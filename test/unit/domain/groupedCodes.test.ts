// Issue 11, flow 2: the carrier groups parcels for one recipient (`group` in the reservation);
// one code opens every door of the group in turn, each door its own parcel.picked_up. The code
// stays a digest; a member that is expired or in inspection is named and the others still open.
import { afterEach, expect, it } from 'vitest';
import { codeDigest } from '../../../src/codes/pickupCode.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

const carrier = { kind: 'carrier', id: 'swiftpost' } as const;

/** A courier deposit of an announced parcel; returns the compartment and the revealed code (if this parcel got one). */
async function store(d: DomainLocker, waybill: string): Promise<{ compartment: string; code?: string }> {
  const started = await d.settle(d.locker.startDeposit(d.courier, { waybill, size: 'S' }));
  const compartment = started.compartment.id;
  d.put(compartment);
  d.close(compartment);
  const view = await d.until('stored', () => {
    const v = d.locker.depositView(d.courier, started.id);
    return v.state === 'stored' ? v : undefined;
  });
  return { compartment, ...(view.pickupCode ? { code: view.pickupCode } : {}) };
}

async function groupOfThree(): Promise<{ d: DomainLocker; code: string; doors: string[] }> {
  const d = await domainLocker({ sizes: ['S', 'S', 'S', 'S'] });
  for (const w of ['G-1', 'G-2', 'G-3']) d.locker.announce('swiftpost', { waybill: w, size: 'S', kind: 'delivery', group: 'recipient-42' }, carrier);
  const first = await store(d, 'G-1');
  const second = await store(d, 'G-2');
  const third = await store(d, 'G-3');
  expect(first.code).toBeDefined();
  // Later members get no code of their own: they share the first one's.
  expect(second.code).toBeUndefined();
  expect(third.code).toBeUndefined();
  // The group's code is one live code toward codes.maxLiveCodes (4 here).
  expect(() => d.codes.assertCapacity(3)).not.toThrow();
  expect(() => d.codes.assertCapacity(4)).toThrow(/1 live codes/);
  return { d, code: first.code ?? '', doors: [first.compartment, second.compartment, third.compartment] };
}

async function pickUp(d: DomainLocker, code: string) {
  const opened = await d.settle(d.locker.pickup(code));
  d.take(opened.compartment.id);
  d.close(opened.compartment.id);
  await d.until('door closed', () => d.doors.door(opened.compartment.id).open === false);
  return opened;
}

it('one code opens every door of the group in turn, each a normal pickup with its own event', async () => {
  const g = await groupOfThree();
  dl = g.d;
  // The fixture's carrier offers no longer pickup time: the group's code is refused as its parcels' would be.
  expect(() => dl?.locker.extendPickup(g.code)).toThrow(expect.objectContaining({ code: 'EXTENSION_NOT_ALLOWED' }));
  // At drop-off it is a pickup code, and no try is taken.
  await expect(dl.settle(dl.locker.dropoff(g.code, 'secret-x'))).rejects.toMatchObject({ code: 'CODE_UNKNOWN', context: { reason: 'pickup_code' } });
  expect(dl.codes.lockout().failuresLeft).toBe(10);
  const a = await pickUp(dl, g.code);
  expect(a.compartment.id).toBe(g.doors[0]);
  expect(a.group).toEqual({ position: 1, total: 3, remaining: 2, skipped: [] });
  const b = await pickUp(dl, g.code);
  expect(b.compartment.id).toBe(g.doors[1]);
  expect(b.group).toMatchObject({ position: 2, total: 3, remaining: 1 });
  const c = await pickUp(dl, g.code);
  expect(c.compartment.id).toBe(g.doors[2]);
  expect(c.group).toMatchObject({ position: 3, total: 3, remaining: 0 });
  const picked = dl.events('parcel.picked_up').map((e) => e.data.waybill);
  expect(picked).toEqual(['G-1', 'G-2', 'G-3']);
  // The group's members' stored events say whose code they share; the code itself is never stored.
  const stored = dl.events('parcel.stored');
  expect(stored.map((e) => e.data.group)).toEqual(['recipient-42', 'recipient-42', 'recipient-42']);
  expect(stored.map((e) => e.data.sharesCode)).toEqual([false, true, true]);
  const dump = JSON.stringify(dl.db.prepare('SELECT * FROM parcel_groups').all()) + JSON.stringify(dl.db.prepare('SELECT * FROM parcels').all());
  expect(dump).not.toContain(g.code);
  expect(dump).toContain(codeDigest(new Uint8Array(32).fill(7), g.code));
  // All collected: the code is now "already collected".
  await expect(dl.settle(dl.locker.pickup(g.code))).rejects.toMatchObject({ code: 'CODE_UNKNOWN', context: { reason: 'already_collected' } });
});

it('a member in inspection or expired is named and skipped; the others still open', async () => {
  const g = await groupOfThree();
  dl = g.d;
  // The first member's compartment goes to inspection (an uncertain outcome), the second member expires.
  dl.db.prepare("INSERT INTO door_sessions (id, compartment_id, purpose, actor, context, state, started_at) VALUES ('s-x', ?, 'pickup', 'consumer', '{}', 'uncertain', ?)").run(g.doors[0], dl.clock.now());
  dl.db.prepare("UPDATE parcels SET expires_at = ? WHERE compartment_id = ? AND state = 'stored'").run(dl.clock.now() - 1, g.doors[1] ?? '');
  const c = await pickUp(dl, g.code);
  expect(c.compartment.id).toBe(g.doors[2]);
  expect(c.group?.skipped).toEqual([
    { compartment: g.doors[0], reason: 'inspection' },
    { compartment: g.doors[1], reason: 'expired' },
  ]);
  expect(c.group?.remaining).toBe(0);
  expect(dl.events('parcel.picked_up').map((e) => e.data.waybill)).toEqual(['G-3']);
});

it('a grouped reservation refuses a carrier-chosen code and a group bigger than the bound', async () => {
  dl = await domainLocker({ sizes: ['S'] });
  expect(() => dl?.locker.announce('swiftpost', { waybill: 'G-C', size: 'S', kind: 'delivery', group: 'g', code: '1234567890' }, carrier)).toThrow(/group/);
  expect(() => dl?.locker.announce('swiftpost', { waybill: 'G-D', size: 'S', kind: 'dropoff', group: 'g' }, carrier)).toThrow(/group/);
  for (let i = 0; i < 20; i++) dl.locker.announce('swiftpost', { waybill: `G-${i}`, size: 'S', kind: 'delivery', group: 'big' }, carrier);
  expect(() => dl?.locker.announce('swiftpost', { waybill: 'G-21', size: 'S', kind: 'delivery', group: 'big' }, carrier)).toThrow(/at most 20/);
});

it('a member whose door fails is named; the code still opens the next door, and the jammed one keeps its parcel', async () => {
  const g = await groupOfThree();
  dl = g.d;
  dl.world.setJammed(dl.position(g.doors[0] ?? ''), true);
  await expect(dl.settle(dl.locker.pickup(g.code))).rejects.toMatchObject({ code: 'LATCH_JAMMED', context: { compartment: g.doors[0] } });
  const next = await pickUp(dl, g.code);
  expect(next.compartment.id).toBe(g.doors[1]);
  expect(next.group).toMatchObject({ position: 1, total: 3, remaining: 1, skipped: [{ compartment: g.doors[0], reason: 'out_of_service' }] });
  await pickUp(dl, g.code);
  // Only the jammed door is left: it is tried again, and once free it opens on the same code.
  dl.world.setJammed(dl.position(g.doors[0] ?? ''), false);
  const last = await pickUp(dl, g.code);
  expect(last.compartment.id).toBe(g.doors[0]);
  expect(last.group).toMatchObject({ position: 3, total: 3, remaining: 0 });
  expect(dl.events('parcel.pickup_failed').map((e) => e.data.waybill)).toEqual(['G-1']);
});

it('two members whose doors close at the same moment still end with one code between them', async () => {
  const d = await domainLocker({ sizes: ['S', 'S'] });
  dl = d;
  for (const w of ['G-A', 'G-B']) d.locker.announce('swiftpost', { waybill: w, size: 'S', kind: 'delivery', group: 'same-time' }, carrier);
  const a = await d.settle(d.locker.startDeposit(d.courier, { waybill: 'G-A', size: 'S' }));
  const b = await d.settle(d.locker.startDeposit(d.courier, { waybill: 'G-B', size: 'S' }));
  for (const s of [a, b]) d.put(s.compartment.id);
  for (const s of [a, b]) d.close(s.compartment.id);
  const views = await d.until('both stored', () => {
    const v = [a, b].map((s) => d.locker.depositView(d.courier, s.id));
    return v.every((x) => x.state === 'stored' && d.events('parcel.stored').length === 2) ? v : undefined;
  });
  const codes = views.flatMap((v) => v.pickupCode ?? []);
  expect(codes).toHaveLength(1);
  const first = await pickUp(d, codes[0] ?? '');
  const second = await pickUp(d, codes[0] ?? '');
  expect(new Set([first.compartment.id, second.compartment.id]).size).toBe(2);
});
