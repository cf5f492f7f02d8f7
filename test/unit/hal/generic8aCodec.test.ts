import { describe, expect, it } from 'vitest';
import {
  G8aHostParser,
  G8aReplyParser,
  type G8aFrame,
  decode8aStatus,
  encode8aQueryAll,
  encode8aQueryLock,
  encode8aReadAddress,
  encode8aShortReply,
  encode8aStatusReply,
  encode8aUnlock,
  encode8aUnlockAll,
  g8aStatusReplyLength,
} from '../../../hal/codecs/generic8a.js';
import { concatBytes, hexBytes, toHex } from '../../support/hexBytes.js';

// Frames from protocols/lock-boards.md; replies built by hand from the documented layout
// (XOR recomputed on paper).
const golden = {
  unlockBoard1Lock1: '8A 01 01 11 9B',
  unlockReplyOpen: '80 01 01 11 91',
  unlockReplyShut: '80 01 01 00 80',
  unlockReplyOpenHeader8A: '8A 01 01 11 9B',
  queryBoard1Lock1: '80 01 01 33 B3',
  queryAllBoard1: '80 01 00 33 B2',
  unlockAllBoard1: '8A 01 00 11 9A',
  readAddress: '80 01 00 99 18',
  // 32-lock board 1: b4=80 (lock 32), b3=00, b2=01 (lock 9), b1=05 (locks 1, 3).
  queryAllReply32: '80 01 80 00 01 05 33 36',
  // 24-lock board 2: b3=00, b2=01 (lock 9), b1=05 (locks 1, 3).
  queryAllReply24: '80 02 00 01 05 33 B5',
};

describe('8A encoders match the documented frames', () => {
  it.each([
    ['unlock board 1 lock 1', () => encode8aUnlock(1, 1), golden.unlockBoard1Lock1],
    ['query one lock', () => encode8aQueryLock(1, 1), golden.queryBoard1Lock1],
    ['query all', () => encode8aQueryAll(1), golden.queryAllBoard1],
    ['unlock all', () => encode8aUnlockAll(1), golden.unlockAllBoard1],
    ['read address', () => encode8aReadAddress(), golden.readAddress],
    ['unlock reply, opened (simulator side)', () => encode8aShortReply(1, 1, 0x11), golden.unlockReplyOpen],
    ['unlock reply, shut (simulator side)', () => encode8aShortReply(1, 1, 0x00), golden.unlockReplyShut],
    ['query-all reply, 32 locks (simulator side)', () => encode8aStatusReply(1, hexBytes('05 01 00 80')), golden.queryAllReply32],
    ['query-all reply, 24 locks (simulator side)', () => encode8aStatusReply(2, hexBytes('05 01 00')), golden.queryAllReply24],
  ])('%s', (_name, encode, hex) => {
    expect(toHex(encode())).toBe(hex);
  });

  it('refuses board 0 and locks beyond 32', () => {
    expect(() => encode8aUnlock(0, 1)).toThrow(RangeError);
    expect(() => encode8aUnlock(1, 33)).toThrow(RangeError);
  });

  it('knows the reply length from the lock count', () => {
    expect(g8aStatusReplyLength(24)).toBe(7);
    expect(g8aStatusReplyLength(16)).toBe(7);
    expect(g8aStatusReplyLength(32)).toBe(8);
  });
});

describe('8A host parser (what a board hears)', () => {
  it.each<[string, G8aFrame]>([
    [golden.unlockBoard1Lock1, { type: 'unlock', board: 1, lock: 1 }],
    [golden.unlockAllBoard1, { type: 'unlock', board: 1, lock: 'all' }],
    [golden.queryBoard1Lock1, { type: 'query', board: 1, lock: 1 }],
    [golden.queryAllBoard1, { type: 'query', board: 1, lock: 'all' }],
    [golden.readAddress, { type: 'read-address' }],
  ])('%s', (hex, frame) => {
    expect(new G8aHostParser().push(hexBytes(hex))).toEqual({ frames: [frame], rejects: [] });
  });

  it('splits anywhere and drops garbage', () => {
    const stream = concatBytes(hexBytes('00 FF'), hexBytes(golden.unlockBoard1Lock1), hexBytes(golden.queryAllBoard1));
    for (let split = 0; split <= stream.length; split++) {
      const parser = new G8aHostParser();
      const a = parser.push(stream.subarray(0, split));
      const b = parser.push(stream.subarray(split));
      expect([...a.frames, ...b.frames]).toEqual([
        { type: 'unlock', board: 1, lock: 1 },
        { type: 'query', board: 1, lock: 'all' },
      ]);
      const rejects = [...a.rejects, ...b.rejects];
      expect(rejects.every((r) => r.reason === 'garbage')).toBe(true);
      expect(toHex(concatBytes(...rejects.map((r) => r.bytes)))).toBe('00 FF');
    }
  });
});

