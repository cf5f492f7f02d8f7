import { describe, expect, it } from 'vitest';
import {
  Cu16FrameParser,
  type Cu16Frame,
  decodeCu16Status,
  encodeCu16EnergiseTimeQuery,
  encodeCu16Status,
  encodeCu16StatusAll,
  encodeCu16StatusReply,
  encodeCu16Unlock,
  encodeCu16UnlockAll,
} from '../../../hal/codecs/kerongCu16.js';
import { concatBytes, hexBytes, toHex } from '../../support/hexBytes.js';

// Golden frames from protocols/lock-boards.md, written out by hand.
const golden = {
  statusBoard0: '02 00 30 03 35',
  unlockBoard0Lock1: '02 00 31 03 36',
  unlockBoard0Lock5: '02 04 31 03 3A',
  unlockBoard1Lock1: '02 10 31 03 46',
  statusAll: '02 F0 32 03 27',
  unlockAllBoard0: '02 00 33 03 38',
  energiseTimeQueryBoard0: '02 00 37 03 3C',
  idleReplyBoard0: '02 00 35 00 00 00 00 03 3A',
};

describe('Kerong CU16 encoders match the documented frames', () => {
  it.each([
    ['status, board 0', () => encodeCu16Status(0), golden.statusBoard0],
    ['unlock board 0 lock 1', () => encodeCu16Unlock(0, 1), golden.unlockBoard0Lock1],
    ['unlock board 0 lock 5', () => encodeCu16Unlock(0, 5), golden.unlockBoard0Lock5],
    ['unlock board 1 lock 1', () => encodeCu16Unlock(1, 1), golden.unlockBoard1Lock1],
    ['status of every board', () => encodeCu16StatusAll(), golden.statusAll],
    ['unlock all of board 0', () => encodeCu16UnlockAll(0), golden.unlockAllBoard0],
    ['energise time query', () => encodeCu16EnergiseTimeQuery(0), golden.energiseTimeQueryBoard0],
    ['idle status reply (simulator side)', () => encodeCu16StatusReply(0, 0, 0), golden.idleReplyBoard0],
  ])('%s', (_name, encode, hex) => {
    expect(toHex(encode())).toBe(hex);
  });

  it('refuses addresses and locks the frame cannot carry', () => {
    expect(() => encodeCu16Unlock(0, 0)).toThrow(RangeError);
    expect(() => encodeCu16Unlock(0, 17)).toThrow(RangeError);
    expect(() => encodeCu16Status(16)).toThrow(RangeError);
  });
});

describe('Kerong CU16 parser decodes the documented frames', () => {
  it.each<[string, Cu16Frame]>([
    [golden.statusBoard0, { type: 'status-query', board: 0 }],
    [golden.unlockBoard0Lock1, { type: 'unlock', board: 0, lock: 1 }],
    [golden.unlockBoard0Lock5, { type: 'unlock', board: 0, lock: 5 }],
    [golden.unlockBoard1Lock1, { type: 'unlock', board: 1, lock: 1 }],
    [golden.statusAll, { type: 'status-all' }],
    [golden.unlockAllBoard0, { type: 'unlock-all', board: 0 }],
    [golden.energiseTimeQueryBoard0, { type: 'energise-time-query', board: 0 }],
    [golden.idleReplyBoard0, { type: 'status-reply', board: 0, hooks: 0, items: 0 }],
  ])('%s', (hex, frame) => {
    const result = new Cu16FrameParser().push(hexBytes(hex));
    expect(result).toEqual({ frames: [frame], rejects: [] });
  });

  it('reads hook and item bits of a busy board 3', () => {
    // Board 3: locks 1 and 9 report a set hook bit, compartment 16 has an item (sum checked by hand).
    const result = new Cu16FrameParser().push(hexBytes('02 30 35 01 01 00 80 03 EC'));
    expect(result.rejects).toEqual([]);
    expect(result.frames).toEqual([{ type: 'status-reply', board: 3, hooks: 0x0101, items: 0x8000 }]);
  });
});

describe('Kerong CU16 status decoding', () => {
  it('applies latched-low polarity: the idle board reads all latched', () => {
    const readings = decodeCu16Status({ hooks: 0, items: 0 }, { locks: 16, polarity: 'latched-low', itemSensors: false });
    expect(readings).toHaveLength(16);
    expect(readings.every((r) => r.latched)).toBe(true);
    expect(readings[0]).toEqual({ lock: 1, latched: true });
  });

  it('applies latched-high polarity: a set bit is a latched hook', () => {
    const readings = decodeCu16Status({ hooks: 0x0101, items: 0 }, { locks: 12, polarity: 'latched-high', itemSensors: false });
    expect(readings).toHaveLength(12);
    expect(readings.filter((r) => r.latched).map((r) => r.lock)).toEqual([1, 9]);
  });

  it('reports item sensors only where the board has them', () => {
    const withItems = decodeCu16Status({ hooks: 0, items: 0x8001 }, { locks: 16, polarity: 'latched-low', itemSensors: true });
    expect(withItems[0]).toEqual({ lock: 1, latched: true, itemPresent: true });
    expect(withItems[1]).toEqual({ lock: 2, latched: true, itemPresent: false });
    expect(withItems[15]?.itemPresent).toBe(true);
    const without = decodeCu16Status({ hooks: 0, items: 0x8001 }, { locks: 16, polarity: 'latched-low', itemSensors: false });
    expect(without[0]).not.toHaveProperty('itemPresent');
  });
});

