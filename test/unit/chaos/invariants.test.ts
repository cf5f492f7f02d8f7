// The chaos suite's checkers (test/chaos/invariants.ts) on hand-made records: each invariant
// flags the wrong record it exists for, and accepts the honest "go and look" of inspection.
import { describe, expect, it } from 'vitest';
import {
  checkConfirmedFacts,
  checkConsumer,
  checkIntegrity,
  checkPhysicalWorld,
  checkSeqContiguity,
  checkSeqStable,
  checkTransitions,
  type Snapshot,
  type SnapRow,
} from '../../chaos/invariants.js';

const pos = { bus: 'bus0', board: 0, lock: 1 };

function snap(over: Partial<Snapshot> = {}): Snapshot {
  return {
    integrity: 'ok',
    foreignKeyProblems: 0,
    parcels: [{ id: 'p1', carrier: 'swiftpost', waybill: 'W1', kind: 'delivery', state: 'stored', compartmentId: 'A1' }],
    compartments: [{ id: 'A1', ...pos, inService: true, fault: null }],
    inFlightSessions: [],
    outbox: [row(1, 'parcel.stored', 'p1')],
    audit: [{ action: 'parcel.stored', subject: 'p1' }],
    world: [{ position: pos, latched: true, doorOpen: false, itemPresent: true }],
    ...over,
  };
}

function row(seq: number, type: string, parcelId: string, id = `e${seq}`): SnapRow {
  return { stream: 'c/swiftpost', seq, id, type, data: { parcelId } };
}

describe('chaos invariants', () => {
  it('a consistent record passes every check', () => {
    const s = snap();
    expect([...checkIntegrity(s), ...checkPhysicalWorld(s), ...checkSeqContiguity(s), ...checkTransitions(s)]).toEqual([]);
  });

  it('a parcel recorded stored in a compartment the world shows empty is flagged, unless the compartment went to inspection', () => {
    const gone = { world: [{ position: pos, latched: true, doorOpen: false, itemPresent: false }] };
    expect(checkPhysicalWorld(snap(gone)).map((f) => f.detail)).toEqual(['A1: recorded stored (W1) but the compartment is empty']);
    expect(checkPhysicalWorld(snap({ ...gone, compartments: [{ id: 'A1', ...pos, inService: false, fault: 'NEEDS_INSPECTION' }] }))).toEqual([]);
  });

  it('a compartment offered free that holds a parcel is flagged', () => {
    const s = snap({ parcels: [{ id: 'p1', carrier: 'swiftpost', waybill: 'W1', kind: 'delivery', state: 'picked_up', compartmentId: 'A1' }], outbox: [row(1, 'parcel.stored', 'p1'), row(2, 'parcel.picked_up', 'p1')], audit: [{ action: 'parcel.stored', subject: 'p1' }, { action: 'parcel.picked_up', subject: 'p1' }] });
    expect(checkPhysicalWorld(s).map((f) => f.detail)).toEqual(['A1: offered free but holds a parcel']);
    expect(checkTransitions(s)).toEqual([]);
  });

  it('an event for a transition that did not happen, or without its audit row, is flagged', () => {
    // Finding 3: picked_up committed while the state stayed expired.
    const raced = snap({
      parcels: [{ id: 'p1', carrier: 'swiftpost', waybill: 'W1', kind: 'delivery', state: 'expired', compartmentId: 'A1' }],
      outbox: [row(1, 'parcel.stored', 'p1'), row(2, 'parcel.expired', 'p1'), row(3, 'parcel.picked_up', 'p1')],
      audit: [{ action: 'parcel.stored', subject: 'p1' }, { action: 'parcel.expired', subject: 'p1' }, { action: 'parcel.picked_up', subject: 'p1' }],
    });
    expect(checkTransitions(raced).map((f) => f.detail)).toEqual(['W1: last transition event parcel.picked_up, state expired']);
    expect(checkTransitions(snap({ audit: [] })).map((f) => f.detail)).toEqual(['W1: 1 parcel.stored event(s), 0 audit row(s)']);
    expect(checkTransitions(snap({ outbox: [row(1, 'parcel.stored', 'p1'), row(2, 'parcel.stored', 'p1')], audit: [{ action: 'parcel.stored', subject: 'p1' }, { action: 'parcel.stored', subject: 'p1' }] })).map((f) => f.detail)).toEqual(['W1: 2 parcel.stored events']);
  });

  it('a hole in a stream and a seq reused with another id across boots are flagged', () => {
    expect(checkSeqContiguity(snap({ outbox: [row(1, 'x', 'p1'), row(3, 'y', 'p1')] }))).toHaveLength(1);
    const seen = new Map<string, string>();
    const last = new Map<string, number>();
    expect(checkSeqStable(snap({ outbox: [row(1, 'a', 'p1'), row(2, 'b', 'p1')] }), seen, last)).toEqual([]);
    // A database recreated from nothing: seq 1 again, with a new id, and the stream went back.
    expect(checkSeqStable(snap({ outbox: [row(1, 'a', 'p1', 'new-id')] }), seen, last).map((f) => f.detail)).toEqual(['c/swiftpost|1: was e1, now new-id (a seq reused)', 'c/swiftpost: last seq went back from 2 to 1']);
  });

  it('a fact the API confirmed and the record lost is flagged', () => {
    const confirmed = [{ waybill: 'W2', carrier: 'swiftpost', kind: 'delivery' as const, confirmed: 'stored' as const, compartment: 'A2', retrievalStarted: false }];
    expect(checkConfirmedFacts(snap(), confirmed).map((f) => f.detail)).toEqual(['W2: confirmed stored in A2, no parcel in the database']);
    const moved = [{ waybill: 'W1', carrier: 'swiftpost', kind: 'delivery' as const, confirmed: 'stored' as const, compartment: 'A1', retrievalStarted: false }];
    expect(checkConfirmedFacts(snap({ parcels: [{ id: 'p1', carrier: 'swiftpost', waybill: 'W1', kind: 'delivery', state: 'picked_up', compartmentId: 'A1' }] }), moved)).toHaveLength(1);
    expect(checkConfirmedFacts(snap({ parcels: [{ id: 'p1', carrier: 'swiftpost', waybill: 'W1', kind: 'delivery', state: 'picked_up', compartmentId: 'A1' }] }), [{ ...moved[0]!, retrievalStarted: true }])).toEqual([]);
  });

  it('the consumer: a row never received is flagged once the run is complete, a row received with another id at once', () => {
    const none = { find: () => undefined };
    expect(checkConsumer(snap(), 'L', none, false)).toEqual([]);
    expect(checkConsumer(snap(), 'L', none, true)).toHaveLength(1);
    expect(checkConsumer(snap(), 'L', { find: () => ({ id: 'other', conflicts: [] }) }, false)).toHaveLength(1);
    expect(checkConsumer(snap(), 'L', { find: () => ({ id: 'e1', conflicts: [] }) }, true)).toEqual([]);
  });

  it('a failed integrity check or a session left in flight after boot is flagged', () => {
    expect(checkIntegrity(snap({ integrity: '*** in database main ***' }))).toHaveLength(1);
    expect(checkIntegrity(snap({ inFlightSessions: [{ id: 's1', compartmentId: 'A1' }] }))).toHaveLength(1);
  });
});
