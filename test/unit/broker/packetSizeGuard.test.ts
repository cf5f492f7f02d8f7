import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketFraming } from '../../../src/broker/packetSizeGuard.js';

/** An MQTT packet: a type byte, the remaining length as a varint, then that many bytes. */
function packet(bodyBytes: number): Uint8Array {
  const len: number[] = [];
  let n = bodyBytes;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Uint8Array.from([0x30, ...len, ...new Array<number>(bodyBytes).fill(0x61)]);
}

function feedIn(framing: PacketFraming, bytes: Uint8Array, cuts: number[]): boolean {
  let at = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (!framing.feed(bytes.subarray(at, c))) return false;
    at = c;
  }
  return true;
}

describe('PacketFraming', () => {
  it('passes packets up to the limit and stops at the first larger one, however the bytes are cut', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(3000), { maxLength: 10 }), (sizes, cuts) => {
        const stream = Buffer.concat(sizes.map((s) => packet(s)));
        const ok = feedIn(new PacketFraming(200), stream, cuts);
        expect(ok).toBe(sizes.every((s) => s <= 200));
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('refuses a remaining length with a fifth varint byte', () => {
    expect(new PacketFraming(1 << 30).feed(Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))).toBe(false);
  });
});
