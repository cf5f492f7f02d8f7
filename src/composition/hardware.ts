// Builds the hardware from configuration: real drivers (serialport, onoff, TCP bridges) or the
// simulator. Drivers and simulators are loaded with await import() so that a simulated locker
// never loads a native module, and a real one never loads the simulator.
import { type Indicator, type LockBus, type Scanner } from '../../hal/types.js';
import type { ByteTransport } from '../../hal/transport/byteTransport.js';
import type { GpioPort } from '../../hal/gpio/gpioPort.js';
import type { SerialBinding as BindingInterface } from '../../hal/transport/serialTransport.js';
import type { SimWorld } from '../../sim/world.js';
import type { SimSerialRegistry } from '../../sim/serial/simBinding.js';
import type { SimIndicator } from '../../sim/gpio/simIndicator.js';
import { join } from 'node:path';
import { type Clock } from '../../kernel/clock.js';
import { type BusConfig, type LockerConfig } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { gpioBusOptions, serialBusOptions } from './halOptions.js';
import { openIndicator } from './indicator.js';
import { randomFraction, type RandomSource } from '../../kernel/random.js';

export interface Hardware {
  buses: Map<string, LockBus>;
  scanner?: Scanner;
  /** The buzzer and compartment LEDs (`hardware.indicator`) when configured and opened. */
  indicator?: Indicator & { close(): Promise<void> };
  /** Present on the simulator only. */
  sim?: { world: SimWorld; registry: SimSerialRegistry; noise: (n: number) => Uint8Array; stop: () => void; indicator?: SimIndicator };
}

export interface HardwareOptions {
  clock: Clock;
  logger: Logger;
  /** Jitter of the drivers' reconnect backoff (hal draws nothing itself). */
  random: RandomSource;
  /** Real serial binding override (tests that run the real driver against a pty use the native one). */
  serialBinding?: BindingInterface;
}

export const SIM_SCANNER_PATH = 'sim:scanner';

export async function createHardware(config: LockerConfig, o: HardwareOptions): Promise<Hardware> {
  const usesSim =
    config.hardware.buses.some((b) => b.transport.kind === 'sim') || config.hardware.scanner?.transport.kind === 'sim' || config.hardware.indicator?.transport.kind === 'sim';
  const sim = usesSim ? await createSimulator(config, o) : undefined;
  let nativeBinding = o.serialBinding;
  const native = async (): Promise<BindingInterface> => {
    if (!nativeBinding) {
      const { loadNativeSerialBinding } = await import('../../hal/transport/serialTransport.js');
      nativeBinding = await loadNativeSerialBinding();
    }
    return nativeBinding;
  };

  const buses = new Map<string, LockBus>();
  for (const bus of config.hardware.buses) buses.set(bus.id, await createBus(bus, o, sim, native));

  let scanner: Scanner | undefined;
  const sc = config.hardware.scanner;
  if (sc) {
    const { SerialScanner, pathListedBy } = await import('../../hal/scanner/serialScanner.js');
    const simulated = sc.transport.kind === 'sim';
    const binding = simulated ? sim?.registry.binding : await native();
    if (!binding) throw new LockerError(ErrorCodes.CONFIG_INVALID, 'the simulated scanner needs the simulator');
    scanner = new SerialScanner({
      path: sc.transport.kind === 'sim' ? SIM_SCANNER_PATH : sc.transport.path,
      baudRate: sc.transport.kind === 'sim' ? 9600 : sc.transport.baudRate,
      binding,
      clock: o.clock,
      logger: o.logger, // the driver names its channel itself
      framing: { suffix: sc.suffix, interByteTimeoutMs: sc.interByteTimeoutMs, maxLength: sc.maxLength, aimPrefix: sc.aimPrefix },
      reconnectMinMs: sc.reconnectMinMs,
      reconnectMaxMs: sc.reconnectMaxMs,
      jitter: () => randomFraction(o.random),
      ...(simulated ? { pathExists: pathListedBy(binding) } : {}),
    });
  }
  const ic = config.hardware.indicator;
  const indicator = ic ? await openIndicator(ic, { clock: o.clock, logger: o.logger, ...(sim?.handle.indicator ? { simGpio: sim.handle.indicator.gpio } : {}) }) : undefined;
  return { buses, ...(scanner ? { scanner } : {}), ...(indicator ? { indicator } : {}), ...(sim ? { sim: sim.handle } : {}) };
}

interface Simulator {
  handle: NonNullable<Hardware['sim']>;
  registry: SimSerialRegistry;
  gpios: Map<string, GpioPort>;
}

