// Issue 11, flow 3: a problem reported right after a pickup reaches the owning carrier and the
// operator; "door closed too early" opens the door once more. The kiosk's handle for it is
// bounded by a secret, a grace period and one use (PickupReports, on the manual clock).
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { seededRandom } from '../../../kernel/random.js';
import { PickupReports } from '../../../src/kiosk/pickupReports.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

describe('report a problem after a pickup', () => {
  it('a damaged parcel: one event to the carrier and one to the operator, without the code', async () => {
    dl = await domainLocker();
    const { code, compartment } = await dl.deposit('SP-REP-1');
    const opened = await dl.settle(dl.locker.pickup(code));
    expect(await dl.settle(dl.locker.reportProblem(opened.parcelId, 'damaged'))).toEqual({});
    const [c] = dl.events('parcel.problem_reported');
    expect(c).toMatchObject({ carrier: 'swiftpost', data: { parcelId: opened.parcelId, waybill: 'SP-REP-1', compartment, problem: 'damaged', reopened: false } });
    const [o] = dl.events('problem.reported');
    expect(o).toMatchObject({ carrier: null, data: { parcelId: opened.parcelId, carrier: 'swiftpost', compartment, problem: 'damaged' } });
    expect(o?.data).not.toHaveProperty('waybill');
    expect(JSON.stringify(dl.events())).not.toContain(code);
  });

  it('door closed too early: the same door opens once more and the report says so', async () => {
    dl = await domainLocker();
    const { code, compartment } = await dl.deposit('SP-REP-2');
    const opened = await dl.settle(dl.locker.pickup(code));
    dl.close(compartment);
    await dl.until('the door closed', () => dl?.locker.compartment(compartment).door === 'closed');
    const r = await dl.settle(dl.locker.reportProblem(opened.parcelId, 'door_closed_early'));
    expect(r.reopened?.compartment.id).toBe(compartment);
    expect(dl.events('parcel.problem_reported')[0]?.data).toMatchObject({ problem: 'door_closed_early', reopened: true });
    expect(dl.events('door.remote_opened')[0]?.data).toMatchObject({ compartment, by: 'consumer' });
  });
});

describe('the kiosk handle for a report', () => {
  it('needs the secret, holds for the grace period, once, and keeps at most 16', async () => {
    const clock = new ManualClock(0);
    const reports = new PickupReports(clock, seededRandom('reports'), 120_000);
    const secret = reports.open('s1', 'p1');
    expect(() => reports.take('s1', 'wrong')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => reports.take('s1', undefined)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(reports.take('s1', secret)).toBe('p1');
    expect(() => reports.take('s1', secret)).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE', context: { reason: 'reported' } }));

    const late = reports.open('s2', 'p2');
    await clock.advance(120_001);
    expect(() => reports.take('s2', late)).toThrow(expect.objectContaining({ code: 'TRANSACTION_STATE', context: { reason: 'grace_passed' } }));

    const first = reports.open('s-0', 'p-0');
    for (let i = 1; i <= 16; i++) reports.open(`s-${i}`, `p-${i}`);
    expect(() => reports.take('s-0', first)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
