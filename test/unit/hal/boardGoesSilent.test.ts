import { afterEach, describe, expect, it } from 'vitest';
import { type LockBusEvent } from '../../../hal/types.js';
import { toHex } from '../../support/hexBytes.js';
import { simulatedBus, sleep, waitForEvent } from '../../support/simulatedBus.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

function start() {
  const sim = simulatedBus({
    id: 'bus0',
    protocol: 'kerong-cu48',
    transport: { kind: 'sim' },
    boards: [
      { address: 0, locks: 8, energiseMs: 60 },
      { address: 1, locks: 8, energiseMs: 60 },
    ],
    pollIntervalMs: 50,
    fastPollIntervalMs: 20,
    fastPollForMs: 500,
    replyTimeoutMs: 40,
    silentAfterMisses: 3,
  });
  running.push(sim.bus);
  return sim;
}

const silentEvent = (board: number) => (e: LockBusEvent): e is Extract<LockBusEvent, { type: 'board-silent' }> => e.type === 'board-silent' && e.board === board;
const backEvent = (board: number) => (e: LockBusEvent): e is Extract<LockBusEvent, { type: 'board-back' }> => e.type === 'board-back' && e.board === board;

describe('a board goes silent', () => {
  it('is reported after the configured misses, refused with BOARD_SILENT, and reported back', async () => {
    const { bus, world, events, simBus } = start();
    await bus.open();
    await bus.status(1);
    expect(bus.silentBoards()).toEqual([]);

    world.setBoardSilent('bus0', 1, true);
    const silent = await waitForEvent(events, silentEvent(1));
    expect(silent).toMatchObject({ type: 'board-silent', bus: 'bus0', board: 1, code: 'BOARD_SILENT' });
    expect(silent.message).toMatch(/status board 1: no reply within 40 ms/);
    expect(bus.silentBoards()).toEqual([1]);
    // Exactly one event, however many polls fail afterwards.
    await sleep(300);
    expect(events.filter((e) => e.type === 'board-silent')).toHaveLength(1);

    await expect(bus.status(1)).rejects.toMatchObject({ code: 'BOARD_SILENT', context: { bus: 'bus0', board: 1, request: '02 01 00 50 03 56' } });

    // An unlock on a silent board is refused before anything is energised.
    const written: string[] = [];
    const off = simBus.onTraffic((t) => {
      if (t.direction === 'host') written.push(toHex(t.bytes));
    });
    await expect(bus.unlock(1, 2)).rejects.toMatchObject({ code: 'BOARD_SILENT' });
    off();
    expect(written.filter((f) => f.endsWith('51 03 58'))).toEqual([]);
    expect(written).toContain('02 01 00 50 03 56');

    // The other board is unaffected.
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
    expect(bus.silentBoards()).toEqual([1]);

    world.setBoardSilent('bus0', 1, false);
    await waitForEvent(events, backEvent(1));
    expect(bus.silentBoards()).toEqual([]);
    await bus.unlock(1, 2);
    await waitForEvent(events, (e) => e.type === 'reading' && e.board === 1 && e.reading.lock === 2 && !e.reading.latched);
  });

  it('an unlock on a board that came back (not yet re-polled) goes through after a status check', async () => {
    const { bus, world, events } = start();
    await bus.open();
    world.setBoardSilent('bus0', 0, true);
    await waitForEvent(events, silentEvent(0));
    world.setBoardSilent('bus0', 0, false);
    await bus.unlock(0, 1);
    expect(events.some(backEvent(0))).toBe(true);
    await waitForEvent(events, (e) => e.type === 'reading' && e.board === 0 && e.reading.lock === 1 && !e.reading.latched);
  });

  it('a single missed poll is not yet silence', async () => {
    const { bus, world, events } = start();
    await bus.open();
    await bus.status(0);
    world.setBoardSilent('bus0', 0, true);
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'BOARD_SILENT' });
    world.setBoardSilent('bus0', 0, false);
    await bus.status(0);
    await sleep(150);
    expect(events.filter((e) => e.type === 'board-silent')).toEqual([]);
  });
});
