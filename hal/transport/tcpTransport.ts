// A ByteTransport over TCP, for a KR-BU Ethernet<->RS-485 bridge: the same frames as on the
// serial line, carried in a socket. Each open() dials a fresh socket; when the bridge goes away
// the transport reports the loss and the bus above reconnects with backoff. TCP keepalive finds
// a bridge that vanished without closing the connection (power cut, cable pulled).
import { Socket } from 'node:net';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type ByteTransport, type ByteTransportEvent, type ByteTransportEvents, TransportListeners } from './byteTransport.js';

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Give up dialling after this long. */
  connectTimeoutMs?: number;
  /** Idle time before TCP keepalive probes start. */
  keepAliveMs?: number;
}

export class TcpTransport implements ByteTransport {
  private readonly listeners = new TransportListeners();
  private socket: Socket | undefined;
  private closingSocket: Socket | undefined;

  constructor(private readonly options: TcpTransportOptions) {}

  get description(): string {
    return `tcp://${this.options.host}:${this.options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  on<E extends ByteTransportEvent>(event: E, listener: ByteTransportEvents[E]): () => void {
    return this.listeners.on(event, listener);
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    const socket = new Socket();
    const context = { host: this.options.host, port: this.options.port };
    // Listening from the start: an 'error' event with no listener would take the process down.
    let lastError: Error | undefined;
    socket.on('error', (e) => {
      lastError = e;
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `cannot connect to ${this.description}: ${e.message}`, context, { cause: e }));
      };
      const timer = setTimeout(() => {
        socket.off('error', fail);
        socket.destroy();
        reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `connecting to ${this.description} timed out`, context));
      }, this.options.connectTimeoutMs ?? 3_000);
      socket.once('error', fail);
      socket.connect({ host: this.options.host, port: this.options.port }, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      });
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, this.options.keepAliveMs ?? 5_000);
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.listeners.emit('data', new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      const requested = this.closingSocket === socket;
      this.closingSocket = undefined;
      if (requested) this.listeners.emit('close', undefined);
      else
        this.listeners.emit(
          'close',
          new LockerError(ErrorCodes.TRANSPORT_ERROR, `connection to ${this.description} lost${lastError ? `: ${lastError.message}` : ''}`, context, { cause: lastError }),
        );
    });
  }

  write(bytes: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `${this.description} is not connected`));
    return new Promise((resolve, reject) => {
      socket.write(bytes, (e) => {
        if (e) reject(new LockerError(ErrorCodes.TRANSPORT_ERROR, `write to ${this.description} failed: ${e.message}`, {}, { cause: e }));
        else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.closingSocket = socket;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }
}
