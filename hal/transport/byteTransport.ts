// The byte pipe under a lock bus: a serial port, a TCP socket to a KR-BU bridge, or a simulated
// port all look the same to the bus. A transport only moves bytes and reports its own loss;
// framing, timeouts and reopening with backoff belong to the bus above it.
import { type LockerError } from '../../kernel/errors.js';

export interface ByteTransportEvents {
  data: (bytes: Uint8Array) => void;
  /** The transport closed: `error` is set when it was lost (unplugged, peer gone), undefined when closed on request. */
  close: (error: LockerError | undefined) => void;
  /** A fault that left the transport open (worth a log line, nothing more). */
  error: (error: LockerError) => void;
}

export type ByteTransportEvent = keyof ByteTransportEvents;

export interface ByteTransport {
  /** Where the bytes go, for logs ("/dev/ttyUSB0@19200", "tcp://10.0.0.5:4001"). */
  readonly description: string;
  readonly isOpen: boolean;
  /** Opens (or reopens after a loss); rejects with TRANSPORT_ERROR. */
  open(): Promise<void>;
  /** Resolves once the bytes were handed to the OS; rejects with TRANSPORT_ERROR. */
  write(bytes: Uint8Array): Promise<void>;
  /** Closes on request; emits `close` with no error. Never rejects. */
  close(): Promise<void>;
  /** Changes the line speed of an open port (serial only; used to probe a board's baud rate). */
  setBaudRate?(baudRate: number): Promise<void>;
  on<E extends ByteTransportEvent>(event: E, listener: ByteTransportEvents[E]): () => void;
}

type ListenerSets = { [E in ByteTransportEvent]: Set<ByteTransportEvents[E]> };

/** The listener bookkeeping every transport shares. */
export class TransportListeners {
  private readonly sets: ListenerSets = { data: new Set(), close: new Set(), error: new Set() };

  on<E extends ByteTransportEvent>(event: E, listener: ByteTransportEvents[E]): () => void {
    const set: Set<ByteTransportEvents[E]> = this.sets[event];
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  emit<E extends ByteTransportEvent>(event: E, ...args: Parameters<ByteTransportEvents[E]>): void {
    const set: Set<ByteTransportEvents[E]> = this.sets[event];
    for (const listener of [...set]) (listener as (...a: Parameters<ByteTransportEvents[E]>) => void)(...args);
  }
}
