// Issue 11, defect 1: a wrong-size deposit whose new door is closed before the old one. The
// stored state must still release the old (empty) compartment when its door closes later.
import { expect, it } from 'vitest';
import { stepPlacement, type PlacementState } from '../../../src/domain/transactions.js';

it('releases the old compartment when its door closes after the parcel was stored', () => {
  const open: PlacementState = { tag: 'open', compartment: 'B2', size: 'M', releasing: 'A1' };
  const stored = stepPlacement(open, { type: 'door_closed', compartment: 'B2', itemPresent: true });
  expect(stored.state.tag).toBe('stored');
  expect(stored.effects.map((e) => e.type)).toEqual(['commit_stored']);

  const oldClosed = stepPlacement(stored.state, { type: 'door_closed', compartment: 'A1' });
  expect(oldClosed.effects).toEqual([{ type: 'release', compartment: 'A1' }]);
  expect(oldClosed.state).toEqual({ tag: 'stored', compartment: 'B2', size: 'M' });
});
