import { afterEach, describe, expect, it } from 'vitest';
import { simulatedBus, sleep } from '../../support/simulatedBus.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

// Some CU16 units answer at 9600 instead of 19200. The simulated boards here answer only at
// 9600; the host opens at the usual 19200.
function start(baudRate?: number) {
  const sim = simulatedBus(
    {
      id: 'bus0',
      protocol: 'kerong-cu16',
      transport: { kind: 'serial', path: '/dev/ttyUSB0', ...(baudRate ? { baudRate } : {}) },
      boards: [{ address: 0, locks: 16, polarity: 'latched-low' }],
      pollIntervalMs: 50,
      replyTimeoutMs: 40,
      silentAfterMisses: 2,
    },
    { simBus: { baudRate: 9600, strictBaud: true } },
  );
  running.push(sim.bus);
  return sim;
}

describe('a CU16 bus that answers only at 9600 baud', () => {
  it('is found by probing 19200, then 9600, when no rate is configured', async () => {
    const { bus, transport, events } = start();
    await bus.open();
    expect(transport.description).toBe('sim://bus0@9600');
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
    await sleep(150);
    expect(events.filter((e) => e.type === 'board-silent')).toEqual([]);
  });

  it('stays silent at a configured 19200 (no probing against an explicit setting)', async () => {
    const { bus, transport, events } = start(19200);
    await bus.open();
    expect(transport.description).toBe('sim://bus0@19200');
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'BOARD_SILENT' });
    await sleep(200);
    expect(events.some((e) => e.type === 'board-silent' && e.board === 0)).toBe(true);
  });
});
