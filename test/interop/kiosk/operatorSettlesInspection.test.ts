// Service mode settles a compartment in inspection (docs/architecture.md, "Uncertain
// outcomes"): a deposit cancelled with the parcel inside sends the compartment to inspection;
// the operator touches it, sees the settle panel, opens the door, closes it and marks it empty;
// the compartment is back in service.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { KioskHarness, type DepositJson } from '../../support/kioskHarness.js';

let h: KioskHarness;
beforeAll(async () => {
  h = await KioskHarness.start('operatorSettlesInspection');
});
afterAll(async () => {
  await h?.close();
});

const tile = (id: string) => `.tile[data-compartment="${id}"]`;

it('open, look, close, mark empty: back in service', async () => {
  const token = await h.courierToken('swiftpost', 'c-3');
  const { deposit } = await h.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill: 'SP-INS-1', size: 'XS' }, token);
  const id = deposit.compartment.id;
  await h.waitForDoor(id, true);
  await h.sim(`compartments/${id}/put`);
  await h.api('POST', `/api/courier/deposits/${deposit.id}/cancel`, {}, token);
  await h.sim(`compartments/${id}/close`);
  await h.waitForDeposit(token, deposit.id, 'cancelled');
  expect((await h.compartments()).find((c) => c.id === id)).toMatchObject({ state: 'out_of_service', fault: 'NEEDS_INSPECTION' });

  await h.scan(await h.demo.mintOperatorBadge('ops-9'));
  await h.waitForScreen('operator');
  await h.tap(tile(id));
  await h.page.waitForSelector('[data-ref="settle"]:not([hidden])');
  expect(await h.text('.settle-info')).toContain('Open the door, look inside');
  expect(await h.smallTouchTargets()).toEqual([]);
  await h.screenshot('settle-panel');

  // Marking it before anyone looked is refused: it stays in inspection.
  const refused = h.page.waitForResponse((r) => r.url().includes(`/api/operator/compartments/${id}/settle`));
  await h.tap('[data-verdict="empty"]');
  expect((await refused).status()).toBe(409);
  expect((await h.compartments()).find((c) => c.id === id)).toMatchObject({ state: 'out_of_service', fault: 'NEEDS_INSPECTION' });

  await h.tapText('Open the door');
  await h.page.waitForSelector(`${tile(id)}[data-door="open"]`);
  await h.sim(`compartments/${id}/take`);
  await h.sim(`compartments/${id}/close`);
  await h.page.waitForSelector(`${tile(id)}[data-door="closed"]`);
  await h.tap('[data-verdict="empty"]');
  await h.page.waitForSelector(`${tile(id)}[data-state="free"]`);
  expect((await h.compartments()).find((c) => c.id === id)).toMatchObject({ state: 'free' });
  await h.page.waitForSelector('[data-ref="settle"][hidden]', { state: 'attached' });
});
