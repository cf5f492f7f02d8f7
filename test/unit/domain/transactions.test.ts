import { describe, expect, it } from 'vitest';
import { type PlacementInput, type PlacementState, type RetrievalInput, type RetrievalState, startPlacement, stepPlacement, stepRetrieval } from '../../../src/domain/transactions.js';

describe('placement (deposit, drop-off)', () => {
  it('opens the allocated door first', () => {
    expect(startPlacement('A1', 'S')).toEqual({ state: { tag: 'opening', compartment: 'A1', size: 'S' }, effects: [{ type: 'open_door', compartment: 'A1' }] });
  });

  const table: [string, PlacementState, PlacementInput, PlacementState, string[]][] = [
    ['door opens', { tag: 'opening', compartment: 'A1', size: 'S' }, { type: 'door_opened', compartment: 'A1' }, { tag: 'open', compartment: 'A1', size: 'S' }, []],
    ['closed with the parcel -> stored', { tag: 'open', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1', itemPresent: true }, { tag: 'stored', compartment: 'A1', size: 'S' }, ['commit_stored']],
    ['closed, no item sensor -> stored', { tag: 'open', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1' }, { tag: 'stored', compartment: 'A1', size: 'S' }, ['commit_stored']],
    ['closed empty -> not stored', { tag: 'open', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1', itemPresent: false }, { tag: 'closed_empty', compartment: 'A1', size: 'S', releasing: undefined }, []],
    [
      'jam -> out of service and another compartment',
      { tag: 'opening', compartment: 'A1', size: 'S' },
      { type: 'door_jammed', compartment: 'A1' },
      { tag: 'reallocating', from: 'A1', size: 'S', reason: 'jam', releasing: undefined, cause: 'LATCH_JAMMED' },
      ['out_of_service', 'allocate'],
    ],
    [
      'silent board -> released (not out of service) and another compartment',
      { tag: 'opening', compartment: 'A1', size: 'S' },
      { type: 'door_failed', compartment: 'A1', code: 'BOARD_SILENT' },
      { tag: 'reallocating', from: 'A1', size: 'S', reason: 'jam', releasing: undefined, cause: 'BOARD_SILENT' },
      ['release', 'allocate'],
    ],
    [
      'alternative found after a jam',
      { tag: 'reallocating', from: 'A1', size: 'S', reason: 'jam' },
      { type: 'allocated', compartment: { id: 'A2', size: 'S' } },
      { tag: 'opening', compartment: 'A2', size: 'S', reassignedFrom: 'A1', releasing: undefined },
      ['open_door'],
    ],
    ['no alternative after a jam -> failed', { tag: 'reallocating', from: 'A1', size: 'S', reason: 'jam' }, { type: 'allocated' }, { tag: 'failed', code: 'LATCH_JAMMED' }, ['failed']],
    ['wrong size -> ask for a larger one', { tag: 'open', compartment: 'A1', size: 'S' }, { type: 'wrong_size', size: 'M' }, { tag: 'reallocating', from: 'A1', size: 'S', reason: 'wrong_size', releasing: undefined }, ['allocate']],
    [
      'larger one found: open it, old one released when closed',
      { tag: 'reallocating', from: 'A1', size: 'S', reason: 'wrong_size' },
      { type: 'allocated', compartment: { id: 'B1', size: 'M' } },
      { tag: 'opening', compartment: 'B1', size: 'M', releasing: 'A1' },
      ['open_door'],
    ],
    ['no larger one free: stay open, tell the courier', { tag: 'reallocating', from: 'A1', size: 'S', reason: 'wrong_size' }, { type: 'allocated' }, { tag: 'open', compartment: 'A1', size: 'S', releasing: undefined }, ['rejected']],
    ['old door closed while the new one is open', { tag: 'open', compartment: 'B1', size: 'M', releasing: 'A1' }, { type: 'door_closed', compartment: 'A1' }, { tag: 'open', compartment: 'B1', size: 'M' }, ['release']],
    ['reopen after closing empty', { tag: 'closed_empty', compartment: 'A1', size: 'S' }, { type: 'reopen' }, { tag: 'opening', compartment: 'A1', size: 'S', releasing: undefined }, ['open_door']],
    ['cancel while open -> wait for the door to close', { tag: 'open', compartment: 'A1', size: 'S' }, { type: 'cancel' }, { tag: 'cancelling', compartment: 'A1', size: 'S', releasing: undefined }, []],
    ['cancelling, door closed seen empty -> cancelled', { tag: 'cancelling', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1', itemPresent: false }, { tag: 'cancelled' }, ['release', 'commit_cancelled']],
    ['cancelling, door closed, no item sensor -> inspection', { tag: 'cancelling', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1' }, { tag: 'cancelled', inspection: 'A1' }, ['inspect', 'release', 'commit_cancelled']],
    ['cancelling, door closed with the item inside -> inspection', { tag: 'cancelling', compartment: 'A1', size: 'S' }, { type: 'door_closed', compartment: 'A1', itemPresent: true }, { tag: 'cancelled', inspection: 'A1' }, ['inspect', 'release', 'commit_cancelled']],
    ['cancel after closing empty -> cancelled at once', { tag: 'closed_empty', compartment: 'A1', size: 'S' }, { type: 'cancel' }, { tag: 'cancelled' }, ['release', 'commit_cancelled']],
    ['wrong size after stored is refused', { tag: 'stored', compartment: 'A1', size: 'S' }, { type: 'wrong_size', size: 'M' }, { tag: 'stored', compartment: 'A1', size: 'S' }, ['rejected']],
    ['reopen while opening is refused', { tag: 'opening', compartment: 'A1', size: 'S' }, { type: 'reopen' }, { tag: 'opening', compartment: 'A1', size: 'S' }, ['rejected']],
  ];
  it.each(table)('%s', (_name, from, input, to, effects) => {
    const t = stepPlacement(from, input);
    expect(t.state).toEqual(to);
    expect(t.effects.map((e) => e.type)).toEqual(effects);
  });

  it('the jam alternative keeps the size, excludes the jammed one', () => {
    const t = stepPlacement({ tag: 'opening', compartment: 'A1', size: 'M' }, { type: 'door_jammed', compartment: 'A1' });
    expect(t.effects[1]).toEqual({ type: 'allocate', size: 'M', exclude: ['A1'] });
  });

  it('wrong size asks for strictly larger sizes', () => {
    const t = stepPlacement({ tag: 'open', compartment: 'A1', size: 'S' }, { type: 'wrong_size', size: 'S' });
    expect(t.effects[0]).toEqual({ type: 'allocate', size: 'S', largerThan: 'S', exclude: ['A1'] });
  });
});

describe('retrieval (pickup, collection, remote open)', () => {
  const table: [string, RetrievalState, RetrievalInput, RetrievalState, string[]][] = [
    ['door seen open -> commit', { tag: 'opening', compartment: 'A1' }, { type: 'door_opened' }, { tag: 'committed', compartment: 'A1' }, ['commit']],
    ['then closed -> done', { tag: 'committed', compartment: 'A1' }, { type: 'door_closed' }, { tag: 'done', compartment: 'A1' }, ['finished']],
    ['jam -> out of service, code not consumed', { tag: 'opening', compartment: 'A1' }, { type: 'door_jammed' }, { tag: 'failed', compartment: 'A1', code: 'LATCH_JAMMED' }, ['out_of_service', 'failed']],
    ['silent board -> failed, nothing consumed', { tag: 'opening', compartment: 'A1' }, { type: 'door_failed', code: 'BOARD_SILENT' }, { tag: 'failed', compartment: 'A1', code: 'BOARD_SILENT' }, ['failed']],
    ['closed before opening means nothing', { tag: 'opening', compartment: 'A1' }, { type: 'door_closed' }, { tag: 'opening', compartment: 'A1' }, []],
  ];
  it.each(table)('%s', (_name, from, input, to, effects) => {
    const t = stepRetrieval(from, input);
    expect(t.state).toEqual(to);
    expect(t.effects.map((e) => e.type)).toEqual(effects);
  });
});
