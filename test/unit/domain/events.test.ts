// The event catalogue: constructors build what their schemas accept, the stream follows the
// type, and payload drift does not compile (the @ts-expect-error lines fail the type check the
// day the drift becomes possible again).
import { describe, expect, it } from 'vitest';
import { catalogue, Events, eventsJsonSchema, isEventType, parseEventData } from '../../../src/domain/events.js';

describe('event catalogue', () => {
  it('carrier events go to the carrier stream, operator events to the operator stream', () => {
    expect(Events.parcelPickedUp('acme', { parcelId: 'p', waybill: 'W', compartment: 'A1', pickedUpAt: 1 })).toEqual({
      carrier: 'acme',
      type: 'parcel.picked_up',
      data: { parcelId: 'p', waybill: 'W', compartment: 'A1', pickedUpAt: 1 },
    });
    expect(Events.layoutApplied({ version: 2, by: 'op', commandId: 'c' })).toMatchObject({ carrier: null, type: 'layout.applied' });
    expect(catalogue['layout.applied'].stream).toBe('operator');
    expect(catalogue['parcel.stored'].stream).toBe('carrier');
  });

  it('layout.applied is not an alarm; every alarm.* is on the operator stream', () => {
    for (const [type, def] of Object.entries(catalogue)) if (type.startsWith('alarm.')) expect(def.stream).toBe('operator');
    expect(Object.keys(catalogue).filter((t) => t.startsWith('alarm.'))).not.toContain('layout.applied');
  });

  it('a payload that drifts is a type error and a schema error', () => {
    // @ts-expect-error `at` is not a field of parcel.picked_up: the moment is pickedUpAt.
    Events.parcelPickedUp('acme', { parcelId: 'p', waybill: 'W', compartment: 'A1', at: 1 });
    // @ts-expect-error the compartment is `compartment` on the wire, not `compartmentId`.
    Events.parcelExpired('acme', { parcelId: 'p', waybill: 'W', compartmentId: 'A1' });
    // @ts-expect-error an operator event has no carrier argument.
    Events.doorForcedOpen('acme', { compartment: 'A1' });
    expect(() => parseEventData('parcel.picked_up', { parcelId: 'p', waybill: 'W', compartment: 'A1', at: 1 })).toThrow();
  });

  it('the JSON Schema has one definition per type', () => {
    const schema = eventsJsonSchema() as { $defs: Record<string, unknown>; oneOf: unknown[] };
    expect(Object.keys(schema.$defs)).toEqual(Object.keys(catalogue));
    expect(schema.oneOf).toHaveLength(Object.keys(catalogue).length);
    expect(isEventType('parcel.stored')).toBe(true);
    expect(isEventType('parcel.teleported')).toBe(false);
  });
});
