// Puts simulated boards behind a pseudo-terminal: one end of a socat pty pair is opened with
// the real serial bindings and every byte is piped between it and a SimSerialDevice (usually
// a SimBus). Whatever opens the other end, lockerd itself in a whole-process test, sees
// boards on a real tty.
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { type ByteTransport } from '../../hal/transport/byteTransport.js';
import { SerialTransport, loadNativeSerialBinding } from '../../hal/transport/serialTransport.js';
import { type Logger } from '../../kernel/log.js';
import { type SimSerialDevice } from './simBinding.js';

export interface PtyBoardBridgeOptions {
  /** The pty end the boards sit on (e.g. socat's second link). */
  path: string;
  device: SimSerialDevice;
  baudRate: number;
  /** Defaults to the native bindings, loaded on start(). */
  binding?: BindingInterface;
  logger?: Logger;
}

export class PtyBoardBridge {
  private transport: ByteTransport | undefined;

  constructor(private readonly options: PtyBoardBridgeOptions) {}

  async start(): Promise<void> {
    if (this.transport) return;
    const { path, baudRate, device, logger } = this.options;
    const binding = this.options.binding ?? (await loadNativeSerialBinding());
    const transport = new SerialTransport({ path, baudRate, binding });
    transport.on('data', (bytes) => device.receive(bytes));
    transport.on('error', (e) => logger?.warn(e.message));
    transport.on('close', (e) => {
      if (e) logger?.warn(`pty ${path} lost: ${e.message}`);
      device.disconnect();
    });
    await transport.open();
    const accepted = device.connect((bytes) => {
      transport.write(bytes).catch((e: unknown) => logger?.warn(`writing to ${path} failed: ${String(e)}`));
    }, baudRate);
    if (!accepted) {
      await transport.close();
      throw new Error(`the simulated device refused ${path}`);
    }
    this.transport = transport;
  }

  async stop(): Promise<void> {
    const transport = this.transport;
    this.transport = undefined;
    await transport?.close();
  }
}
