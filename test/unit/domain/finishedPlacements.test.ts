// Finished deposits kept in memory are bounded in count as well as in time (issue 10: 2,000
// deposits in half an hour kept 2,000 of them).
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../kernel/errors.js';
import { FINISHED_KEPT_MAX } from '../../../src/domain/placements.js';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

describe('finished placements', () => {
  let h: DomainLocker;
  afterEach(async () => {
    await h.stop();
  });

  it(`keeps at most ${FINISHED_KEPT_MAX} finished deposits; the newest stay readable, the first is forgotten`, async () => {
    h = await domainLocker();
    const startedAt = h.clock.now();
    const ids: string[] = [];
    const total = FINISHED_KEPT_MAX + 6;
    for (let i = 0; i < total; i++) {
      const started = await h.settle(h.locker.startDeposit(h.courier, { waybill: `SP-${i}`, size: 'S' }));
      ids.push(started.id);
      const compartment = started.compartment.id;
      h.put(compartment);
      h.close(compartment);
      const view = await h.until('stored', () => {
        const v = h.locker.depositView(h.courier, started.id);
        return v.state === 'stored' ? v : undefined;
      });
      // Picked up at once, so the compartments come free for the next deposit.
      await h.settle(h.locker.pickup(view.pickupCode ?? ''));
      h.take(compartment);
      h.close(compartment);
      await h.advance(100);
    }
    // All within half an hour: only the count bound forgets them. One more start sweeps.
    expect(h.clock.now() - startedAt).toBeLessThan(30 * 60_000);
    await h.settle(h.locker.startDeposit(h.courier, { waybill: 'SP-last', size: 'S' }));
    expect(h.locker.placementsHeld()).toBeLessThanOrEqual(FINISHED_KEPT_MAX + 1);
    expect(() => h.locker.depositView(h.courier, ids[0] ?? '')).toThrow(expect.objectContaining({ code: ErrorCodes.NOT_FOUND }));
    expect(h.locker.depositView(h.courier, ids.at(-1) ?? '').state).toBe('stored');
  });
});
