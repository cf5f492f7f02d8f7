import { afterEach, describe, expect, it } from 'vitest';
import { type LockBusEvent } from '../../../hal/types.js';
import { simulatedBus, sleep, waitForEvent } from '../../support/simulatedBus.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

// The door opens ~100 ms after the unlock and re-latches 150 ms later (SimWorld.bounceMs);
// normal polls come only every 2 s, so only the fast poll can see the short open.
function start(fastPollForMs: number) {
  const sim = simulatedBus({
    id: 'bus0',
    protocol: 'kerong-cu48',
    transport: { kind: 'sim' },
    boards: [{ address: 0, locks: 8, energiseMs: 100 }],
    pollIntervalMs: 2_000,
    fastPollIntervalMs: 25,
    fastPollForMs,
    replyTimeoutMs: 50,
  });
  running.push(sim.bus);
  return sim;
}

const lock3 = (e: LockBusEvent): e is Extract<LockBusEvent, { type: 'reading' }> => e.type === 'reading' && e.board === 0 && e.reading.lock === 3;

describe('door bounce', () => {
  it('the fast poll after an unlock sees a door that opened and re-latched between two normal polls', async () => {
    const { bus, world, events } = start(1_000);
    await bus.open();
    await waitForEvent(events, lock3);
    world.bounceOnNextUnlock({ bus: 'bus0', board: 0, lock: 3 });
    await bus.unlock(0, 3);
    const opened = await waitForEvent(events, (e): e is Extract<LockBusEvent, { type: 'reading' }> => lock3(e) && !e.reading.latched, 1_000);
    expect(opened.previous).toEqual({ lock: 3, latched: true });
    const relatched = await waitForEvent(events, (e) => lock3(e) && e.reading.latched && e.previous?.latched === false, 1_000);
    expect(relatched).toMatchObject({ reading: { lock: 3, latched: true } });
    expect(world.lock({ bus: 'bus0', board: 0, lock: 3 }).doorOpen).toBe(false);
    expect(events.filter(lock3).map((e) => e.reading.latched)).toEqual([true, false, true]);
  });

  it('without the fast poll the same bounce goes unseen (what the fast poll is for)', async () => {
    const { bus, world, events } = start(0);
    await bus.open();
    await waitForEvent(events, lock3);
    world.bounceOnNextUnlock({ bus: 'bus0', board: 0, lock: 3 });
    await bus.unlock(0, 3);
    await sleep(500);
    expect(events.filter(lock3).map((e) => e.reading.latched)).toEqual([true]);
  });

  it('the fast poll stops after fastPollForMs', async () => {
    const { bus, simBus } = start(200);
    await bus.open();
    await bus.unlock(0, 1);
    let queries = 0;
    simBus.onTraffic((t) => {
      if (t.direction === 'host' && t.bytes[3] === 0x50) queries += 1;
    });
    await sleep(150);
    expect(queries).toBeGreaterThanOrEqual(3);
    await sleep(150);
    const after = queries;
    await sleep(400);
    expect(queries).toBe(after);
  });
});
