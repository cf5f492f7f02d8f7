// A serialport binding backed by simulated devices. The real driver stack (SerialPortStream
// plus our transports and buses) runs unchanged on top of it; only the binding is swapped.
//
// Each path maps to one SimSerialDevice. Opening the path connects the device; bytes the host
// writes reach `device.receive`, bytes the device sends are queued for the host's reads. The
// port honours the binding contract of @serialport/bindings-interface: one pending read at a
// time, reads cancelled with `canceled: true` on close, and any other read/write error makes
// the stream treat the port as disconnected (that is how an unplug surfaces).
// (The interface package publishes its types for require() only, hence the resolution mode.)
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortInfo,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

export interface SimSerialDevice {
  /** The host opened the port. Return false to refuse (device unplugged -> open rejects like a missing tty). */
  connect(send: (bytes: Uint8Array) => void, baudRate: number): boolean;
  /** The host closed the port. */
  disconnect(): void;
  /** Bytes the host wrote. */
  receive(bytes: Uint8Array): void;
  /** The host changed the line speed of the open port (baud probing). */
  baudRateChanged?(baudRate: number): void;
}

/** Error shapes the stream recognises by property, as the native bindings produce them. */
class SimBindingError extends Error {
  constructor(
    message: string,
    readonly canceled = false,
    readonly disconnected = false,
    readonly code?: string,
  ) {
    super(message);
  }
}

const openDefaults = {
  dataBits: 8,
  lock: true,
  stopBits: 1,
  parity: 'none',
  rtscts: false,
  xon: false,
  xoff: false,
  xany: false,
  hupcl: true,
} as const;

interface PendingRead {
  buffer: Buffer;
  offset: number;
  length: number;
  resolve: (r: { buffer: Buffer; bytesRead: number }) => void;
  reject: (e: Error) => void;
}

/** Lets I/O settle the way the OS would: never synchronously inside the caller. */
function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

class SimPort implements BindingPortInterface {
  isOpen = true;
  private readonly inbox: Buffer[] = [];
  private pendingRead: PendingRead | undefined;
  private unplugged = false;

  constructor(
    readonly openOptions: Required<OpenOptions>,
    private readonly device: SimSerialDevice,
    private readonly onClosed: (port: SimPort) => void,
  ) {}

  /** Bytes from the device towards the host. */
  deliver(bytes: Uint8Array): void {
    if (!this.isOpen || this.unplugged || bytes.length === 0) return;
    this.inbox.push(Buffer.from(bytes));
    this.servePendingRead();
  }

  /** The device vanished: the pending (or next) read fails like ENXIO on Linux. */
  unplug(): void {
    if (this.unplugged) return;
    this.unplugged = true;
    this.inbox.length = 0;
    this.device.disconnect();
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.reject(this.disconnectError());
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    if (!this.isOpen) throw new SimBindingError('Port is not open', true);
    await nextTick();
    if (!this.isOpen) throw new SimBindingError('Read canceled', true);
    if (this.unplugged) throw this.disconnectError();
    if (this.pendingRead) throw new SimBindingError('A read is already pending');
    return new Promise((resolve, reject) => {
      this.pendingRead = { buffer, offset, length, resolve, reject };
      this.servePendingRead();
    });
  }

  async write(buffer: Buffer): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open', true);
    const bytes = Uint8Array.from(buffer);
    await nextTick();
    if (!this.isOpen) throw new SimBindingError('Write canceled', true);
    if (this.unplugged) throw this.disconnectError();
    this.device.receive(bytes);
  }

  async close(): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    this.isOpen = false;
    this.inbox.length = 0;
    const pending = this.pendingRead;
    this.pendingRead = undefined;
    pending?.reject(new SimBindingError('Port is closed', true));
    if (!this.unplugged) this.device.disconnect();
    this.onClosed(this);
  }

  async update(options: UpdateOptions): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    if (!Number.isInteger(options.baudRate) || options.baudRate <= 0) throw new SimBindingError(`Invalid baud rate ${options.baudRate}`);
    await nextTick();
    this.openOptions.baudRate = options.baudRate;
    if (!this.unplugged) this.device.baudRateChanged?.(options.baudRate);
  }

  async set(_options: SetOptions): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    await nextTick();
  }

  async get(): Promise<PortStatus> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    await nextTick();
    return { cts: true, dsr: true, dcd: false };
  }

  async getBaudRate(): Promise<{ baudRate: number }> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    await nextTick();
    return { baudRate: this.openOptions.baudRate };
  }

  async flush(): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    this.inbox.length = 0;
    await nextTick();
  }

  async drain(): Promise<void> {
    if (!this.isOpen) throw new SimBindingError('Port is not open');
    await nextTick();
  }

  private servePendingRead(): void {
    const pending = this.pendingRead;
    if (!pending || this.inbox.length === 0) return;
    this.pendingRead = undefined;
    let bytesRead = 0;
    while (bytesRead < pending.length && this.inbox.length > 0) {
      const head = this.inbox[0] as Buffer;
      const n = Math.min(head.length, pending.length - bytesRead);
      head.copy(pending.buffer, pending.offset + bytesRead, 0, n);
      bytesRead += n;
      if (n === head.length) this.inbox.shift();
      else this.inbox[0] = head.subarray(n);
    }
    pending.resolve({ buffer: pending.buffer, bytesRead });
  }

  private disconnectError(): SimBindingError {
    return new SimBindingError(`ENXIO: no such device or address, read ${this.openOptions.path}`, false, true, 'ENXIO');
  }
}