describe('8A reply parser (what the bus hears)', () => {
  it.each<[string, number, G8aFrame]>([
    [golden.unlockReplyOpen, 5, { type: 'short-reply', header: 0x80, board: 1, lock: 1, state: 0x11 }],
    [golden.unlockReplyShut, 5, { type: 'short-reply', header: 0x80, board: 1, lock: 1, state: 0x00 }],
    [golden.unlockReplyOpenHeader8A, 5, { type: 'short-reply', header: 0x8a, board: 1, lock: 1, state: 0x11 }],
    [golden.queryAllReply32, 8, { type: 'status-reply', header: 0x80, board: 1, bits: hexBytes('05 01 00 80') }],
    [golden.queryAllReply24, 7, { type: 'status-reply', header: 0x80, board: 2, bits: hexBytes('05 01 00') }],
  ])('%s (expecting %i bytes)', (hex, length, frame) => {
    const parser = new G8aReplyParser();
    parser.expect(length);
    expect(parser.push(hexBytes(hex))).toEqual({ frames: [frame], rejects: [] });
  });

  it('splits a status reply at every byte', () => {
    const stream = hexBytes(golden.queryAllReply32);
    for (let split = 0; split <= stream.length; split++) {
      const parser = new G8aReplyParser();
      parser.expect(8);
      const frames = [...parser.push(stream.subarray(0, split)).frames, ...parser.push(stream.subarray(split)).frames];
      expect(frames, `split at ${split}`).toEqual([{ type: 'status-reply', header: 0x80, board: 1, bits: hexBytes('05 01 00 80') }]);
    }
  });

  it('without a hint, recognises complete long replies first', () => {
    const parser = new G8aReplyParser();
    const result = parser.push(concatBytes(hexBytes(golden.queryAllReply32), hexBytes(golden.queryAllReply24)));
    expect(result.frames.map((f) => f.type)).toEqual(['status-reply', 'status-reply']);
    expect(result.rejects).toEqual([]);
  });

  it('rejects a garbled reply and recovers on the next one', () => {
    const parser = new G8aReplyParser();
    parser.expect(8);
    const result = parser.push(concatBytes(hexBytes('80 01 80 00 01 05 33 37'), hexBytes(golden.queryAllReply32)));
    expect(result.frames).toHaveLength(1);
    expect(result.rejects.map((r) => [r.code, r.reason])).toEqual([['FRAME_INVALID', 'checksum']]);
  });

  it('flushes a truncated reply as a coded reject', () => {
    const parser = new G8aReplyParser();
    parser.expect(8);
    expect(parser.push(hexBytes('80 01 80 00')).frames).toEqual([]);
    expect(parser.flush()).toMatchObject({ code: 'FRAME_INVALID', reason: 'truncated', length: 4 });
  });
});

describe('8A status decoding', () => {
  it('maps bits to locks with the board polarity', () => {
    const bits = hexBytes('05 01 00 80');
    const low = decode8aStatus({ bits }, { locks: 32, polarity: 'latched-low' });
    expect(low.filter((r) => !r.latched).map((r) => r.lock)).toEqual([1, 3, 9, 32]);
    const high = decode8aStatus({ bits }, { locks: 24, polarity: 'latched-high' });
    expect(high).toHaveLength(24);
    expect(high.filter((r) => r.latched).map((r) => r.lock)).toEqual([1, 3, 9]);
  });
});
