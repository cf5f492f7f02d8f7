// The bounds of a collection's confirmation (issue 11, flow 7), on a ManualClock: tries per
// parcel, the time window after the door opened, and how many wait at once.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { isLockerError } from '../../../kernel/errors.js';
import { CollectionConfirmations } from '../../../src/domain/collectionConfirmations.js';
import { type RecordSpec } from '../../../src/domain/eventRecorder.js';
import { parseEventData } from '../../../src/domain/events.js';
import { type CourierIdentity } from '../../../src/domain/views.js';

const courier: CourierIdentity = { carrier: 'swiftpost', courierId: 'c-1', permissions: ['collect'] };
const other: CourierIdentity = { carrier: 'parcelgo', courierId: 'c-2', permissions: ['collect'] };

function setup(limits = { tries: 2, windowMs: 60_000, max: 3 }) {
  const clock = new ManualClock();
  const recorded: RecordSpec[] = [];
  const c = new CollectionConfirmations({ commit: <T>(spec: RecordSpec, change?: () => T) => (recorded.push(spec), change?.() as T) }, clock, limits);
  const open = (n: number) => c.opened({ parcelId: `p${n}`, carrier: 'swiftpost', waybill: `SP-${n}`, compartment: `A${n}`, kind: 'expired' });
  return { clock, recorded, c, open };
}

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isLockerError(e) ? e.code : 'not a LockerError';
  }
  return undefined;
};

describe('collection confirmations', () => {
  it('records one event that matches the catalogue, with the wrong tries before it', () => {
    const { c, open, recorded } = setup();
    open(1);
    expect(codeOf(() => c.confirm(courier, 'p1', { by: 'scanned', waybill: 'SP-9' }))).toBe('WAYBILL_MISMATCH');
    expect(c.confirm(courier, 'p1', { by: 'scanned', waybill: ' sp-1 ' })).toEqual({ parcelId: 'p1', compartment: 'A1', by: 'scanned' });
    expect(recorded).toHaveLength(1);
    const event = recorded[0]?.events?.[0];
    expect(event?.type).toBe('parcel.collection_confirmed');
    expect(event?.carrier).toBe('swiftpost');
    expect(parseEventData('parcel.collection_confirmed', event?.data)).toMatchObject({ confirmation: 'scanned', wrongTries: 1, kind: 'expired', courier: 'c-1' });
    // Neither the audit record nor the event holds the wrong waybill.
    expect(JSON.stringify(recorded)).not.toContain('SP-9');
  });

  it('after the tries only a skip is taken; another carrier sees nothing', () => {
    const { c, open } = setup();
    open(1);
    expect(codeOf(() => c.confirm(other, 'p1', { by: 'typed', waybill: 'SP-1' }))).toBe('NOT_FOUND');
    expect(codeOf(() => c.confirm(courier, 'p1', { by: 'typed', waybill: 'X' }))).toBe('WAYBILL_MISMATCH');
    expect(codeOf(() => c.confirm(courier, 'p1', { by: 'typed', waybill: 'X' }))).toBe('WAYBILL_MISMATCH');
    expect(codeOf(() => c.confirm(courier, 'p1', { by: 'typed', waybill: 'SP-1' }))).toBe('CONFIRM_TRIES_SPENT');
    expect(c.confirm(courier, 'p1', { by: 'skipped', reason: 'no_label' })).toMatchObject({ by: 'skipped', reason: 'no_label' });
    expect(codeOf(() => c.confirm(courier, 'p1', { by: 'skipped', reason: 'no_label' }))).toBe('TRANSACTION_STATE');
  });

  it('lapses after the window and holds at most max at once, the oldest going first', async () => {
    const { c, open, clock } = setup();
    open(1);
    await clock.advance(30_000);
    open(2);
    open(3);
    open(4);
    expect(c.unconfirmed(courier).map((u) => u.parcelId)).toEqual(['p2', 'p3', 'p4']);
    expect(c.unconfirmed(other)).toEqual([]);
    await clock.advance(30_001);
    expect(c.unconfirmed(courier).map((u) => u.parcelId)).toEqual(['p2', 'p3', 'p4']);
    await clock.advance(30_000);
    expect(c.unconfirmed(courier)).toEqual([]);
    expect(codeOf(() => c.confirm(courier, 'p2', { by: 'typed', waybill: 'SP-2' }))).toBe('NOT_FOUND');
  });
});
