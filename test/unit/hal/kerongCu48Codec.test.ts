import { describe, expect, it } from 'vitest';
import {
  Cu48FrameParser,
  type Cu48Frame,
  decodeCu48Status,
  encodeCu48Status,
  encodeCu48StatusAll,
  encodeCu48StatusReply,
  encodeCu48Unlock,
  encodeCu48UnlockAll,
  encodeCu48UnlockEverything,
} from '../../../hal/codecs/kerongCu48.js';
import { concatBytes, hexBytes, toHex } from '../../support/hexBytes.js';

// Golden frames from the CU48 document (protocols/lock-boards.md), written out by hand.
const golden = {
  statusBoard0: '02 00 00 50 03 55',
  statusReplyBoard0: '02 00 00 65 07 00 00 00 00 C0 03 31',
  statusAll: '02 0A 00 50 03 5F',
  unlockBoard0Lock1: '02 00 00 51 03 56',
  unlockBoard1Lock6: '02 01 05 51 03 5C',
  unlockAllBoard0: '02 00 30 51 03 86',
  unlockEverything: '02 0A 30 51 03 90',
};

describe('Kerong CU48 encoders match the documented frames', () => {
  it.each([
    ['status, board 0', () => encodeCu48Status(0), golden.statusBoard0],
    ['status, whole bus', () => encodeCu48StatusAll(), golden.statusAll],
    ['unlock lock 1, board 0', () => encodeCu48Unlock(0, 1), golden.unlockBoard0Lock1],
    ['unlock lock 6, board 1', () => encodeCu48Unlock(1, 6), golden.unlockBoard1Lock6],
    ['unlock all 48, board 0', () => encodeCu48UnlockAll(0), golden.unlockAllBoard0],
    ['unlock everything on the bus', () => encodeCu48UnlockEverything(), golden.unlockEverything],
    ['status reply (simulator side)', () => encodeCu48StatusReply(0, hexBytes('07 00 00 00 00 C0')), golden.statusReplyBoard0],
  ])('%s', (_name, encode, hex) => {
    expect(toHex(encode())).toBe(hex);
  });

  it('refuses boards and locks outside the document', () => {
    expect(() => encodeCu48Status(10)).toThrow(RangeError);
    expect(() => encodeCu48Unlock(0, 49)).toThrow(RangeError);
    expect(() => encodeCu48Unlock(0, 0)).toThrow(RangeError);
  });
});

describe('Kerong CU48 parser decodes the documented frames', () => {
  it.each<[string, Cu48Frame]>([
    [golden.statusBoard0, { type: 'status-query', board: 0 }],
    [golden.statusAll, { type: 'status-query', board: 'all' }],
    [golden.unlockBoard0Lock1, { type: 'unlock', board: 0, lock: 1 }],
    [golden.unlockBoard1Lock6, { type: 'unlock', board: 1, lock: 6 }],
    [golden.unlockAllBoard0, { type: 'unlock', board: 0, lock: 'all' }],
    [golden.unlockEverything, { type: 'unlock', board: 'all', lock: 'all' }],
    [golden.statusReplyBoard0, { type: 'status-reply', board: 0, bits: hexBytes('07 00 00 00 00 C0') }],
  ])('%s', (hex, frame) => {
    expect(new Cu48FrameParser().push(hexBytes(hex))).toEqual({ frames: [frame], rejects: [] });
  });

  it('decodes the document reply as hooks 1-3 and 47-48 set', () => {
    const [frame] = new Cu48FrameParser().push(hexBytes(golden.statusReplyBoard0)).frames;
    if (frame?.type !== 'status-reply') throw new Error('expected a status reply');
    const high = decodeCu48Status(frame, { locks: 48, polarity: 'latched-high' });
    expect(high).toHaveLength(48);
    expect(high.filter((r) => r.latched).map((r) => r.lock)).toEqual([1, 2, 3, 47, 48]);
    const low = decodeCu48Status(frame, { locks: 48, polarity: 'latched-low' });
    expect(low.filter((r) => !r.latched).map((r) => r.lock)).toEqual([1, 2, 3, 47, 48]);
    // CU48 reports hooks only.
    expect(high[0]).toEqual({ lock: 1, latched: true });
  });

  it('reports only the configured locks', () => {
    const readings = decodeCu48Status({ bits: hexBytes('07 00 00 00 00 C0') }, { locks: 24, polarity: 'latched-high' });
    expect(readings.map((r) => r.lock)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });
});

describe('Kerong CU48 streaming parser', () => {
  const stream = concatBytes(hexBytes(golden.statusReplyBoard0), hexBytes(golden.unlockBoard1Lock6), hexBytes(golden.statusReplyBoard0));
  const reply = { type: 'status-reply', board: 0, bits: hexBytes('07 00 00 00 00 C0') };
  const expected = [reply, { type: 'unlock', board: 1, lock: 6 }, reply];

  it('copes with the stream split at every byte', () => {
    for (let split = 0; split <= stream.length; split++) {
      const parser = new Cu48FrameParser();
      const a = parser.push(stream.subarray(0, split));
      const b = parser.push(stream.subarray(split));
      expect([...a.frames, ...b.frames], `split at ${split}`).toEqual(expected);
      expect([...a.rejects, ...b.rejects], `split at ${split}`).toEqual([]);
    }
  });

  it('copes with a split at every pair of points', () => {
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const parser = new Cu48FrameParser();
        const frames = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)].flatMap((c) => parser.push(c).frames);
        expect(frames, `splits at ${i},${j}`).toEqual(expected);
      }
    }
  });

  it('drops garbage and a false STX inside noise', () => {
    const parser = new Cu48FrameParser();
    const result = parser.push(concatBytes(hexBytes('02 FF 55 02 00 07'), hexBytes(golden.statusReplyBoard0)));
    expect(result.frames).toEqual([reply]);
    expect(result.rejects.map((r) => r.reason)).toEqual(['malformed']);
    expect(toHex(result.rejects[0]?.bytes ?? new Uint8Array())).toBe('02 FF 55 02 00 07');
  });

  it('rejects a garbled reply (data byte flipped) and keeps going', () => {
    const parser = new Cu48FrameParser();
    const garbled = hexBytes(golden.statusReplyBoard0);
    garbled[6] = 0xff;
    const first = parser.push(garbled);
    expect(first.frames).toEqual([]);
    expect(first.rejects.map((r) => [r.code, r.reason])).toEqual([['FRAME_INVALID', 'checksum']]);
    expect(parser.push(hexBytes(golden.statusReplyBoard0)).frames).toEqual([reply]);
  });

  it('turns a truncated reply into a coded reject on flush', () => {
    const parser = new Cu48FrameParser();
    expect(parser.push(hexBytes('02 00 00 65 07 00')).frames).toEqual([]);
    expect(parser.flush()).toMatchObject({ code: 'FRAME_INVALID', reason: 'truncated', length: 6 });
    expect(parser.push(hexBytes(golden.statusBoard0)).frames).toEqual([{ type: 'status-query', board: 0 }]);
  });

  it('never buffers more than a frame of a long noisy line', () => {
    const parser = new Cu48FrameParser();
    const noise = new Uint8Array(100_000).map((_, i) => (i % 5 === 0 ? 0x02 : (i * 37) & 0x0f));
    const result = parser.push(noise);
    expect(result.frames).toEqual([]);
    expect(parser.buffered).toBeLessThan(12);
    expect(result.rejects.reduce((n, r) => n + r.length, 0) + parser.buffered).toBe(noise.length);
    expect(result.rejects.every((r) => r.bytes.length <= 64)).toBe(true);
  });
});
