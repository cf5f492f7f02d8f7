// Builds the hardware from configuration: real drivers (serialport, onoff, TCP bridges) or the
// simulator. Drivers and simulators are loaded with await import() so that a simulated locker
// never loads a native module, and a real one never loads the simulator.
import { type LockBus, type Scanner } from '../../hal/types.js';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import type { SimWorld } from '../../sim/world.js';
import type { SimSerialRegistry } from '../../sim/serial/simBinding.js';
import { type Clock } from '../clock.js';
import { type BusConfig, type LockerConfig, type SerialBusConfig } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type Logger } from '../logger.js';

export interface Hardware {
  buses: Map<string, LockBus>;
  scanner?: Scanner;
  /** Present on the simulator only. */
  sim?: { world: SimWorld; registry: SimSerialRegistry; noise: (n: number) => Uint8Array; stop: () => void };
}

export interface HardwareOptions {
  clock: Clock;
  logger: Logger;
  /** Real serial binding override (tests that run the real driver against a pty use the native one). */
  serialBinding?: BindingInterface;
}

export const SIM_SCANNER_PATH = 'sim:scanner';

export async function createHardware(config: LockerConfig, o: HardwareOptions): Promise<Hardware> {
  const usesSim = config.hardware.buses.some((b) => b.transport.kind === 'sim') || config.hardware.scanner?.transport.kind === 'sim';
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
  for (const bus of config.hardware.buses) buses.set(bus.id, await createBus(bus, o, sim?.registry, native));

  let scanner: Scanner | undefined;
  const sc = config.hardware.scanner;
  if (sc) {
    const { SerialScanner } = await import('../../hal/scanner/serialScanner.js');
    const path = sc.transport.kind === 'sim' ? SIM_SCANNER_PATH : sc.transport.path;
    const baudRate = sc.transport.kind === 'sim' ? 9600 : sc.transport.baudRate;
    const binding = sc.transport.kind === 'sim' ? sim?.registry.binding : await native();
    if (!binding) throw new LockerError(ErrorCodes.CONFIG_INVALID, 'the simulated scanner needs the simulator');
    scanner = new SerialScanner({ path, baudRate, config: sc, binding, clock: o.clock, logger: o.logger.child({ channel: 'scanner' }) });
  }
  return { buses, ...(scanner ? { scanner } : {}), ...(sim ? { sim } : {}) };
}

async function createBus(bus: BusConfig, o: HardwareOptions, registry: SimSerialRegistry | undefined, native: () => Promise<BindingInterface>): Promise<LockBus> {
  const logger = o.logger.child({ channel: 'serial', bus: bus.id });
  if (bus.protocol === 'gpio') {
    const { GpioLockBus } = await import('../../hal/buses/gpioLockBus.js');
    if (bus.transport.kind === 'sim') {
      if (!registry) throw new LockerError(ErrorCodes.CONFIG_INVALID, 'simulated GPIO needs the simulator');
      const gpio = simGpios.get(bus.id);
      if (!gpio) throw new LockerError(ErrorCodes.CONFIG_INVALID, `no simulated GPIO for ${bus.id}`);
      return new GpioLockBus({ config: bus, gpio, clock: o.clock, logger });
    }
    const { OnoffGpio } = await import('../../hal/gpio/onoffGpio.js');
    const gpio = await OnoffGpio.open({ ...(bus.transport.chipLabel ? { chipLabel: bus.transport.chipLabel } : {}) });
    return new GpioLockBus({ config: bus, gpio, clock: o.clock, logger });
  }
  const { SerialLockBus } = await import('../../hal/buses/serialLockBus.js');
  const { busBaudRate } = await import('../../hal/buses/protocols.js');
  const transport = await createSerialTransport(bus, busBaudRate(bus), registry, native);
  return new SerialLockBus({ config: bus, transport, clock: o.clock, logger });
}

async function createSerialTransport(bus: SerialBusConfig, baudRate: number, registry: SimSerialRegistry | undefined, native: () => Promise<BindingInterface>) {
  if (bus.transport.kind === 'tcp') {
    const { TcpTransport } = await import('../../hal/transport/tcpTransport.js');
    return new TcpTransport({ host: bus.transport.host, port: bus.transport.port });
  }
  const { SerialTransport } = await import('../../hal/transport/serialTransport.js');
  if (bus.transport.kind === 'sim') {
    if (!registry) throw new LockerError(ErrorCodes.CONFIG_INVALID, 'a simulated bus needs the simulator');
    return new SerialTransport({ path: `sim:${bus.id}`, baudRate, binding: registry.binding });
  }
  return new SerialTransport({ path: bus.transport.path, baudRate, binding: await native() });
}

// Simulated GPIO ports per bus id, filled by createSimulator.
const simGpios = new Map<string, import('../../hal/gpio/gpioPort.js').GpioPort>();

async function createSimulator(config: LockerConfig, o: HardwareOptions): Promise<NonNullable<Hardware['sim']>> {
  const { SimWorld } = await import('../../sim/world.js');
  const { SimSerialRegistry } = await import('../../sim/serial/simBinding.js');
  const { SimBus } = await import('../../sim/boards/simBus.js');
  const { SimGpio } = await import('../../sim/gpio/simGpio.js');
  const { SimScannerDevice, scannerNoise } = await import('../../sim/scanner/simScannerDevice.js');
  const positions = config.hardware.buses.flatMap((b) =>
    b.protocol === 'gpio' ? b.locks.map((l) => ({ bus: b.id, board: 0, lock: l.lock })) : b.boards.flatMap((bd) => Array.from({ length: bd.locks }, (_, i) => ({ bus: b.id, board: bd.address, lock: i + 1 }))),
  );
  const world = new SimWorld(o.clock, positions);
  const registry = new SimSerialRegistry(o.clock);
  const stops: (() => void)[] = [];
  for (const b of config.hardware.buses) {
    if (b.transport.kind !== 'sim') continue;
    if (b.protocol === 'gpio') {
      simGpios.set(b.id, new SimGpio(world, b, o.clock));
      continue;
    }
    const simBus = new SimBus(b, world, o.clock);
    registry.register(`sim:${b.id}`, simBus);
    stops.push(() => registry.unregister(`sim:${b.id}`));
  }
  if (config.hardware.scanner?.transport.kind === 'sim') {
    const device = new SimScannerDevice(world, registry, SIM_SCANNER_PATH);
    stops.push(() => device.dispose());
  }
  return { world, registry, noise: scannerNoise, stop: () => stops.forEach((s) => s()) };
}