export class SimSerialRegistry {
  private readonly devices = new Map<string, SimSerialDevice>();
  private readonly unpluggedPaths = new Set<string>();
  private readonly openPorts = new Map<string, SimPort>();

  readonly binding: BindingInterface = {
    list: async (): Promise<PortInfo[]> => {
      await nextTick();
      return [...this.devices.keys()]
        .filter((path) => !this.unpluggedPaths.has(path))
        .map((path) => ({
          path,
          manufacturer: 'lockerd simulator',
          serialNumber: undefined,
          pnpId: undefined,
          locationId: undefined,
          productId: undefined,
          vendorId: undefined,
        }));
    },
    open: (options: OpenOptions): Promise<BindingPortInterface> => this.open(options),
  };

  register(path: string, device: SimSerialDevice): void {
    if (this.devices.has(path)) throw new Error(`a simulated device is already registered at ${path}`);
    this.devices.set(path, device);
  }

  unregister(path: string): void {
    this.unplug(path);
    this.devices.delete(path);
    this.unpluggedPaths.delete(path);
  }

  /** Simulates unplugging: open ports on this path fail their read with an error whose `disconnected` is true, and new opens fail until replug. */
  unplug(path: string): void {
    this.unpluggedPaths.add(path);
    this.openPorts.get(path)?.unplug();
  }

  replug(path: string): void {
    this.unpluggedPaths.delete(path);
  }

  isOpen(path: string): boolean {
    return this.openPorts.get(path)?.isOpen ?? false;
  }

  private async open(options: OpenOptions): Promise<BindingPortInterface> {
    if (!options.path) throw new TypeError('"path" is not a valid port');
    if (!options.baudRate) throw new TypeError('"baudRate" is not a valid baudRate');
    const openOptions: Required<OpenOptions> = {
      path: options.path,
      baudRate: options.baudRate,
      dataBits: options.dataBits ?? openDefaults.dataBits,
      lock: options.lock ?? openDefaults.lock,
      stopBits: options.stopBits ?? openDefaults.stopBits,
      parity: options.parity ?? openDefaults.parity,
      rtscts: options.rtscts ?? openDefaults.rtscts,
      xon: options.xon ?? openDefaults.xon,
      xoff: options.xoff ?? openDefaults.xoff,
      xany: options.xany ?? openDefaults.xany,
      hupcl: options.hupcl ?? openDefaults.hupcl,
    };
    await nextTick();
    const { path } = openOptions;
    const device = this.devices.get(path);
    if (!device || this.unpluggedPaths.has(path)) {
      throw new SimBindingError(`Error: No such file or directory, cannot open ${path}`, false, false, 'ENOENT');
    }
    if (this.openPorts.has(path) && openOptions.lock) {
      throw new SimBindingError(`Error Resource temporarily unavailable Cannot lock port ${path}`, false, false, 'EAGAIN');
    }
    const port = new SimPort(openOptions, device, (p) => {
      if (this.openPorts.get(path) === p) this.openPorts.delete(path);
    });
    if (!device.connect((bytes) => port.deliver(bytes), openOptions.baudRate)) {
      throw new SimBindingError(`Error: No such file or directory, cannot open ${path}`, false, false, 'ENOENT');
    }
    this.openPorts.set(path, port);
    return port;
  }
}
