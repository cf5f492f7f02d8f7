// Issue 11, flow 4: a carrier's reservation can require a low (accessible) compartment, and a
// consumer can ask for one at drop-off. Both get a low door even though a smaller non-low one
// fits; a parcel that asks for nothing leaves the low door free.
import { afterEach, expect, it } from 'vitest';
import { LayoutConfig } from '../../../src/config/schema.js';
import { applyLayout } from '../../../src/domain/provisioning.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

/** The fixture's cabinet (K1 S, K2 M, K3 L) with K3 low. */
async function lockerWithLowK3(): Promise<DomainLocker> {
  const d = await domainLocker({ sizes: ['S', 'M', 'L'] });
  const compartments = d.store.compartments().map((c) => ({ id: c.id, size: c.size, bus: c.bus, board: c.board, lock: c.lock, column: 1, row: Number(c.id.slice(1)), accessible: c.id === 'K3' }));
  applyLayout(d.store, LayoutConfig.parse({ version: 2, compartments }), d.clock.now());
  return d;
}

it('a reservation that requires a low compartment goes into the low door; one that does not leaves it free', async () => {
  dl = await lockerWithLowK3();
  dl.locker.announce('swiftpost', { waybill: 'SP-LOW-R1', size: 'S', kind: 'delivery', requiresLow: true }, { kind: 'carrier', id: 'swiftpost' });
  dl.locker.announce('swiftpost', { waybill: 'SP-PLAIN-1', size: 'S', kind: 'delivery' }, { kind: 'carrier', id: 'swiftpost' });
  // The courier does not ask: the reservation does.
  expect((await dl.deposit('SP-LOW-R1')).compartment).toBe('K3');
  expect((await dl.deposit('SP-PLAIN-1')).compartment).toBe('K1');
});

it('a consumer who asks for a low compartment at drop-off gets it; without asking, a non-low door', async () => {
  dl = await lockerWithLowK3();
  const asked = dl.locker.announce('swiftpost', { waybill: 'SP-DROP-LOW', size: 'S', kind: 'dropoff' }, { kind: 'carrier', id: 'swiftpost' });
  const plain = dl.locker.announce('swiftpost', { waybill: 'SP-DROP-1', size: 'S', kind: 'dropoff' }, { kind: 'carrier', id: 'swiftpost' });
  const low = await dl.settle(dl.locker.dropoff(asked.code ?? '', 'secret-1', { accessible: true }));
  expect(low.compartment.id).toBe('K3');
  const other = await dl.settle(dl.locker.dropoff(plain.code ?? '', 'secret-2'));
  expect(other.compartment.id).toBe('K1');
});

it('a drop-off reserved with requiresLow gets the low door without the consumer asking', async () => {
  dl = await lockerWithLowK3();
  const r = dl.locker.announce('swiftpost', { waybill: 'SP-DROP-R', size: 'S', kind: 'dropoff', requiresLow: true }, { kind: 'carrier', id: 'swiftpost' });
  expect((await dl.settle(dl.locker.dropoff(r.code ?? '', 'secret-3'))).compartment.id).toBe('K3');
});
