import { describe, expect, it } from 'vitest';
import { hexBytes } from '../../support/hexBytes.js';
import { simBoardHarness } from '../../support/simBoardHarness.js';

const cu16 = {
  id: 'lockers',
  protocol: 'kerong-cu16' as const,
  transport: { kind: 'sim' as const },
  boards: [
    { address: 0, locks: 16, polarity: 'latched-low' as const, energiseMs: 200, itemSensors: true },
    { address: 1, locks: 16, polarity: 'latched-high' as const, energiseMs: 200 },
  ],
};

describe('CU16 board simulator', () => {
  it('answers an idle board with the documented idle reply', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 35 00 00 00 00 03 3A']);
  });

  it('reports hooks by polarity and item sensors where fitted', async () => {
    const h = simBoardHarness(cu16);
    h.world.forceOpen({ bus: 'lockers', board: 0, lock: 3 });
    h.world.putParcel({ bus: 'lockers', board: 0, lock: 3 });
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 35 04 00 04 00 03 42']);
    // Board 1: latched-high, no item sensors, every hook latched.
    h.simBus.receive(hexBytes('02 10 30 03 45'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 10 35 FF FF 00 00 03 48']);
  });

  it('unlocks the addressed lock only, without a reply', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 04 31 03 3A'));
    h.simBus.receive(hexBytes('02 10 31 03 46'));
    await h.clock.advance(200);
    expect(h.takeReplies()).toEqual([]);
    const released = h.world.allLocks().filter((s) => !s.latched).map((s) => `${s.position.board}/${s.position.lock}`);
    expect(released.sort()).toEqual(['0/5', '1/1']);
  });

  it('answers the bus-wide status board by board', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 F0 32 03 27'));
    await h.clock.advance(50);
    expect(h.takeReplies()).toEqual(['02 00 35 00 00 00 00 03 3A', '02 10 35 FF FF 00 00 03 48']);
  });

  it('unlock-all energises one lock after another', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 00 33 03 38'));
    const released = () => h.world.boardLocks('lockers', 0).filter((s) => !s.latched).length;
    await h.clock.advance(200);
    expect(released()).toBe(1);
    await h.clock.advance(1000);
    expect(released()).toBe(6);
    await h.clock.advance(3000);
    expect(released()).toBe(16);
  });

  it('keeps quiet on frames it does not model and on other boards', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 00 37 03 3C'));
    h.simBus.receive(hexBytes('02 50 30 03 85'));
    await h.clock.advance(50);
    expect(h.takeReplies()).toEqual([]);
  });
});
