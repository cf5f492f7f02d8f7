import { describe, expect, it } from 'vitest';
import { hexBytes } from '../../support/hexBytes.js';
import { simBoardHarness } from '../../support/simBoardHarness.js';

const g8a = (locks: number) => ({
  id: 'b8a',
  protocol: 'generic-8a' as const,
  transport: { kind: 'sim' as const },
  boards: [{ address: 1, locks, polarity: 'latched-low' as const, energiseMs: 300 }],
});

describe('8A board simulator', () => {
  it('answers an unlock after the lock moved', async () => {
    const h = simBoardHarness(g8a(32));
    h.simBus.receive(hexBytes('8A 01 01 11 9B'));
    await h.clock.advance(250);
    expect(h.takeReplies()).toEqual([]);
    await h.clock.advance(100);
    expect(h.takeReplies()).toEqual(['80 01 01 11 91']);
    expect(h.world.lock({ bus: 'b8a', board: 1, lock: 1 }).doorOpen).toBe(true);
  });

  it('reports a jammed latch with state 00', async () => {
    const h = simBoardHarness(g8a(32));
    h.world.setJammed({ bus: 'b8a', board: 1, lock: 1 }, true);
    h.simBus.receive(hexBytes('8A 01 01 11 9B'));
    await h.clock.advance(400);
    expect(h.takeReplies()).toEqual(['80 01 01 00 80']);
  });

  it('answers query-all with 4 data bytes on a 32-lock board and 3 on a 24-lock board', async () => {
    const h32 = simBoardHarness(g8a(32));
    h32.world.forceOpen({ bus: 'b8a', board: 1, lock: 1 });
    h32.simBus.receive(hexBytes('80 01 00 33 B2'));
    await h32.clock.advance(30);
    expect(h32.takeReplies()).toEqual(['80 01 00 00 00 01 33 B3']);

    const h24 = simBoardHarness(g8a(24));
    h24.simBus.receive(hexBytes('80 01 00 33 B2'));
    await h24.clock.advance(30);
    expect(h24.takeReplies()).toEqual(['80 01 00 00 00 33 B2']);
  });

  it('answers a one-lock query and the address query', async () => {
    const h = simBoardHarness(g8a(32));
    h.simBus.receive(hexBytes('80 01 01 33 B3'));
    await h.clock.advance(30);
    expect(h.takeReplies()).toEqual(['80 01 01 00 80']);
    h.simBus.receive(hexBytes('80 01 00 99 18'));
    await h.clock.advance(30);
    expect(h.takeReplies()).toEqual(['80 01 00 99 18']);
  });

  it('uses header 0x8A on replies when its firmware does', async () => {
    const h = simBoardHarness(g8a(32), { g8aReplyHeader: 0x8a });
    h.simBus.receive(hexBytes('8A 01 01 11 9B'));
    await h.clock.advance(400);
    expect(h.takeReplies()).toEqual(['8A 01 01 11 9B']);
  });

  it('unlock-all opens the locks in turn and answers when done', async () => {
    const h = simBoardHarness(g8a(24));
    h.simBus.receive(hexBytes('8A 01 00 11 9A'));
    await h.clock.advance(300);
    expect(h.world.boardLocks('b8a', 1).filter((s) => !s.latched)).toHaveLength(1);
    await h.clock.advance(24 * 300);
    expect(h.world.boardLocks('b8a', 1).every((s) => !s.latched)).toBe(true);
    expect(h.takeReplies()).toEqual(['80 01 00 11 90']);
  });

  it('forgets a pending unlock answer when it loses power', async () => {
    const h = simBoardHarness(g8a(32));
    h.simBus.receive(hexBytes('8A 01 01 11 9B'));
    await h.clock.advance(100);
    h.world.setBoardSilent('b8a', 1, true);
    await h.clock.advance(400);
    expect(h.takeReplies()).toEqual([]);
  });
});
