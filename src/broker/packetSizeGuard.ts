// A byte-stream guard in front of the embedded broker: it reads the MQTT fixed header of every
// packet (type byte + remaining length, a varint of up to 4 bytes) as the bytes arrive and
// closes the connection the moment a packet announces more than the limit, before the MQTT
// parser could buffer it. The rest of the bytes pass through untouched.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** Scans the packet framing; feed() returns false as soon as one packet is too large or malformed. */
export class PacketFraming {
  private phase: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private shift = 0;
  private lengthBytes = 0;
  private bodyLeft = 0;

  constructor(private readonly maxPacketBytes: number) {}

  feed(chunk: Uint8Array): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'type') {
        i++;
        this.phase = 'length';
        this.length = 0;
        this.shift = 0;
        this.lengthBytes = 0;
        continue;
      }
      if (this.phase === 'length') {
        const b = chunk[i++] ?? 0;
        this.length += (b & 0x7f) * 2 ** this.shift;
        this.shift += 7;
        this.lengthBytes++;
        if (this.length > this.maxPacketBytes) return false;
        if (b & 0x80) {
          // The MQTT varint has at most 4 bytes.
          if (this.lengthBytes >= 4) return false;
          continue;
        }
        this.bodyLeft = this.length;
        this.phase = this.bodyLeft === 0 ? 'type' : 'body';
        continue;
      }
      const take = Math.min(this.bodyLeft, chunk.length - i);
      i += take;
      this.bodyLeft -= take;
      if (this.bodyLeft === 0) this.phase = 'type';
    }
    return true;
  }
}

/**
 * The socket as aedes sees it: reads pass through a PacketFraming check, writes go straight to
 * the socket. onRefused is told once when a connection is cut for an oversized packet.
 */
export function guardPacketSize(socket: Socket, maxPacketBytes: number, onRefused: () => void): Duplex {
  const framing = new PacketFraming(maxPacketBytes);
  const guarded = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (socket.destroyed) return cb();
      socket.write(chunk, (err) => cb(err ?? null));
    },
    final(cb) {
      socket.end(() => cb());
    },
    destroy(err, cb) {
      socket.destroy();
      cb(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    if (!framing.feed(chunk)) {
      onRefused();
      socket.destroy();
      guarded.destroy();
      return;
    }
    if (!guarded.push(chunk)) socket.pause();
  });
  socket.on('end', () => guarded.push(null));
  socket.on('error', () => guarded.destroy());
  socket.on('close', () => guarded.destroy());
  return guarded;
}
