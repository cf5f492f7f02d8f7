import { describe, expect, it } from 'vitest';
import { hexBytes, toHex } from '../../support/hexBytes.js';
import { simBoardHarness } from '../../support/simBoardHarness.js';

const cu16 = {
  id: 'bus0',
  protocol: 'kerong-cu16' as const,
  transport: { kind: 'serial' as const, path: '/dev/ttyUSB0' },
  boards: [{ address: 0, locks: 16, polarity: 'latched-low' as const }],
};

describe('simulated bus', () => {
  it('answers only at its own baud rate when strict', async () => {
    const h = simBoardHarness(cu16, { baudRate: 9600, strictBaud: true });
    h.simBus.connect((b) => h.replies.push(b), 19200);
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    await h.clock.advance(50);
    expect(h.takeReplies()).toEqual([]);
    h.simBus.baudRateChanged(9600);
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    await h.clock.advance(50);
    expect(h.takeReplies()).toEqual(['02 00 35 00 00 00 00 03 3A']);
  });

  it('takes longer on a slower line (bytes x 10 bits / baud)', async () => {
    const h = simBoardHarness(cu16, { baudRate: 9600, replyDelayMs: 0 });
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    // 9 bytes at 9600 baud = 9.375 ms.
    await h.clock.advance(9);
    expect(h.replies).toHaveLength(0);
    await h.clock.advance(1);
    expect(h.replies).toHaveLength(1);
  });

  it('drops replies still on the line when the host disconnects', async () => {
    const h = simBoardHarness(cu16);
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    h.simBus.disconnect();
    await h.clock.advance(50);
    expect(h.replies).toEqual([]);
    expect(h.simBus.connected).toBe(false);
  });

  it('reports traffic in both directions in order', async () => {
    const h = simBoardHarness(cu16);
    const seen: string[] = [];
    h.simBus.onTraffic((t) => seen.push(`${t.direction} ${toHex(t.bytes)}`));
    h.simBus.receive(hexBytes('02 00 30 03 35'));
    await h.clock.advance(50);
    expect(seen).toEqual(['host 02 00 30 03 35', 'board 02 00 35 00 00 00 00 03 3A']);
  });
});
