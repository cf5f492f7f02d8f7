// Growth with work (issue 10, item 4): tables that are bounded by configuration, not by a
// retention rule, stay bounded whatever a stranger does at the kiosk.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { BudgetLedger } from '../../../src/codes/budgetLedger.js';
import { CourierPinsConfig } from '../../../src/config/schema.js';
import { BadgeRevocations } from '../../../src/credentials/badgeRevocations.js';
import { Credentials } from '../../../src/domain/credentials.js';
import { EventRecorder } from '../../../src/domain/eventRecorder.js';
import { silentLogger } from '../../../src/logger.js';
import { openDatabase, tableRowCounts } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';

describe('tables bounded by configuration', () => {
  it('attempt_budgets: wrong PINs under any number of unknown courier ids add no row beyond the locker-wide one', async () => {
    const db = openDatabase(':memory:');
    const store = new LockerStore(db);
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let n = 0;
    const recorder = new EventRecorder(store, new Outbox(db), clock, () => `01ID${String(++n).padStart(22, '0')}`, 'boot-1', () => true);
    const budgets = new BudgetLedger(store, clock);
    const badges = { maxLifetimeHours: { courier: 12, operator: 12 }, maxRevocationsPerIssuer: 100, iatSkewS: 60 } as never;
    const credentials = new Credentials(
      store,
      { id: 'ops', signingKeys: [] } as never,
      clock,
      { budgets, policy: CourierPinsConfig.parse({ perLocker: { burst: 1_000, refillPerHour: 1_000 } }), recorder, logger: silentLogger() },
      { policy: () => badges, revocations: new BadgeRevocations(store, clock, () => badges) },
    );
    for (let i = 0; i < 5; i++) await expect(credentials.courierByPin('swiftpost', `stranger-${i}`, '000000')).rejects.toThrow();
    expect(tableRowCounts(db).attempt_budgets).toBe(1);
    db.close();
  });
});
