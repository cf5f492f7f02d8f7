// The short seeded chaos run of CI (the full run is `npm run chaos`, RELIABILITY.md): a few
// cycles of lockerd as a child process killed at random moments, every invariant checked after
// each restart, and the consumer across all cycles complete at the end. Bounded: 6 cycles,
// well under 90 s.
import { describe, expect, it } from 'vitest';
import { runChaos } from '../chaos/harness.js';
import { INVARIANTS } from '../chaos/invariants.js';

describe('chaos, short seeded run', () => {
  it('six cycles of power cuts leave no violation of any invariant', { timeout: 90_000 }, async () => {
    const result = await runChaos({ seed: 9001, cycles: 6 });
    expect(result.examples).toEqual([]);
    for (const k of INVARIANTS) expect(result.violations[k], k).toBe(0);
    // Every invariant ran after every boot (the wrong-code check when a wrong code was typed).
    expect(result.checks.integrity).toBe(7);
    expect(result.checks.consumerReceivesEveryRow).toBe(7);
    expect(result.consumer.received).toBeGreaterThanOrEqual(result.consumer.rowsInDatabase);
  });
});
