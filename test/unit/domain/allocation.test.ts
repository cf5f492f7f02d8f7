import { describe, expect, it } from 'vitest';
import { allocate, type AllocationCandidate } from '../../../src/domain/allocation.js';

const c = (id: string, size: AllocationCandidate['size'], accessible = false, available = true): AllocationCandidate => ({ id, size, accessible, available });

describe('compartment allocation', () => {
  const all = [c('L1', 'L'), c('S1', 'S'), c('M1', 'M'), c('S2', 'S', true), c('XS1', 'XS', false, false)];
  it.each([
    ['smallest that fits', { size: 'S' as const }, 'S1'],
    ['a larger one when none of the size is free', { size: 'XS' as const }, 'S1'],
    ['accessible preferred when asked for', { size: 'S' as const, accessible: true }, 'S2'],
    ['accessible kept back while others fit', { size: 'XS' as const }, 'S1'],
    ['excluded ones skipped', { size: 'S' as const, exclude: new Set(['S1']) }, 'M1'],
    ['strictly larger for wrong size', { size: 'S' as const, largerThan: 'S' as const }, 'M1'],
  ])('%s', (_n, req, expected) => {
    expect(allocate(all, req)?.id).toBe(expected);
  });

  it('accessible one used when nothing else fits', () => {
    expect(allocate([c('S2', 'S', true), c('S1', 'S', false, false)], { size: 'S' })?.id).toBe('S2');
  });
  it('unavailable (faulty, occupied, silent) never offered', () => {
    expect(allocate([c('S1', 'S', false, false)], { size: 'S' })).toBeUndefined();
  });
  it('nothing large enough', () => {
    expect(allocate(all, { size: 'XL' })).toBeUndefined();
  });
});
