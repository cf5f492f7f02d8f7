// Issue 9, finding 5 (full disk): the failed session insert of a deposit used to drive
// door_failed, and reallocation excluded only the last compartment, so the deposit bounced
// between two compartments until the stack overflowed. Rule: a door whose transaction cannot
// be recorded does not open; the reply is the store's coded error; nothing is half-written;
// and service resumes by itself when space returns. The store here refuses writes exactly as
// SQLite does on a full disk (SQLITE_FULL, mapped by the store to STORE_FULL).
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isLockerError } from '../../../kernel/errors.js';
import { reportingPolicy } from '../../../kernel/failurePolicy.js';
import { storeErrorCode } from '../../../src/store/database.js';
import { type DomainLocker, domainLocker } from '../../support/domainLocker.js';

/**
 * While `full()` is true, a store transaction that changes anything fails like SQLite on a full
 * disk (SQLITE_FULL, rolled back, mapped by the store to STORE_FULL); one that changes nothing
 * (an UPDATE matching no row) succeeds, as it does on a real full disk.
 */
function diskFills(d: DomainLocker, full: () => boolean): void {
  const real = d.store.transaction.bind(d.store);
  const changes = d.db.prepare<[], { n: number }>('SELECT total_changes() AS n');
  d.store.transaction = <T>(fn: () => T): T => {
    if (!full()) return real(fn);
    return real(() => {
      const before = changes.get()?.n ?? 0;
      const result = fn();
      if ((changes.get()?.n ?? 0) > before) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
      return result;
    });
  };
}

describe('a deposit on a full disk', () => {
  let d: DomainLocker | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it('is refused with STORE_FULL, opens no door, writes nothing, and works again when space returns', async () => {
    d = await domainLocker({ sizes: ['S', 'S', 'S'] });
    const locker = d;
    let full = true;
    diskFills(locker, () => full);
    const unlocks: string[] = [];
    locker.world.on((e) => {
      if (e.type === 'lock' && e.cause === 'unlock') unlocks.push(`${e.state.position.board}/${e.state.position.lock}`);
    });
    const auditBefore = locker.store.auditTrail().length;

    const refused = await locker.settle(locker.locker.startDeposit(locker.courier, { waybill: 'SP-FULL-1', size: 'S' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isLockerError(refused) && refused.code).toBe(ErrorCodes.STORE_FULL);
    // No door energised, none in flight, no session row, no audit row, nothing in the outbox.
    await locker.advance(500);
    expect(unlocks).toEqual([]);
    expect(['K1', 'K2', 'K3'].filter((id) => locker.doors.busy(id))).toEqual([]);
    expect(locker.store.doorSessions()).toEqual([]);
    expect(locker.store.auditTrail()).toHaveLength(auditBefore);
    expect(locker.events()).toEqual([]);
    // Every compartment is still free and in service: the disk, not a door, is what failed.
    expect(locker.locker.compartments().map((c) => [c.id, c.state])).toEqual([
      ['K1', 'free'],
      ['K2', 'free'],
      ['K3', 'free'],
    ]);

    full = false;
    const { compartment } = await locker.deposit('SP-FULL-2');
    expect(compartment).toBe('K1');
    expect(locker.events('parcel.stored')).toHaveLength(1);
  });

  it('never offers a compartment whose door failed again: two failing doors do not bounce a deposit', async () => {
    d = await domainLocker({ sizes: ['S', 'S', 'S'] });
    const locker = d;
    // K1 and K2 refuse to start a session (a door that cannot be used), K3 works.
    const realOpen = locker.doors.open.bind(locker.doors);
    const tried: string[] = [];
    locker.doors.open = (id, sessionId, onOutcome) => {
      tried.push(id);
      if (id !== 'K3') throw Object.assign(new Error('door unusable'), { code: 'TRANSPORT_ERROR' });
      return realOpen(id, sessionId, onOutcome);
    };
    const view = await locker.settle(locker.locker.startDeposit(locker.courier, { waybill: 'SP-BOUNCE', size: 'S' }));
    expect(view.compartment.id).toBe('K3');
    expect(tried).toEqual(['K1', 'K2', 'K3']);
  });

  it('the expiry sweep on a full disk reports to the failure policy instead of throwing out of its timer', async () => {
    d = await domainLocker({ sizes: ['S'] });
    const locker = d;
    await locker.deposit('SP-EXPIRES');
    let full = false;
    diskFills(locker, () => full);
    const reported: { path: string; code: string | undefined }[] = [];
    locker.locker.startTimers(reportingPolicy((path, err) => reported.push({ path, code: storeErrorCode(err) })));
    // The parcel's dwell (1 h) passes on the wall clock; the sweep's next run finds the disk full.
    locker.clock.stepWall(2 * 3_600_000);
    full = true;
    await locker.clock.advance(60_000);
    expect(reported).toContainEqual({ path: 'expiry.sweep', code: 'STORE_FULL' });
    expect(locker.store.allParcels().map((p) => p.state)).toEqual(['stored']);
    full = false;
    await locker.clock.advance(60_000);
    expect(locker.store.allParcels().map((p) => p.state)).toEqual(['expired']);
  });
});
