import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialLockBus } from '../../../hal/buses/serialLockBus.js';
import { TcpTransport } from '../../../hal/transport/tcpTransport.js';
import { type LockBusEvent } from '../../../hal/types.js';
import { SimBus, simPositions } from '../../../sim/boards/simBus.js';
import { SimWorld } from '../../../sim/world.js';
import { SystemClock } from '../../../kernel/clock.js';
import { SerialBusConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/logger.js';
import { simulatedBus, sleep, waitForEvent, waitUntil } from '../../support/simulatedBus.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const input = {
  id: 'bus0',
  protocol: 'kerong-cu48' as const,
  transport: { kind: 'sim' as const },
  boards: [{ address: 0, locks: 8, energiseMs: 60 }],
  pollIntervalMs: 50,
  fastPollIntervalMs: 20,
  fastPollForMs: 300,
  replyTimeoutMs: 40,
  silentAfterMisses: 2,
};

type TransportEvent = Extract<LockBusEvent, { type: 'transport' }>;
const transportEvent = (connected: boolean) => (e: LockBusEvent): e is TransportEvent => e.type === 'transport' && e.connected === connected;
const transportEvents = (events: LockBusEvent[]) => events.filter((e): e is TransportEvent => e.type === 'transport').map((e) => e.connected);

describe('transport lost', () => {
  it('an unplugged adapter is reported, calls fail with TRANSPORT_ERROR, and the bus reopens by itself', async () => {
    const { bus, registry, path, events, world } = simulatedBus(input);
    cleanup.push(() => bus.close());
    await bus.open();
    await bus.status(0);
    expect(transportEvents(events)).toEqual([true]);

    registry.unplug(path);
    const lost = await waitForEvent(events, transportEvent(false));
    expect(lost).toMatchObject({ bus: 'bus0', connected: false });
    expect(lost.message).toMatch(/disconnected/);
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    await expect(bus.unlock(0, 1)).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });

    // Several failed reopen attempts while unplugged: still no crash, no silent board.
    await sleep(250);
    expect(transportEvents(events)).toEqual([true, false]);

    world.forceOpen({ bus: 'bus0', board: 0, lock: 8 });
    registry.replug(path);
    await waitUntil(() => transportEvents(events).length === 3, 3_000, 'reconnect');
    expect(transportEvents(events)).toEqual([true, false, true]);
    // Polling resumed by itself: the change made while unplugged shows up.
    await waitForEvent(events, (e) => e.type === 'reading' && e.reading.lock === 8 && !e.reading.latched);
    await bus.unlock(0, 2);
    await waitForEvent(events, (e) => e.type === 'reading' && e.reading.lock === 2 && !e.reading.latched);
    expect(events.filter((e) => e.type === 'board-silent')).toEqual([]);
  });

  it('a question in flight when the adapter goes is rejected with TRANSPORT_ERROR at once', async () => {
    const { bus, registry, path, world } = simulatedBus({ ...input, replyTimeoutMs: 2_000, pollIntervalMs: 60_000 });
    cleanup.push(() => bus.close());
    await bus.open();
    world.setBoardSilent('bus0', 0, true);
    const started = Date.now();
    const pending = bus.status(0).catch((e: unknown) => e);
    await sleep(30);
    registry.unplug(path);
    expect(await pending).toMatchObject({ code: 'TRANSPORT_ERROR' });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('an adapter missing at start: open() rejects, the bus comes up when it is plugged in', async () => {
    const { bus, registry, path, events } = simulatedBus(input);
    cleanup.push(() => bus.close());
    registry.unplug(path);
    await expect(bus.open()).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    expect(transportEvents(events)).toEqual([false]);
    registry.replug(path);
    await waitForEvent(events, transportEvent(true));
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
  });

  it('close() during reconnect stops the attempts', async () => {
    const { bus, registry, path, events } = simulatedBus(input);
    await bus.open();
    registry.unplug(path);
    await waitForEvent(events, transportEvent(false));
    await bus.close();
    registry.replug(path);
    await sleep(300);
    expect(transportEvents(events)).toEqual([true, false]);
    expect(registry.isOpen(path)).toBe(false);
  });
});

