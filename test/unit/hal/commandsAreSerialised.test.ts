import { afterEach, describe, expect, it } from 'vitest';
import { SerialLockBus } from '../../../hal/buses/serialLockBus.js';
import { type ByteTransport, type ByteTransportEvent, type ByteTransportEvents, TransportListeners } from '../../../hal/transport/byteTransport.js';
import { ManualClock } from '../../../kernel/clock.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { createLogger, silentLogger } from '../../../src/logger.js';
import { type SimBusTraffic } from '../../../sim/boards/simBus.js';
import { hexBytes, toHex } from '../../support/hexBytes.js';
import { simulatedBus } from '../../support/simulatedBus.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const bus of running.splice(0)) await bus.close();
});

describe('commands are serialised on the real stack', () => {
  it('never puts a frame on the line while a reply is awaited, under a burst of calls', async () => {
    const replyTimeoutMs = 40;
    const { bus, world, simBus } = simulatedBus({
      id: 'bus0',
      protocol: 'kerong-cu48',
      transport: { kind: 'sim' },
      boards: [
        { address: 0, locks: 8, energiseMs: 60 },
        { address: 1, locks: 8, energiseMs: 60 },
        { address: 2, locks: 8, energiseMs: 60 },
      ],
      pollIntervalMs: 50,
      fastPollIntervalMs: 20,
      fastPollForMs: 300,
      replyTimeoutMs,
      silentAfterMisses: 100,
    });
    running.push(bus);
    // A silent board makes some questions end in a timeout rather than a reply.
    world.setBoardSilent('bus0', 2, true);
    const traffic: SimBusTraffic[] = [];
    simBus.onTraffic((t) => traffic.push(t));
    await bus.open();

    const calls: Array<Promise<unknown>> = [];
    for (let i = 0; i < 8; i++) {
      calls.push(bus.unlock(i % 2, (i % 8) + 1));
      calls.push(bus.status(i % 3).catch((e: unknown) => e));
    }
    const settled = await Promise.allSettled(calls);
    expect(settled.every((s) => s.status === 'fulfilled')).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    await bus.close();

    const host = traffic.filter((t) => t.direction === 'host');
    // Every write is exactly one frame: nothing coalesced, nothing split.
    expect(host.every((t) => t.bytes.length === 6)).toBe(true);
    expect(host.filter((t) => t.bytes[3] === 0x51)).toHaveLength(8);

    let checked = 0;
    for (let i = 0; i < traffic.length; i++) {
      const t = traffic[i] as SimBusTraffic;
      if (t.direction !== 'host' || t.bytes[3] !== 0x50) continue;
      const next = traffic.slice(i + 1).find((x) => x.direction === 'host');
      if (!next) continue;
      const between = traffic.slice(i + 1, traffic.indexOf(next));
      const answered = between.some((x) => x.direction === 'board' && x.bytes[1] === t.bytes[1]);
      // Either the board answered before the next frame, or the timeout went by (measured here
      // from the frame's arrival, which lags the timer start by the write latency: half of it
      // still tells a wait from a frame sent straight after).
      if (!answered) expect(next.at - t.at, `after ${toHex(t.bytes)}`).toBeGreaterThanOrEqual(replyTimeoutMs / 2);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

/** A transport that records writes and answers only when the test says so. */
class ScriptedTransport implements ByteTransport {
  readonly description = 'scripted';
  readonly writes: string[] = [];
  private readonly listeners = new TransportListeners();
  private open_ = false;
  get isOpen(): boolean {
    return this.open_;
  }
  on<E extends ByteTransportEvent>(event: E, listener: ByteTransportEvents[E]): () => void {
    return this.listeners.on(event, listener);
  }
  async open(): Promise<void> {
    this.open_ = true;
  }
  async write(bytes: Uint8Array): Promise<void> {
    this.writes.push(toHex(bytes));
  }
  async close(): Promise<void> {
    this.open_ = false;
    this.listeners.emit('close', undefined);
  }
  reply(hex: string): void {
    this.listeners.emit('data', hexBytes(hex));
  }
}

describe('commands are serialised (queue logic on a manual clock)', () => {
  const configWith = (timing: { pollIntervalMs: number }) =>
    SerialBusConfig.parse({
      id: 'bus0',
      protocol: 'kerong-cu16',
      transport: { kind: 'sim' },
      boards: [
        { address: 0, locks: 16, polarity: 'latched-low' },
        { address: 1, locks: 16, polarity: 'latched-low' },
      ],
      replyTimeoutMs: 300,
      fastPollForMs: 0,
      ...timing,
    });

  async function setUp(config = configWith({ pollIntervalMs: 60_000 })) {
    const clock = new ManualClock();
    const transport = new ScriptedTransport();
    const bus = new SerialLockBus({ config, transport, clock, logger: silentLogger(), jitter: () => 0.5 });
    const opened = bus.open();
    await clock.advance(0);
    await opened;
    // The first poll round asks board 0 first and waits.
    expect(transport.writes).toEqual(['02 00 30 03 35']);
    transport.reply('02 00 35 00 00 00 00 03 3A');
    await clock.advance(0);
    expect(transport.writes).toEqual(['02 00 30 03 35', '02 10 30 03 45']);
    transport.reply('02 10 35 00 00 00 00 03 4A');
    await clock.advance(0);
    return { clock, transport, bus };
  }

  it('holds the next frame until the reply arrives', async () => {
    const { clock, transport, bus } = await setUp();
    transport.writes.length = 0;
    const s0 = bus.status(0);
    const u1 = bus.unlock(1, 1);
    const s1 = bus.status(1);
    await clock.advance(0);
    expect(transport.writes).toEqual(['02 00 30 03 35']);
    await clock.advance(299);
    expect(transport.writes).toEqual(['02 00 30 03 35']);
    transport.reply('02 00 35 01 00 00 00 03 3B');
    await clock.advance(0);
    await expect(s0).resolves.toMatchObject({ board: 0, locks: expect.arrayContaining([{ lock: 1, latched: false }]) });
    // The unlock needs no reply: the status of board 1 follows at once.
    expect(transport.writes).toEqual(['02 00 30 03 35', '02 10 31 03 46', '02 10 30 03 45']);
    await u1;
    transport.reply('02 10 35 00 00 00 00 03 4A');
    await clock.advance(0);
    await expect(s1).resolves.toMatchObject({ board: 1 });
    await bus.close();
  });

  it('holds the next frame for the whole reply timeout when no reply comes', async () => {
    const { clock, transport, bus } = await setUp();
    transport.writes.length = 0;
    const s0 = bus.status(0).catch((e: unknown) => e);
    const u0 = bus.unlock(0, 2);
    await clock.advance(299);
    expect(transport.writes).toEqual(['02 00 30 03 35']);
    await clock.advance(1);
    expect(await s0).toMatchObject({ code: 'BOARD_SILENT' });
    await u0;
    expect(transport.writes).toEqual(['02 00 30 03 35', '02 01 31 03 37']);
    await bus.close();
  });

  it('puts user commands ahead of queued polls', async () => {
    const { clock, transport, bus } = await setUp(configWith({ pollIntervalMs: 100 }));
    transport.writes.length = 0;
    const s0 = bus.status(0);
    await clock.advance(100);
    // The poll round is queued behind the open question; now an unlock arrives.
    const u = bus.unlock(1, 3);
    transport.reply('02 00 35 00 00 00 00 03 3A');
    await clock.advance(0);
    await s0;
    await u;
    expect(transport.writes.slice(0, 3)).toEqual(['02 00 30 03 35', '02 12 31 03 48', '02 00 30 03 35']);
    await bus.close();
  });

  it('logs every frame in hex at debug level, with a direction arrow', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => lines.push(line) } });
    const clock = new ManualClock();
    const transport = new ScriptedTransport();
    const bus = new SerialLockBus({ config: configWith({ pollIntervalMs: 60_000 }), transport, clock, logger, jitter: () => 0.5 });
    const opened = bus.open();
    await clock.advance(0);
    await opened;
    transport.reply('02 00 35 00 00 00 00 03 3A');
    await clock.advance(0);
    const frames = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => /^(->|<-) /.test(l.msg));
    expect(frames.slice(0, 2)).toEqual([
      expect.objectContaining({ level: 20, msg: '-> 02 00 30 03 35 (status board 0)' }),
      expect.objectContaining({ level: 20, msg: '<- 02 00 35 00 00 00 00 03 3A' }),
    ]);
    await bus.close();
  });

  it('close rejects queued commands with BUS_CLOSED', async () => {
    const { clock, transport, bus } = await setUp();
    transport.writes.length = 0;
    const s0 = bus.status(0).catch((e: unknown) => e);
    const s1 = bus.status(1).catch((e: unknown) => e);
    await clock.advance(10);
    await bus.close();
    expect(await s0).toMatchObject({ code: 'BUS_CLOSED' });
    expect(await s1).toMatchObject({ code: 'BUS_CLOSED' });
    expect(transport.writes).toEqual(['02 00 30 03 35']);
  });
});