async function createBus(bus: BusConfig, o: HardwareOptions, sim: Simulator | undefined, native: () => Promise<BindingInterface>): Promise<LockBus> {
  const logger = o.logger.child({ channel: 'serial', bus: bus.id });
  if (bus.protocol === 'gpio') {
    const { GpioLockBus } = await import('../../hal/buses/gpioLockBus.js');
    if (bus.transport.kind === 'sim') {
      const gpio = sim?.gpios.get(bus.id);
      if (!gpio) throw new LockerError(ErrorCodes.CONFIG_INVALID, `no simulated GPIO for ${bus.id}`);
      return new GpioLockBus({ config: gpioBusOptions(bus), gpio, clock: o.clock, logger });
    }
    const { OnoffGpio } = await import('../../hal/gpio/onoffGpio.js');
    const gpio = await OnoffGpio.open({ logger, ...(bus.transport.chipLabel ? { chipLabel: bus.transport.chipLabel } : {}) });
    return new GpioLockBus({ config: gpioBusOptions(bus), gpio, clock: o.clock, logger });
  }
  const { SerialLockBus } = await import('../../hal/buses/serialLockBus.js');
  const { busBaudRate } = await import('../../hal/buses/protocols.js');
  let transport: ByteTransport;
  let watchDevice: ((onChange: () => void) => () => void) | undefined;
  if (bus.transport.kind === 'tcp') {
    const { TcpTransport } = await import('../../hal/transport/tcpTransport.js');
    transport = new TcpTransport({ host: bus.transport.host, port: bus.transport.port });
  } else {
    const { SerialTransport } = await import('../../hal/transport/serialTransport.js');
    if (bus.transport.kind === 'sim') {
      const { simBusPath } = await import('../../sim/boards/simBus.js');
      if (!sim) throw new LockerError(ErrorCodes.CONFIG_INVALID, 'a simulated bus needs the simulator');
      transport = new SerialTransport({ path: simBusPath(bus.id), baudRate: busBaudRate(bus), binding: sim.registry.binding });
    } else {
      const { watchDevicePath } = await import('../../hal/transport/serialTransport.js');
      const path = bus.transport.path;
      transport = new SerialTransport({ path, baudRate: busBaudRate(bus), binding: await native() });
      // An adapter plugged back in is reopened when its path appears, not after the backoff.
      watchDevice = (onChange) => watchDevicePath(path, onChange);
    }
  }
  return new SerialLockBus({
    config: serialBusOptions(bus),
    transport,
    clock: o.clock,
    logger,
    jitter: () => randomFraction(o.random),
    reopenMinMs: bus.reconnectMinMs,
    reopenMaxMs: Math.max(bus.reconnectMinMs, bus.reconnectMaxMs),
    ...(watchDevice ? { watchDevice } : {}),
  });
}

async function createSimulator(config: LockerConfig, o: HardwareOptions): Promise<Simulator> {
  const { SimWorld } = await import('../../sim/world.js');
  const { SimSerialRegistry } = await import('../../sim/serial/simBinding.js');
  const { attachSimBus, simPositions } = await import('../../sim/boards/simBus.js');
  const { SimGpio } = await import('../../sim/gpio/simGpio.js');
  const { SimScannerDevice, lineNoise } = await import('../../sim/scanner/simScannerDevice.js');
  const positions = config.hardware.buses.flatMap((b) => (b.protocol === 'gpio' ? b.locks.map((l) => ({ bus: b.id, board: 0, lock: l.lock })) : simPositions(b)));
  const world = new SimWorld(o.clock, positions);
  // The simulated locker outlives the controller: doors, parcels and faults are kept in a file
  // so a killed lockerd (a power cut) comes back to the same physical state.
  const { persistWorld } = await import('../../sim/worldFile.js');
  const stopPersisting = persistWorld(world, join(config.dataDir, 'sim-world.json'));
  const registry = new SimSerialRegistry();
  const gpios = new Map<string, GpioPort>();
  const stops: (() => void)[] = [stopPersisting];
  for (const b of config.hardware.buses) {
    if (b.transport.kind !== 'sim') continue;
    if (b.protocol === 'gpio') {
      const relays = b.locks.map((l) => ({ pin: l.relayPin, position: { bus: b.id, board: 0, lock: l.lock }, energiseMs: l.energiseMs }));
      const doors = b.locks.flatMap((l) => (l.doorPin === undefined ? [] : [{ pin: l.doorPin, position: { bus: b.id, board: 0, lock: l.lock }, closedValue: l.doorClosedValue }]));
      const gpio = new SimGpio(world, o.clock, { relays, doors });
      gpios.set(b.id, gpio);
      stops.push(() => gpio.dispose());
      continue;
    }
    attachSimBus(registry, { config: serialBusOptions(b), world, clock: o.clock });
  }
  if (config.hardware.scanner?.transport.kind === 'sim') {
    const device = new SimScannerDevice({ world, registry, path: SIM_SCANNER_PATH });
    stops.push(() => device.detach());
  }
  const ic = config.hardware.indicator;
  let indicator: SimIndicator | undefined;
  if (ic?.transport.kind === 'sim') {
    const { createSimIndicator } = await import('../../sim/gpio/simIndicator.js');
    indicator = createSimIndicator(world, o.clock, { buzzerPin: ic.buzzer?.pin, leds: ic.leds });
    const created = indicator;
    stops.push(() => created.stop());
  }
  return { registry, gpios, handle: { world, registry, noise: (n) => lineNoise(n), stop: () => stops.forEach((s) => s()), ...(indicator ? { indicator } : {}) } };
}
