// Issue 11, flow 4: low (accessible) compartments are kept free for those who ask for one while
// other compartments fit. A property test over random cabinets and random streams of requests
// (fast-check, seeded): the rules hold for every single choice, and over a whole day of
// arrivals nobody who asked for a low door is refused one that a non-asker took while a
// non-low door would have done.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sizeClasses } from '../../../src/config/schema.js';
import { allocate, sizeRank, type AllocationCandidate, type AllocationRequest } from '../../../src/domain/allocation.js';

const size = fc.constantFrom(...sizeClasses);
const cabinet = fc
  .array(fc.record({ size, accessible: fc.boolean(), available: fc.boolean() }), { minLength: 1, maxLength: 40 })
  .map((cs) => cs.map((c, i): AllocationCandidate => ({ id: `C${i + 1}`, ...c })));
const request = fc.record({ size, accessible: fc.boolean() });
const params = { seed: 1011, numRuns: 500 };

const fits = (c: AllocationCandidate, r: AllocationRequest): boolean => c.available && sizeRank(c.size) >= sizeRank(r.size) && !r.exclude?.has(c.id);

describe('allocation keeps low compartments for those who ask', () => {
  it('each choice: fits, is free, is low for a low request whenever one fits, and is not low for others while a non-low one fits', () => {
    fc.assert(
      fc.property(cabinet, request, (cs, r) => {
        const chosen = allocate(cs, r);
        const fitting = cs.filter((c) => fits(c, r));
        if (fitting.length === 0) return chosen === undefined;
        if (!chosen || !fits(chosen, r)) return false;
        const lowFits = fitting.some((c) => c.accessible);
        const otherFits = fitting.some((c) => !c.accessible);
        if (r.accessible && lowFits && !chosen.accessible) return false;
        if (!r.accessible && otherFits && chosen.accessible) return false;
        // The smallest of its group: no smaller door of the same kind was passed over.
        return !fitting.some((c) => c.accessible === chosen.accessible && sizeRank(c.size) < sizeRank(chosen.size));
      }),
      params,
    );
  });

  it('a stream of arrivals: a low request is refused a low door only if every low door went to low requests or to people nothing else fitted', () => {
    fc.assert(
      fc.property(cabinet, fc.array(request, { minLength: 1, maxLength: 60 }), (start, requests) => {
        const cs = start.map((c) => ({ ...c }));
        /** Low doors handed to someone who did not ask while a non-low door fitted them. */
        let lowTakenNeedlessly = 0;
        for (const r of requests) {
          const otherFitted = cs.some((c) => fits(c, r) && !c.accessible);
          const chosen = allocate(cs, r);
          if (!chosen) continue;
          if (!r.accessible && chosen.accessible && otherFitted) lowTakenNeedlessly += 1;
          chosen.available = false;
        }
        return lowTakenNeedlessly === 0;
      }),
      params,
    );
  });

  it('the example from the issue: an XS parcel with no XS free takes a non-low M before a low S; a wheelchair user gets the low S', () => {
    const cs: AllocationCandidate[] = [
      { id: 'S-low', size: 'S', accessible: true, available: true },
      { id: 'M1', size: 'M', accessible: false, available: true },
    ];
    expect(allocate(cs, { size: 'XS' })?.id).toBe('M1');
    expect(allocate(cs, { size: 'XS', accessible: true })?.id).toBe('S-low');
  });
});
