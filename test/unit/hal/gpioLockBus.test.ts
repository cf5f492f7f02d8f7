// Relays and reed switches on GPIO, driven through SimGpio wired to the simulated locker:
// unlocking opens the door, reed contacts are debounced, readings follow the door, and two
// relays are never energised at once.
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { GpioLockBus } from '../../../hal/buses/gpioLockBus.js';
import { type GpioPort } from '../../../hal/gpio/gpioPort.js';
import { GpioIndicator } from '../../../hal/indicator/gpioIndicator.js';
import { type LockBusEvent, type LockReading } from '../../../hal/types.js';
import { SimGpio } from '../../../sim/gpio/simGpio.js';
import { SimWorld } from '../../../sim/world.js';
import { ManualClock } from '../../../kernel/clock.js';
import { GpioBusConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/logger.js';

const config = GpioBusConfig.parse({
  id: 'gpio0',
  protocol: 'gpio',
  transport: { kind: 'sim' },
  locks: [
    { lock: 1, relayPin: 17, doorPin: 27, energiseMs: 500 },
    { lock: 2, relayPin: 22, relayActiveLow: true, doorPin: 23, doorClosedValue: 1, energiseMs: 300 },
    { lock: 3, relayPin: 24, energiseMs: 200 },
  ],
  debounceMs: 30,
  pollIntervalMs: 500,
  fastPollIntervalMs: 50,
  fastPollForMs: 2000,
});
const at = (lock: number): { bus: string; board: number; lock: number } => ({ bus: 'gpio0', board: 0, lock });

let clock: ManualClock;
let world: SimWorld;
let gpio: SimGpio;
let bus: GpioLockBus;
let events: LockBusEvent[];

function readings(lock?: number): LockReading[] {
  return events.flatMap((e) => (e.type === 'reading' && (lock === undefined || e.reading.lock === lock) ? [e.reading] : []));
}

async function openBus(port: GpioPort = gpio): Promise<void> {
  bus = new GpioLockBus({ config, gpio: port, clock, logger: silentLogger() });
  events = [];
  bus.on((e) => events.push(e));
  await bus.open();
}

beforeEach(async () => {
  clock = new ManualClock();
  world = new SimWorld(clock, [at(1), at(2), at(3)]);
  gpio = SimGpio.forBus(world, clock, config);
});

afterEach(async () => {
  await bus.close();
  gpio.dispose();
});

describe('GPIO lock bus', () => {
  it('reports every lock when it opens, relays idle (active-low relay held high)', async () => {
    await openBus();
    expect(events[0]).toEqual({ type: 'transport', bus: 'gpio0', connected: true });
    expect(readings()).toEqual([
      { lock: 1, latched: true, doorOpen: false },
      { lock: 2, latched: true, doorOpen: false },
      { lock: 3, latched: true },
    ]);
    expect(gpio.outputLevel(17)).toBe(0);
    expect(gpio.outputLevel(22)).toBe(1);
    expect(bus.lastStatus(0)?.locks).toEqual(readings());
    expect(bus.silentBoards()).toEqual([]);
  });

  it('unlock energises the relay for energiseMs, the door opens and is reported after the debounce', async () => {
    await openBus();
    events.length = 0;
    await bus.unlock(0, 1);
    expect(gpio.outputValue(17)).toBe(1);
    await clock.advance(499);
    expect(gpio.outputValue(17)).toBe(1);
    await clock.advance(1);
    expect(gpio.outputValue(17)).toBe(0);
    expect(world.lock(at(1)).doorOpen).toBe(true);
    expect(readings(1)).toEqual([]);
    await clock.advance(29);
    expect(readings(1)).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual([
      { type: 'reading', bus: 'gpio0', board: 0, reading: { lock: 1, latched: false, doorOpen: true }, previous: { lock: 1, latched: true, doorOpen: false } },
    ]);

    world.closeDoor(at(1));
    await clock.advance(30);
    expect(readings(1).at(-1)).toEqual({ lock: 1, latched: true, doorOpen: false });
    expect((await bus.status(0)).locks[0]).toEqual({ lock: 1, latched: true, doorOpen: false });
  });

  it('inverted reed wiring (closed = 1) reads the same door states', async () => {
    await openBus();
    events.length = 0;
    await bus.unlock(0, 2);
    await clock.advance(400);
    expect(readings(2)).toEqual([{ lock: 2, latched: false, doorOpen: true }]);
    expect(gpio.outputLevel(22)).toBe(1);
  });

  it('contact bounce is debounced to one reading; a glitch shorter than debounceMs is ignored', async () => {
    await openBus();
    events.length = 0;
    world.forceOpen(at(1));
    gpio.chatter(27, 6, 4);
    await clock.advance(200);
    expect(readings(1)).toEqual([{ lock: 1, latched: false, doorOpen: true }]);

    world.closeDoor(at(1));
    await clock.advance(200);
    events.length = 0;
    gpio.chatter(27, 2, 10);
    await clock.advance(200);
    expect(readings(1)).toEqual([]);
  });

  it('never energises two relays at once: unlocks queue one after another', async () => {
    await openBus();
    const done = [bus.unlock(0, 1), bus.unlock(0, 2), bus.unlock(0, 3), bus.unlock(0, 1)];
    await done[0];
    await clock.advance(3000);
    await Promise.all(done);
    expect(gpio.maxRelaysEnergised).toBe(1);
    const log = gpio.relayLog.map((s) => `${s.pin}:${s.on ? 'on' : 'off'}@${s.at - gpio.relayLog[0]!.at}`);
    // The second unlock of lock 1 still pulses; its door is already open, so nothing changes there.
    expect(log).toEqual(['17:on@0', '17:off@500', '22:on@500', '22:off@800', '24:on@800', '24:off@1000', '17:on@1000', '17:off@1500']);
    expect([1, 2, 3].map((l) => world.lock(at(l)).doorOpen)).toEqual([true, true, true]);
  });

  it('a lock without a reed switch reports unlatched only while energised', async () => {
    await openBus();
    events.length = 0;
    await bus.unlock(0, 3);
    expect(readings(3)).toEqual([{ lock: 3, latched: false }]);
    await clock.advance(200);
    expect(readings(3)).toEqual([{ lock: 3, latched: false }, { lock: 3, latched: true }]);
  });

  it('a missed edge is caught by polling', async () => {
    const deaf: GpioPort = {
      openOutput: (pin, activeLow) => gpio.openOutput(pin, activeLow),
      openInput: async (pin, edge) => ({ ...(await gpio.openInput(pin, edge)), watch: () => () => undefined }),
    };
    await openBus(deaf);
    events.length = 0;
    world.forceOpen(at(2));
    await clock.advance(499);
    expect(readings(2)).toEqual([]);
    await clock.advance(31);
    expect(readings(2)).toEqual([{ lock: 2, latched: false, doorOpen: true }]);
  });

  it('rejects bad addresses and reports GPIO faults with GPIO_ERROR', async () => {
    await openBus();
    await expect(bus.unlock(1, 1)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(bus.unlock(0, 9)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(bus.status(2)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(bus.lastStatus(1)).toBeUndefined();

    gpio.setFault(17, 'write');
    await expect(bus.unlock(0, 1)).rejects.toMatchObject({ code: 'GPIO_ERROR' });
    gpio.setFault(17, undefined);
    await expect(bus.unlock(0, 1)).resolves.toBeUndefined();
    await clock.advance(600);
    expect(gpio.outputValue(17)).toBe(0);

    gpio.setFault(23, 'read');
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'GPIO_ERROR' });
    // Polling keeps going through the fault and recovers with the line.
    await clock.advance(2000);
    gpio.setFault(23, undefined);
    world.forceOpen(at(2));
    await clock.advance(600);
    expect(readings(2).at(-1)).toEqual({ lock: 2, latched: false, doorOpen: true });
  });

  it('a line that cannot be claimed fails open with GPIO_ERROR and releases the others', async () => {
    await gpio.openInput(23, 'both');
    const failing = new GpioLockBus({ config, gpio, clock, logger: silentLogger() });
    await expect(failing.open()).rejects.toMatchObject({ code: 'GPIO_ERROR' });
    expect(gpio.outputValue(17)).toBeUndefined();
    await openBus(SimGpio.forBus(world, clock, config));
  });

  it('close rejects queued unlocks with BUS_CLOSED, cuts the pulse short and releases the relays', async () => {
    await openBus();
    const first = bus.unlock(0, 1);
    const queued = bus.unlock(0, 2);
    await first;
    expect(gpio.outputValue(17)).toBe(1);
    await bus.close();
    await expect(queued).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    expect(gpio.outputValue(17)).toBeUndefined();
    expect(gpio.energisedRelays()).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'transport', bus: 'gpio0', connected: false });
    await expect(bus.unlock(0, 1)).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    await expect(bus.status(0)).rejects.toMatchObject({ code: 'BUS_CLOSED' });
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe('GPIO indicator', () => {
  it('plays beep patterns one at a time and lights compartment LEDs', async () => {
    await openBus();
    const indicator = await GpioIndicator.open({ gpio, clock, logger: silentLogger(), buzzer: { pin: 5 }, leds: { A1: { pin: 6, activeLow: true } } });
    const first = indicator.beep('error');
    const second = indicator.beep('ok');
    await clock.advance(1);
    expect(gpio.outputValue(5)).toBe(1);
    await clock.advance(150);
    expect(gpio.outputValue(5)).toBe(0);
    await clock.advance(2000);
    await Promise.all([first, second]);
    expect(gpio.outputValue(5)).toBe(0);

    await indicator.light('A1', true);
    expect(gpio.outputLevel(6)).toBe(0);
    await indicator.light('A1', false);
    expect(gpio.outputLevel(6)).toBe(1);
    await expect(indicator.light('no-led-here', true)).resolves.toBeUndefined();
    await indicator.close();
    expect(gpio.outputValue(5)).toBeUndefined();
  });
});
