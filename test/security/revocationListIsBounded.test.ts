// Attack: a carrier with valid keys floods the locker with revocations to grow its database
// without end, or to crowd out everyone else's revocations. Rule: each issuer has a bounded
// share of the list (a full share refuses with BADGE_REVOCATIONS_FULL and never evicts, which
// would bring a revoked badge back), and entries are forgotten only once every badge they
// cover has expired (revoked at + maximum lifetime + iat skew).
import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel/clock.js';
import { BadgesConfig } from '../../src/config/schema.js';
import { BadgeRevocations } from '../../src/credentials/badgeRevocations.js';
import { openDatabase } from '../../src/store/database.js';
import { LockerStore } from '../../src/store/lockerStore.js';

const DAY = 86_400_000;

describe('the revocation list is bounded', () => {
  let clock: ManualClock;
  let store: LockerStore;
  let list: BadgeRevocations;
  const policy = BadgesConfig.parse({ maxRevocationsPerIssuer: 10 });
  const badge = (issuer: string, jti: string, issuedAt: number) => ({ issuer, jti, subject: 'courier-1', issuedAt });

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 5, 1));
    store = new LockerStore(openDatabase(':memory:'));
    list = new BadgeRevocations(store, clock, () => policy);
  });

  it('refuses an eleventh entry of one carrier with BADGE_REVOCATIONS_FULL; others are not crowded out', () => {
    for (let i = 0; i < 10; i++) list.revoke({ by: 'badge', issuer: 'acme', role: 'courier', jti: `flood-${i}` }, 'carrier:acme');
    expect(() => list.revoke({ by: 'badge', issuer: 'acme', role: 'courier', jti: 'flood-10' }, 'carrier:acme')).toThrow(expect.objectContaining({ code: 'BADGE_REVOCATIONS_FULL' }));
    // A repeat of an entry in force is fine, and nothing was evicted.
    expect(list.revoke({ by: 'badge', issuer: 'acme', role: 'courier', jti: 'flood-3' }, 'carrier:acme').added).toBe(false);
    expect(list.covering(badge('acme', 'flood-0', clock.now()))).toBeDefined();
    // Another carrier and the operator still have their own share.
    expect(list.revoke({ by: 'badge', issuer: 'bolt', role: 'courier', jti: 'b-1' }, 'carrier:bolt').added).toBe(true);
    expect(list.revoke({ by: 'subject', issuer: 'operator', role: 'operator', subject: 'tech-1', notBefore: clock.now() }, 'operator:operator').added).toBe(true);
  });

  it('keeps an entry while a badge it covers can still be valid, then forgets it', async () => {
    const issuedAt = clock.now();
    list.revoke({ by: 'badge', issuer: 'acme', role: 'courier', jti: 'lost-1' }, 'carrier:acme');
    await clock.advance(7 * DAY);
    list.prune();
    expect(list.covering(badge('acme', 'lost-1', issuedAt))).toBeDefined();
    await clock.advance(61_000);
    expect(list.prune()).toBe(1);
    expect(store.revocationCount('acme')).toBe(0);
    // The share is free again.
    for (let i = 0; i < 10; i++) list.revoke({ by: 'badge', issuer: 'acme', role: 'courier', jti: `later-${i}` }, 'carrier:acme');
    expect(store.revocationCount('acme')).toBe(10);
  });

  it('operator badge entries go after the operator maximum (24 h), subject entries after not-before + maximum', async () => {
    list.revoke({ by: 'badge', issuer: 'operator', role: 'operator', jti: 'op-1' }, 'operator:operator');
    const notBefore = clock.now() + DAY;
    list.revoke({ by: 'subject', issuer: 'acme', role: 'courier', subject: 'courier-9', notBefore }, 'operator:operator');
    await clock.advance(DAY + 61_000);
    expect(list.prune()).toBe(1);
    await clock.advance(7 * DAY);
    expect(list.prune()).toBe(1);
  });

  it('refuses a not-before further ahead than a maximum lifetime (it would pin an entry)', () => {
    expect(() => list.revoke({ by: 'subject', issuer: 'acme', role: 'courier', subject: 'c', notBefore: clock.now() + 30 * DAY }, 'carrier:acme')).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID' }),
    );
  });

  it('a later not-before strengthens a subject entry, an earlier one never weakens it', () => {
    const t = clock.now();
    list.revoke({ by: 'subject', issuer: 'acme', role: 'courier', subject: 'courier-1', notBefore: t }, 'carrier:acme');
    expect(list.revoke({ by: 'subject', issuer: 'acme', role: 'courier', subject: 'courier-1', notBefore: t - DAY }, 'carrier:acme').row.notBefore).toBe(t);
    expect(list.covering(badge('acme', 'x', t - 1))).toBeDefined();
    expect(list.covering(badge('acme', 'x', t))).toBeUndefined();
  });
});
