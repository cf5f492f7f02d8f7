import { afterEach, describe, expect, it } from 'vitest';
import { type LockBusEvent } from '../../../hal/types.js';
import { toHex } from '../../support/hexBytes.js';
import { type SerialBusConfigInput, simulatedBus, waitForEvent } from '../../support/simulatedBus.js';

type Reading = Extract<LockBusEvent, { type: 'reading' }>;
const isReading =
  (board: number, lock: number, match: (e: Reading) => boolean = () => true) =>
  (e: LockBusEvent): e is Reading =>
    e.type === 'reading' && e.board === board && e.reading.lock === lock && match(e);

const timing = { pollIntervalMs: 50, fastPollIntervalMs: 20, fastPollForMs: 1000, replyTimeoutMs: 80, silentAfterMisses: 2 };

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

function start(input: SerialBusConfigInput) {
  const sim = simulatedBus(input);
  running.push(sim.bus);
  const written: string[] = [];
  sim.simBus.onTraffic((t) => {
    if (t.direction === 'host') written.push(toHex(t.bytes));
  });
  return { ...sim, written };
}

describe('unlock opens the door', () => {
  it('CU48: the unlock frame goes out, the hook releases, the door closes again', async () => {
    const { bus, world, events, written } = start({
      id: 'bus0',
      protocol: 'kerong-cu48',
      transport: { kind: 'sim' },
      boards: [{ address: 0, locks: 12, energiseMs: 100 }],
      ...timing,
    });
    await bus.open();
    const first = await waitForEvent(events, isReading(0, 5));
    expect(first.previous).toBeUndefined();
    expect(first.reading).toEqual({ lock: 5, latched: true });

    await bus.unlock(0, 5);
    // Resolved on write: the frame is on the line, the latch has not moved yet.
    expect(written).toContain('02 00 04 51 03 5A');
    expect(world.lock({ bus: 'bus0', board: 0, lock: 5 }).latched).toBe(true);

    const released = await waitForEvent(events, isReading(0, 5, (e) => !e.reading.latched));
    expect(released.previous).toEqual({ lock: 5, latched: true });
    expect(bus.lastStatus(0)?.locks[4]).toEqual({ lock: 5, latched: false });
    expect(world.lock({ bus: 'bus0', board: 0, lock: 5 }).doorOpen).toBe(true);

    world.closeDoor({ bus: 'bus0', board: 0, lock: 5 });
    const closed = await waitForEvent(events, isReading(0, 5, (e) => e.reading.latched && e.previous?.latched === false));
    expect(closed.reading).toEqual({ lock: 5, latched: true });
    // No other lock changed.
    expect(events.filter((e) => e.type === 'reading' && e.reading.lock !== 5 && e.previous !== undefined)).toEqual([]);
  });

  it('CU16 with item sensors: the parcel shows up in the reading', async () => {
    const { bus, world, events, written } = start({
      id: 'bus1',
      protocol: 'kerong-cu16',
      transport: { kind: 'sim' },
      boards: [{ address: 2, locks: 16, polarity: 'latched-low', energiseMs: 100, itemSensors: true }],
      ...timing,
    });
    await bus.open();
    await waitForEvent(events, isReading(2, 16));
    expect(bus.lastStatus(2)?.locks[0]).toEqual({ lock: 1, latched: true, itemPresent: false });

    await bus.unlock(2, 16);
    expect(written).toContain('02 2F 31 03 65');
    await waitForEvent(events, isReading(2, 16, (e) => !e.reading.latched));
    world.putParcel({ bus: 'bus1', board: 2, lock: 16 });
    const item = await waitForEvent(events, isReading(2, 16, (e) => e.reading.itemPresent === true));
    expect(item.reading).toEqual({ lock: 16, latched: false, itemPresent: true });
  });

  it('8A: unlock waits for the board to report the lock moved', async () => {
    const { bus, world, events, written } = start({
      id: 'bus2',
      protocol: 'generic-8a',
      transport: { kind: 'sim' },
      boards: [{ address: 1, locks: 24, polarity: 'latched-low', energiseMs: 150 }],
      ...timing,
    });
    await bus.open();
    await waitForEvent(events, isReading(1, 1));
    const started = Date.now();
    await bus.unlock(1, 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(written).toContain('8A 01 03 11 99');
    // The board answered after the latch released, so the world already shows it open.
    expect(world.lock({ bus: 'bus2', board: 1, lock: 3 }).doorOpen).toBe(true);
    await waitForEvent(events, isReading(1, 3, (e) => !e.reading.latched));
  });

  it('8A: a board answering with header 0x8A works the same', async () => {
    const { bus, events } = simulatedBus(
      { id: 'bus3', protocol: 'generic-8a', transport: { kind: 'sim' }, boards: [{ address: 7, locks: 32, energiseMs: 60 }], ...timing },
      { simBus: { g8aReplyHeader: 0x8a } },
    );
    running.push(bus);
    await bus.open();
    await bus.unlock(7, 32);
    await waitForEvent(events, isReading(7, 32, (e) => !e.reading.latched));
  });

  it('status() answers through the queue; bad positions are refused with coded errors', async () => {
    const { bus } = start({ id: 'bus4', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 3, locks: 48 }], ...timing });
    await bus.open();
    const status = await bus.status(3);
    expect(status.board).toBe(3);
    expect(status.locks).toHaveLength(48);
    expect(status.locks.every((l) => l.latched)).toBe(true);
    await expect(bus.unlock(3, 49)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(bus.unlock(4, 1)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(bus.status(9)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('unlockAll opens every lock of the board one by one', async () => {
    const { bus, world, written } = start({
      id: 'bus5',
      protocol: 'kerong-cu48',
      transport: { kind: 'sim' },
      boards: [{ address: 0, locks: 4, energiseMs: 60 }],
      ...timing,
    });
    await bus.open();
    const releasedAt: number[] = [];
    world.on((e) => {
      if (e.type === 'lock' && e.cause === 'unlock') releasedAt.push(Date.now());
    });
    await bus.unlockAll(0);
    const unlocks = written.filter((f) => f.split(' ')[3] === '51');
    expect(unlocks).toEqual(['02 00 00 51 03 56', '02 00 01 51 03 57', '02 00 02 51 03 58', '02 00 03 51 03 59']);
    await new Promise((r) => setTimeout(r, 100));
    expect(releasedAt).toHaveLength(4);
    // One after another: never two latches energised together.
    for (let i = 1; i < releasedAt.length; i++) expect((releasedAt[i] as number) - (releasedAt[i - 1] as number)).toBeGreaterThanOrEqual(50);
  });

  it('after close, calls are refused with BUS_CLOSED', async () => {
    const { bus } = start({ id: 'bus6', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 4 }], ...timing });
    await bus.open();
    await bus.close();
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    await expect(bus.unlock(0, 1)).rejects.toMatchObject({ code: 'BUS_CLOSED' });
  });
});
