// lockerd signs each event when it records it (issue 10, item 1): the outbox row of a deposit
// made over the kiosk API holds the exact envelope bytes, signed with the locker's key, before
// any broker is involved (this locker has no MQTT configured at all).
import { afterEach, describe, expect, it } from 'vitest';
import { verifyEnvelope } from '../../src/sync/envelope.js';
import { LockerHarness } from '../support/lockerHarness.js';

describe('events are signed when they are recorded', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('a deposit commits its parcel.stored row with envelope bytes that verify with the locker key', async () => {
    h = await LockerHarness.start();
    const token = await h.kiosk.courierLogin();
    const stored = await h.kiosk.deposit(token, 'SP-SIGNED-1', 'S');
    const row = h.running.outbox.rows('c/swiftpost').find((r) => r.type === 'parcel.stored');
    expect(row?.wire).toBeInstanceOf(Buffer);
    const verdict = verifyEnvelope(row?.wire ?? '', [h.running.identity.signingPublicJwk], h.running.config.locker.id);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    expect(verdict.envelope).toMatchObject({ type: 'parcel.stored', carrier: 'swiftpost', bootId: h.running.bootId, seq: row?.seq });
    expect(verdict.envelope.data).toMatchObject({ waybill: 'SP-SIGNED-1', compartment: stored.compartment });
  });
});
