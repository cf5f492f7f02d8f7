import { describe, expect, it } from 'vitest';
import { hexBytes } from '../../support/hexBytes.js';
import { simBoardHarness } from '../../support/simBoardHarness.js';

const twoBoards = {
  id: 'bus0',
  protocol: 'kerong-cu48' as const,
  transport: { kind: 'sim' as const },
  boards: [
    { address: 0, locks: 48, energiseMs: 100 },
    { address: 1, locks: 48, energiseMs: 100 },
  ],
};

describe('CU48 board simulator', () => {
  it('answers the document status query with the document reply', async () => {
    const h = simBoardHarness(twoBoards);
    // The document reply has hooks 1-3 and 47-48 set: every other door stands open.
    for (let lock = 4; lock <= 46; lock++) h.world.forceOpen({ bus: 'bus0', board: 0, lock });
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    expect(h.takeReplies()).toEqual([]);
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 00 65 07 00 00 00 00 C0 03 31']);
  });

  it('answers after the turnaround delay plus the line time, not before', async () => {
    const h = simBoardHarness(twoBoards);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    // 2 ms turnaround + 12 bytes at 19200 baud (6.25 ms).
    await h.clock.advance(8);
    expect(h.replies).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.takeReplies()).toEqual(['02 00 00 65 FF FF FF FF FF FF 03 64']);
  });

  it('hears a host frame split at any byte', async () => {
    const frame = hexBytes('02 01 00 50 03 56');
    for (let split = 1; split < frame.length; split++) {
      const h = simBoardHarness(twoBoards);
      h.simBus.receive(frame.subarray(0, split));
      h.simBus.receive(frame.subarray(split));
      await h.clock.advance(20);
      expect(h.takeReplies(), `split at ${split}`).toEqual(['02 01 00 65 FF FF FF FF FF FF 03 65']);
    }
  });

  it('unlocks without replying; the latch releases after the energise time', async () => {
    const h = simBoardHarness(twoBoards);
    h.simBus.receive(hexBytes('02 01 05 51 03 5C'));
    await h.clock.advance(99);
    expect(h.world.lock({ bus: 'bus0', board: 1, lock: 6 }).latched).toBe(true);
    await h.clock.advance(1);
    expect(h.world.lock({ bus: 'bus0', board: 1, lock: 6 }).latched).toBe(false);
    expect(h.world.lock({ bus: 'bus0', board: 1, lock: 6 }).doorOpen).toBe(true);
    expect(h.world.lock({ bus: 'bus0', board: 0, lock: 6 }).latched).toBe(true);
    expect(h.takeReplies()).toEqual([]);
  });

  it('answers a bus-wide status board by board', async () => {
    const h = simBoardHarness(twoBoards);
    h.world.forceOpen({ bus: 'bus0', board: 1, lock: 1 });
    h.simBus.receive(hexBytes('02 0A 00 50 03 5F'));
    await h.clock.advance(50);
    expect(h.takeReplies()).toEqual(['02 00 00 65 FF FF FF FF FF FF 03 64', '02 01 00 65 FE FF FF FF FF FF 03 64']);
  });

  it('opens all 48 locks one after another, never at once', async () => {
    const h = simBoardHarness(twoBoards);
    h.simBus.receive(hexBytes('02 00 30 51 03 86'));
    const open = () => h.world.boardLocks('bus0', 0).filter((s) => !s.latched).length;
    await h.clock.advance(100);
    expect(open()).toBe(1);
    await h.clock.advance(100);
    expect(open()).toBe(2);
    await h.clock.advance(4600);
    expect(open()).toBe(48);
    expect(h.world.boardLocks('bus0', 1).every((s) => s.latched)).toBe(true);
  });

  it('stays silent and ignores unlocks while the board is unpowered', async () => {
    const h = simBoardHarness(twoBoards);
    h.world.setBoardSilent('bus0', 0, true);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    h.simBus.receive(hexBytes('02 00 00 51 03 56'));
    await h.clock.advance(500);
    expect(h.takeReplies()).toEqual([]);
    expect(h.world.lock({ bus: 'bus0', board: 0, lock: 1 }).latched).toBe(true);
    h.world.setBoardSilent('bus0', 0, false);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toHaveLength(1);
  });

  it('garbles and truncates replies on demand', async () => {
    const h = simBoardHarness(twoBoards);
    h.world.corruptReplies('bus0', 'garble', 1);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 00 65 FF FF FF FF FF 00 03 64']);
    h.world.corruptReplies('bus0', 'truncate', 1);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 00 65 FF FF']);
    h.simBus.receive(hexBytes('02 00 00 50 03 55'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 00 00 65 FF FF FF FF FF FF 03 64']);
  });

  it('reports per-board polarity: latched-low boards send 0 for a latched hook', async () => {
    const h = simBoardHarness({ ...twoBoards, boards: [{ address: 2, locks: 8, polarity: 'latched-low' }] });
    h.world.forceOpen({ bus: 'bus0', board: 2, lock: 2 });
    h.simBus.receive(hexBytes('02 02 00 50 03 57'));
    await h.clock.advance(20);
    expect(h.takeReplies()).toEqual(['02 02 00 65 02 00 00 00 00 00 03 6E']);
  });
});