/** A KR-BU bridge stand-in: a TCP server with the simulated boards behind it. */
async function startBridge(simBus: SimBus, port = 0): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    simBus.connect((bytes) => socket.write(bytes), 19200);
    socket.on('data', (chunk) => simBus.receive(new Uint8Array(chunk)));
    socket.on('close', () => {
      sockets.delete(socket);
      simBus.disconnect();
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sockets };
}

async function stopBridge(bridge: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const s of bridge.sockets) s.destroy();
  await new Promise((resolve) => bridge.server.close(resolve));
}

describe('KR-BU bridge over TCP', () => {
  it('works like the serial line, reports a dropped connection and reconnects', async () => {
    const config = SerialBusConfig.parse({ ...input, transport: { kind: 'tcp', host: '127.0.0.1', port: 1 } });
    const clock = new SystemClock();
    const world = new SimWorld(clock, simPositions(config));
    const simBus = new SimBus({ config, world, clock });
    let bridge = await startBridge(simBus);
    cleanup.push(() => stopBridge(bridge));
    const bus = new SerialLockBus({
      config,
      transport: new TcpTransport({ host: '127.0.0.1', port: bridge.port, connectTimeoutMs: 500 }),
      clock,
      logger: silentLogger(),
      jitter: () => 0.5,
      reopenMinMs: 20,
      reopenMaxMs: 100,
    });
    cleanup.push(() => bus.close());
    const events: LockBusEvent[] = [];
    bus.on((e) => events.push(e));
    await bus.open();
    await bus.unlock(0, 4);
    await waitForEvent(events, (e) => e.type === 'reading' && e.reading.lock === 4 && !e.reading.latched);

    // The bridge reboots: connection gone, port closed for a while, then back.
    const port = bridge.port;
    await stopBridge(bridge);
    await waitForEvent(events, transportEvent(false));
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    await sleep(200);
    bridge = await startBridge(simBus, port);
    await waitUntil(() => transportEvents(events).length === 3, 3_000, 'reconnect');
    world.closeDoor({ bus: 'bus0', board: 0, lock: 4 });
    await waitForEvent(events, (e) => e.type === 'reading' && e.reading.lock === 4 && e.reading.latched && e.previous?.latched === false);
    expect(transportEvents(events)).toEqual([true, false, true]);
  });

  it('a bridge that is not up yet: open() rejects with TRANSPORT_ERROR, the bus connects once it listens', async () => {
    const config = SerialBusConfig.parse({ ...input, transport: { kind: 'tcp', host: '127.0.0.1', port: 1 } });
    const clock = new SystemClock();
    const world = new SimWorld(clock, simPositions(config));
    const simBus = new SimBus({ config, world, clock });
    // Find a free port, then leave it closed for now.
    const probe = await startBridge(simBus);
    const port = probe.port;
    await stopBridge(probe);
    const bus = new SerialLockBus({
      config,
      transport: new TcpTransport({ host: '127.0.0.1', port, connectTimeoutMs: 500 }),
      clock,
      logger: silentLogger(),
      jitter: () => 0.5,
      reopenMinMs: 20,
      reopenMaxMs: 100,
    });
    cleanup.push(() => bus.close());
    const events: LockBusEvent[] = [];
    bus.on((e) => events.push(e));
    await expect(bus.open()).rejects.toMatchObject({ code: 'TRANSPORT_ERROR', message: expect.stringMatching(/ECONNREFUSED/) });
    const bridge = await startBridge(simBus, port);
    cleanup.push(() => stopBridge(bridge));
    await waitForEvent(events, transportEvent(true));
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
  });
});
