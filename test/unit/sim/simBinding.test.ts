import { SerialPortStream } from '@serialport/stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type SimSerialDevice, SimSerialRegistry } from '../../../sim/serial/simBinding.js';
import { hexBytes, toHex } from '../../support/hexBytes.js';
import { waitUntil } from '../../support/simulatedBus.js';

/** A device that answers every chunk with its bytes reversed. */
class EchoReversed implements SimSerialDevice {
  send: ((b: Uint8Array) => void) | undefined;
  baud = 0;
  heard: string[] = [];
  disconnects = 0;
  connect(send: (b: Uint8Array) => void, baudRate: number): boolean {
    this.send = send;
    this.baud = baudRate;
    return true;
  }
  disconnect(): void {
    this.send = undefined;
    this.disconnects += 1;
  }
  receive(bytes: Uint8Array): void {
    this.heard.push(toHex(bytes));
    this.send?.(Uint8Array.from(bytes).reverse());
  }
  baudRateChanged(baudRate: number): void {
    this.baud = baudRate;
  }
}

function openPort(registry: SimSerialRegistry, path: string, baudRate = 19200): Promise<SerialPortStream> {
  const port = new SerialPortStream({ binding: registry.binding, path, baudRate, autoOpen: false });
  return new Promise((resolve, reject) => port.open((e) => (e ? reject(e) : resolve(port))));
}

const open: SerialPortStream[] = [];
afterEach(async () => {
  for (const p of open.splice(0)) if (p.isOpen) await new Promise((r) => p.close(() => r(undefined)));
});

describe('simulated serial binding under the real SerialPortStream', () => {
  it('carries bytes both ways and passes the baud rate', async () => {
    const registry = new SimSerialRegistry();
    const device = new EchoReversed();
    registry.register('/dev/ttySIM0', device);
    const port = await openPort(registry, '/dev/ttySIM0', 9600);
    open.push(port);
    const received: number[] = [];
    port.on('data', (chunk: Buffer) => received.push(...chunk));
    port.write(Buffer.from(hexBytes('01 02 03')));
    await waitUntil(() => received.length === 3);
    expect(toHex(Uint8Array.from(received))).toBe('03 02 01');
    expect(device.heard).toEqual(['01 02 03']);
    expect(device.baud).toBe(9600);
    await new Promise((r) => port.update({ baudRate: 19200 }, r));
    expect(device.baud).toBe(19200);
    expect(await registry.binding.list()).toMatchObject([{ path: '/dev/ttySIM0' }]);
  });

  it('fails to open a path with no device, like a missing tty', async () => {
    const registry = new SimSerialRegistry();
    await expect(openPort(registry, '/dev/ttyNOPE')).rejects.toThrow(/No such file or directory/);
  });

  it('refuses a second open of a locked port', async () => {
    const registry = new SimSerialRegistry();
    registry.register('/dev/ttySIM0', new EchoReversed());
    open.push(await openPort(registry, '/dev/ttySIM0'));
    await expect(openPort(registry, '/dev/ttySIM0')).rejects.toThrow(/Cannot lock port/);
  });

  it('unplug closes the open port with a disconnected error; replug allows a new open', async () => {
    const registry = new SimSerialRegistry();
    const device = new EchoReversed();
    registry.register('/dev/ttySIM0', device);
    const port = await openPort(registry, '/dev/ttySIM0');
    port.on('data', () => undefined);
    const closed = new Promise<(Error & { disconnected?: boolean }) | null>((resolve) => port.on('close', resolve));
    registry.unplug('/dev/ttySIM0');
    const error = await closed;
    expect(error?.disconnected).toBe(true);
    expect(port.isOpen).toBe(false);
    expect(device.disconnects).toBe(1);
    await expect(openPort(registry, '/dev/ttySIM0')).rejects.toThrow(/No such file/);
    expect(await registry.binding.list()).toEqual([]);
    registry.replug('/dev/ttySIM0');
    const again = await openPort(registry, '/dev/ttySIM0');
    open.push(again);
    expect(again.isOpen).toBe(true);
  });

  it('a device may refuse the connection', async () => {
    const registry = new SimSerialRegistry();
    registry.register('/dev/ttySIM0', { connect: () => false, disconnect: () => undefined, receive: () => undefined });
    await expect(openPort(registry, '/dev/ttySIM0')).rejects.toThrow(/No such file/);
  });

  it('a closed port cancels its pending read and frees the path', async () => {
    const registry = new SimSerialRegistry();
    const device = new EchoReversed();
    registry.register('/dev/ttySIM0', device);
    const port = await openPort(registry, '/dev/ttySIM0');
    port.on('data', () => undefined);
    const closeError = await new Promise((resolve) => port.close((e) => resolve(e)));
    expect(closeError).toBeNull();
    expect(registry.isOpen('/dev/ttySIM0')).toBe(false);
    expect(device.disconnects).toBe(1);
    open.push(await openPort(registry, '/dev/ttySIM0'));
  });
});
