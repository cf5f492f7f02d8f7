import { describe, expect, it } from 'vitest';
import { decideReconciliation } from '../../../src/domain/reconcile.js';

describe('power-cut reconciliation decisions', () => {
  it.each([
    ['pickup', { open: true }, 'commit_retrieval'],
    ['pickup', { open: false, itemPresent: false }, 'commit_retrieval'],
    ['pickup', { open: false, itemPresent: true }, 'not_consumed'],
    // Finding 4 (issue 9): shut, no item sensor -> never guessed not_consumed.
    ['pickup', { open: false }, 'uncertain'],
    ['collect', { open: true }, 'commit_retrieval'],
    ['collect', { open: false }, 'uncertain'],
    ['collect', { open: false, itemPresent: true }, 'not_consumed'],
    ['deposit', { open: false, itemPresent: true }, 'commit_placement'],
    ['deposit', { open: false, itemPresent: false }, 'empty'],
    ['deposit', { open: false }, 'inspect'],
    ['deposit', { open: true, itemPresent: true }, 'inspect'],
    ['dropoff', { open: false, itemPresent: true }, 'commit_placement'],
    ['remote_open', { open: true }, 'close'],
  ] as const)('%s with door %j -> %s', (purpose, door, decision) => {
    expect(decideReconciliation(purpose, door)).toBe(decision);
  });
});
