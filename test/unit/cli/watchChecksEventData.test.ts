// lockerctl watch follows the event catalogue: data that drifts from its type's schema is flagged.
import { describe, expect, it } from 'vitest';
import { dataErrorOf } from '../../../src/cli/lockerctl/watch.js';

describe('lockerctl watch: event data against the catalogue', () => {
  it('accepts a parcel.picked_up as the locker writes it, reconciled or not', () => {
    expect(dataErrorOf('parcel.picked_up', { parcelId: 'p', waybill: 'W', compartment: 'A1', pickedUpAt: 1 })).toBeUndefined();
    expect(dataErrorOf('parcel.picked_up', { parcelId: 'p', waybill: 'W', compartment: 'A1', pickedUpAt: 1, reconciled: true })).toBeUndefined();
  });

  it('flags the old reconciled payload (at instead of pickedUpAt) and passes unknown types through', () => {
    expect(dataErrorOf('parcel.picked_up', { parcelId: 'p', waybill: 'W', compartment: 'A1', at: 1, reconciled: true })).toMatch(/pickedUpAt/);
    expect(dataErrorOf('parcel.teleported', { anything: true })).toBeUndefined();
  });
});
