import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import type { RevocationRow } from '../../../src/store/lockerStore.js';
import { BadgeSessionIndex } from '../../../src/kiosk/badgeSessions.js';

const row = (o: Partial<RevocationRow>): RevocationRow => ({ issuer: 'acme', kind: 'badge', target: 'b-1', role: 'courier', notBefore: null, basisAt: 0, revokedAt: 0, revokedBy: 'carrier:acme', ...o });

describe('BadgeSessionIndex', () => {
  it('ends the sessions a revocation covers, by badge id or by subject and issue time', () => {
    const clock = new ManualClock(1_000_000);
    const index = new BadgeSessionIndex(clock);
    const ended: string[] = [];
    const track = (token: string, jti: string, subject: string, issuedAt: number, issuer = 'acme') =>
      index.track(token, { issuer, jti, subject, issuedAt }, clock.now() + 60_000, () => ended.push(token));
    track('t1', 'b-1', 'c-1', 0);
    track('t2', 'b-1', 'c-1', 0, 'bolt');
    track('t3', 'b-3', 'c-2', 100);
    track('t4', 'b-4', 'c-2', 900);
    expect(index.endCovered(row({}))).toBe(1);
    expect(index.endCovered(row({ kind: 'subject', target: 'c-2', notBefore: 500 }))).toBe(1);
    expect(ended).toEqual(['t1', 't3']);
    expect(index.size).toBe(2);
  });

  it('is bounded: when full the oldest session is ended, never silently forgotten; expired badges are dropped', async () => {
    const clock = new ManualClock(0);
    const index = new BadgeSessionIndex(clock, 2);
    const ended: string[] = [];
    index.track('a', { issuer: 'acme', jti: 'a', subject: 's', issuedAt: 0 }, 10_000, () => ended.push('a'));
    index.track('b', { issuer: 'acme', jti: 'b', subject: 's', issuedAt: 0 }, 50_000, () => ended.push('b'));
    index.track('c', { issuer: 'acme', jti: 'c', subject: 's', issuedAt: 0 }, 50_000, () => ended.push('c'));
    expect(ended).toEqual(['a']);
    await clock.advance(60_000);
    index.track('d', { issuer: 'acme', jti: 'd', subject: 's', issuedAt: 0 }, 120_000, () => ended.push('d'));
    expect(ended).toEqual(['a']);
    expect(index.size).toBe(1);
  });
});
