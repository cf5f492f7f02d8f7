// Compartment ids in reading order without ICU (issue 10, idle RSS): an Intl.Collator built at
// module load pulls ICU's collation data into the resident set (about 3 MiB, BENCHMARKS.md).
// compareIds must order the ids the configuration allows as Intl.Collator('en', { numeric: true })
// did, so allocation's tie-break between equal compartments is unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, compareIds, type AllocationCandidate } from '../../../src/domain/allocation.js';

const collator = new Intl.Collator('en', { numeric: true });
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

// What src/config/schema.ts allows for an id: letters, digits, "_", "." or "-".
const idChar = fc.constantFrom(...'abcXYZ0123456789_.-');
const id = fc.tuple(fc.constantFrom(...'AbZ09'), fc.array(idChar, { maxLength: 8 })).map(([first, rest]) => first + rest.join(''));
/** Ids that differ in more than case or leading zeros (where the collator only breaks ties). */
const primaryDifferent = (a: string, b: string): boolean => collator.compare(a, b) !== 0 && new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare(a, b) !== 0;

describe('compareIds', () => {
  it('reads digit runs as numbers: B2 before B10, A9-2 before A9-10', () => {
    expect(['B10', 'B2', 'A9-10', 'A9-2', 'B1'].sort(compareIds)).toEqual(['A9-2', 'A9-10', 'B1', 'B2', 'B10']);
  });

  it('orders like Intl.Collator("en", { numeric: true }) wherever the collator sees a difference beyond case', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        fc.pre(primaryDifferent(a, b));
        expect(sign(compareIds(a, b))).toBe(sign(collator.compare(a, b)));
      }),
      { numRuns: 5000, seed: 10 },
    );
  });

  it('is a total order: antisymmetric, 0 only for the same id', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(sign(compareIds(a, b)) + sign(compareIds(b, a))).toBe(0);
        expect(compareIds(a, b) === 0).toBe(a === b);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('allocate still breaks ties between equal compartments in reading order', () => {
    const c = (cid: string): AllocationCandidate => ({ id: cid, size: 'S', accessible: false, available: true });
    expect(allocate([c('S10'), c('S9'), c('S11')], { size: 'S' })?.id).toBe('S9');
  });
});