describe('Kerong CU16 streaming parser', () => {
  const stream = concatBytes(hexBytes(golden.idleReplyBoard0), hexBytes(golden.unlockBoard0Lock5), hexBytes('02 30 35 01 01 00 80 03 EC'));
  const expected = [
    { type: 'status-reply', board: 0, hooks: 0, items: 0 },
    { type: 'unlock', board: 0, lock: 5 },
    { type: 'status-reply', board: 3, hooks: 0x0101, items: 0x8000 },
  ];

  it('copes with the stream split at every byte', () => {
    for (let split = 0; split <= stream.length; split++) {
      const parser = new Cu16FrameParser();
      const a = parser.push(stream.subarray(0, split));
      const b = parser.push(stream.subarray(split));
      expect([...a.frames, ...b.frames], `split at ${split}`).toEqual(expected);
      expect([...a.rejects, ...b.rejects], `split at ${split}`).toEqual([]);
      expect(parser.buffered).toBe(0);
    }
  });

  it('copes with one byte at a time', () => {
    const parser = new Cu16FrameParser();
    const frames = Array.from(stream).flatMap((b) => parser.push(Uint8Array.of(b)).frames);
    expect(frames).toEqual(expected);
  });

  it('drops garbage around frames and reports it', () => {
    const parser = new Cu16FrameParser();
    const result = parser.push(concatBytes(hexBytes('FF 13 37'), hexBytes(golden.idleReplyBoard0), hexBytes('00 AA')));
    expect(result.frames).toEqual([{ type: 'status-reply', board: 0, hooks: 0, items: 0 }]);
    expect(result.rejects.map((r) => [r.code, r.reason, toHex(r.bytes)])).toEqual([
      ['FRAME_INVALID', 'garbage', 'FF 13 37'],
      ['FRAME_INVALID', 'garbage', '00 AA'],
    ]);
  });

  it('rejects a bad checksum and still finds the next frame', () => {
    const parser = new Cu16FrameParser();
    const result = parser.push(hexBytes('02 00 35 00 00 00 00 03 3B 02 00 35 00 00 00 00 03 3A'));
    expect(result.frames).toEqual([{ type: 'status-reply', board: 0, hooks: 0, items: 0 }]);
    expect(result.rejects).toHaveLength(1);
    expect(result.rejects[0]?.reason).toBe('checksum');
    expect(toHex(result.rejects[0]?.bytes ?? new Uint8Array())).toBe('02 00 35 00 00 00 00 03 3B');
  });

  it('drops a truncated reply that is followed by a complete one', () => {
    const parser = new Cu16FrameParser();
    const result = parser.push(hexBytes('02 00 35 00 00 02 00 35 00 00 00 00 03 3A'));
    expect(result.frames).toEqual([{ type: 'status-reply', board: 0, hooks: 0, items: 0 }]);
    expect(result.rejects.map((r) => [r.reason, toHex(r.bytes)])).toEqual([['malformed', '02 00 35 00 00']]);
  });

  it('hands back a partial frame as truncated on flush', () => {
    const parser = new Cu16FrameParser();
    expect(parser.push(hexBytes('02 00 35 00')).frames).toEqual([]);
    expect(parser.buffered).toBe(4);
    const r = parser.flush();
    expect(r?.reason).toBe('truncated');
    expect(toHex(r?.bytes ?? new Uint8Array())).toBe('02 00 35 00');
    expect(parser.buffered).toBe(0);
    expect(parser.flush()).toBeUndefined();
  });

  it('rejects an unknown command byte at once', () => {
    const result = new Cu16FrameParser().push(hexBytes('02 00 99'));
    expect(result.frames).toEqual([]);
    expect(result.rejects.map((r) => r.reason)).toEqual(['malformed']);
  });

  it('never holds more than one frame of bytes, whatever the line sends', () => {
    const parser = new Cu16FrameParser();
    let seed = 7;
    for (let round = 0; round < 200; round++) {
      const noise = new Uint8Array(97);
      for (let i = 0; i < noise.length; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        // Many STX bytes, so the parser keeps starting candidates.
        noise[i] = seed % 3 === 0 ? 0x02 : seed & 0xff;
      }
      parser.push(noise);
      expect(parser.buffered).toBeLessThan(9);
    }
    // And it still understands a frame afterwards.
    parser.flush();
    expect(parser.push(hexBytes(golden.statusBoard0)).frames).toEqual([{ type: 'status-query', board: 0 }]);
  });
});
