// Fuzzes the lock-board codecs (hal/codecs): Kerong CU16, CU48 and the generic 8A boards, both
// directions, through the shared streaming frame parser and through the bus adapters.
// Properties, for arbitrary byte streams in arbitrary chunks (noise, valid frames, corrupted
// and cut frames mixed):
// - nothing throws; every reject is a coded FRAME_INVALID with a known reason;
// - the parser never holds a whole frame's worth of bytes;
// - every byte pushed is accounted for exactly once: in a frame, in a reject, or still held;
// - every frame emitted round-trips: its wire form (built from the documented layout, and
//   equal to the public encoder's output wherever one exists) parses back to the same frame;
// - a stream of valid frames, chunked anyhow, decodes to exactly those frames.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FrameReject, sum8, xor8 } from '../../hal/codecs/frameParser.js';
import {
  G8aHostParser,
  G8aReplyParser,
  encode8aQueryAll,
  encode8aQueryLock,
  encode8aReadAddress,
  encode8aShortReply,
  encode8aStatusReply,
  encode8aUnlock,
  encode8aUnlockAll,
  type G8aFrame,
} from '../../hal/codecs/generic8a.js';
import {
  Cu16FrameParser,
  encodeCu16EnergiseTimeQuery,
  encodeCu16Status,
  encodeCu16StatusAll,
  encodeCu16StatusReply,
  encodeCu16Unlock,
  encodeCu16UnlockAll,
  type Cu16Frame,
} from '../../hal/codecs/kerongCu16.js';
import {
  Cu48FrameParser,
  encodeCu48Status,
  encodeCu48StatusAll,
  encodeCu48StatusReply,
  encodeCu48Unlock,
  encodeCu48UnlockAll,
  encodeCu48UnlockEverything,
  type Cu48Frame,
} from '../../hal/codecs/kerongCu48.js';
import { createLockBoardProtocol } from '../../hal/buses/protocols.js';
import { type SerialBusConfig } from '../../src/config/schema.js';
import { ErrorCodes } from '../../kernel/errors.js';
import { describeViolations, runFuzz, timeoutOf, type Violation } from './support/fuzzRun.js';

// ---------------------------------------------------------------- wire forms (the documented layouts)

const u8 = (...b: number[]): Uint8Array => Uint8Array.from(b);
const withSum = (...b: number[]): Uint8Array => u8(...b, sum8(u8(...b)));
const withXor = (...b: number[]): Uint8Array => u8(...b, xor8(u8(...b)));

/** `STX ADDR CMD ETX SUM`, `STX ADDR 35 D1 D2 D3 D4 ETX SUM`. */
function cu16Wire(f: Cu16Frame): Uint8Array {
  switch (f.type) {
    case 'status-query':
      return withSum(0x02, f.board << 4, 0x30, 0x03);
    case 'unlock':
      return withSum(0x02, (f.board << 4) | (f.lock - 1), 0x31, 0x03);
    case 'status-all':
      return withSum(0x02, 0xf0, 0x32, 0x03);
    case 'unlock-all':
      return withSum(0x02, f.board << 4, 0x33, 0x03);
    case 'energise-time-query':
      return withSum(0x02, f.board << 4, 0x37, 0x03);
    case 'status-reply':
      return withSum(0x02, f.board << 4, 0x35, f.hooks & 0xff, f.hooks >> 8, f.items & 0xff, f.items >> 8, 0x03);
  }
}

function cu16Encoded(f: Cu16Frame): Uint8Array | undefined {
  switch (f.type) {
    case 'status-query':
      return encodeCu16Status(f.board);
    case 'unlock':
      return encodeCu16Unlock(f.board, f.lock);
    case 'status-all':
      return encodeCu16StatusAll();
    case 'unlock-all':
      return encodeCu16UnlockAll(f.board);
    case 'energise-time-query':
      return encodeCu16EnergiseTimeQuery(f.board);
    case 'status-reply':
      return encodeCu16StatusReply(f.board, f.hooks, f.items);
  }
}

/** `02 ADDR LOCK CMD 03 SUM`, `02 ADDR 00 65 D1..D6 03 SUM`; ADDR 0x0A every board, LOCK 0x30 every lock. */
function cu48Wire(f: Cu48Frame): Uint8Array {
  const addr = (t: number | 'all'): number => (t === 'all' ? 0x0a : t);
  switch (f.type) {
    case 'status-query':
      return withSum(0x02, addr(f.board), 0x00, 0x50, 0x03);
    case 'unlock':
      return withSum(0x02, addr(f.board), f.lock === 'all' ? 0x30 : f.lock - 1, 0x51, 0x03);
    case 'status-reply':
      return withSum(0x02, f.board, 0x00, 0x65, ...f.bits, 0x03);
  }
}

function cu48Encoded(f: Cu48Frame): Uint8Array | undefined {
  switch (f.type) {
    case 'status-query':
      return f.board === 'all' ? encodeCu48StatusAll() : encodeCu48Status(f.board);
    case 'unlock':
      if (f.board === 'all') return f.lock === 'all' ? encodeCu48UnlockEverything() : undefined;
      return f.lock === 'all' ? encodeCu48UnlockAll(f.board) : encodeCu48Unlock(f.board, f.lock);
    case 'status-reply':
      return encodeCu48StatusReply(f.board, f.bits);
  }
}

/** `HDR BOARD LOCK CMD XOR`; replies `HDR BOARD LOCK STATE XOR` and `HDR BOARD bN..b1 33 XOR`. */
function g8aWire(f: G8aFrame): Uint8Array {
  const lock = (l: number | 'all'): number => (l === 'all' ? 0 : l);
  switch (f.type) {
    case 'unlock':
      return withXor(0x8a, f.board, lock(f.lock), 0x11);
    case 'query':
      return withXor(0x80, f.board, lock(f.lock), 0x33);
    case 'read-address':
      return withXor(0x80, 0x01, 0x00, 0x99);
    case 'short-reply':
      return withXor(f.header, f.board, f.lock, f.state);
    case 'status-reply':
      return withXor(f.header, f.board, ...[...f.bits].reverse(), 0x33);
  }
}

function g8aEncoded(f: G8aFrame): Uint8Array | undefined {
  const inRange = (board: number, lock: number | 'all'): boolean => board >= 1 && (lock === 'all' || (lock >= 1 && lock <= 32));
  switch (f.type) {
    case 'unlock':
      if (!inRange(f.board, f.lock)) return undefined;
      return f.lock === 'all' ? encode8aUnlockAll(f.board) : encode8aUnlock(f.board, f.lock);
    case 'query':
      if (!inRange(f.board, f.lock)) return undefined;
      return f.lock === 'all' ? encode8aQueryAll(f.board) : encode8aQueryLock(f.board, f.lock);
    case 'read-address':
      return encode8aReadAddress();
    case 'short-reply':
      return encode8aShortReply(f.board, f.lock, f.state, f.header);
    case 'status-reply':
      return encode8aStatusReply(f.board, f.bits, f.header);
  }
}

// ---------------------------------------------------------------- the codecs under test

interface Parser<F> {
  push(chunk: Uint8Array): { frames: F[]; rejects: FrameReject[] };
  flush(): FrameReject | undefined;
  readonly buffered: number;
}

interface Codec<F> {
  name: string;
  maxFrameLength: number;
  parser: () => Parser<F>;
  wire: (f: F) => Uint8Array;
  encoded: (f: F) => Uint8Array | undefined;
  /** Valid frames as bytes, for streams that contain some. */
  validFrame: fc.Arbitrary<Uint8Array>;
}

const bits = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });

const cu16: Codec<Cu16Frame> = {
  name: 'Kerong CU16',
  maxFrameLength: 9,
  parser: () => new Cu16FrameParser(),
  wire: cu16Wire,
  encoded: cu16Encoded,
  validFrame: fc.oneof(
    fc.integer({ min: 0, max: 15 }).map(encodeCu16Status),
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 16 })).map(([b, l]) => encodeCu16Unlock(b, l)),
    fc.constant(encodeCu16StatusAll()),
    fc.integer({ min: 0, max: 15 }).map(encodeCu16UnlockAll),
    fc.integer({ min: 0, max: 15 }).map(encodeCu16EnergiseTimeQuery),
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff })).map(([b, h, i]) => encodeCu16StatusReply(b, h, i)),
  ),
};

const cu48: Codec<Cu48Frame> = {
  name: 'Kerong CU48',
  maxFrameLength: 12,
  parser: () => new Cu48FrameParser(),
  wire: cu48Wire,
  encoded: cu48Encoded,
  validFrame: fc.oneof(
    fc.integer({ min: 0, max: 9 }).map(encodeCu48Status),
    fc.constant(encodeCu48StatusAll()),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 48 })).map(([b, l]) => encodeCu48Unlock(b, l)),
    fc.integer({ min: 0, max: 9 }).map(encodeCu48UnlockAll),
    fc.tuple(fc.integer({ min: 0, max: 9 }), bits(6)).map(([b, d]) => encodeCu48StatusReply(b, d)),
  ),
};

const g8aHost: Codec<G8aFrame> = {
  name: 'generic 8A (host frames)',
  maxFrameLength: 5,
  parser: () => new G8aHostParser(),
  wire: g8aWire,
  encoded: g8aEncoded,
  validFrame: fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 32 })).map(([b, l]) => encode8aUnlock(b, l)),
    fc.integer({ min: 1, max: 255 }).map(encode8aUnlockAll),
    fc.tuple(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 32 })).map(([b, l]) => encode8aQueryLock(b, l)),
    fc.integer({ min: 1, max: 255 }).map(encode8aQueryAll),
    fc.constant(encode8aReadAddress()),
  ),
};

const g8aHeader = fc.constantFrom(0x80, 0x8a);
const g8aShort = fc.tuple(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 32 }), fc.constantFrom(0x00, 0x11), g8aHeader).map(([b, l, s, h]) => encode8aShortReply(b, l, s, h));
const g8aStatus = (n: 3 | 4): fc.Arbitrary<Uint8Array> => fc.tuple(fc.integer({ min: 1, max: 255 }), bits(n), g8aHeader).map(([b, d, h]) => encode8aStatusReply(b, d, h));

/** The reply parser with each hint the bus gives (none, a short reply, a 24- or 32-lock status). */
const g8aReplies: Codec<G8aFrame>[] = ([undefined, 5, 7, 8] as const).map((hint) => ({
  name: `generic 8A (replies, expecting ${hint ?? 'any'})`,
  maxFrameLength: 8,
  parser: () => {
    const p = new G8aReplyParser();
    p.expect(hint);
    return p;
  },
  wire: g8aWire,
  encoded: g8aEncoded,
  validFrame: hint === 5 ? g8aShort : hint === 7 ? g8aStatus(3) : hint === 8 ? g8aStatus(4) : fc.oneof(g8aShort, g8aStatus(3), g8aStatus(4)),
}));

// ---------------------------------------------------------------- streams

/** Noise, valid frames, frames with a flipped byte, cut frames; then cut into chunks anyhow. */
function streamOf(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array[]> {
  const segment = fc.oneof(
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(0x02, 0x03, 0x80, 0x8a, 0x0a, 0x30, 0x33, 0x35, 0x50, 0x51, 0x65, 0x11, 0x00, 0xff), { maxLength: 16 }).map((b) => Uint8Array.from(b)) },
    { weight: 3, arbitrary: valid },
    { weight: 2, arbitrary: fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([f, at, x]) => f.map((b, i) => (i === at % f.length ? b ^ x : b))) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.nat()).map(([f, n]) => f.subarray(0, n % f.length)) },
  );
  return fc.tuple(fc.array(segment, { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 })).map(([segments, cuts]) => chunk(concat(segments), cuts));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function chunk(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  let c = 0;
  while (i < bytes.length) {
    const n = cuts[c++ % cuts.length] ?? 1;
    out.push(bytes.slice(i, i + n));
    i += n;
  }
  return out;
}

const reasons = new Set(['garbage', 'checksum', 'malformed', 'truncated']);
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const show = (f: unknown): string => JSON.stringify(f, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

/** Everything one stream may not do to a parser of this codec. */
function checkStream<F>(codec: Codec<F>, chunks: Uint8Array[]): Violation[] {
  const found: Violation[] = [];
  const parser = codec.parser();
  let pushed = 0;
  let framed = 0;
  let rejected = 0;
  const frames: F[] = [];
  const onReject = (r: FrameReject): void => {
    rejected += r.length;
    if (r.code !== ErrorCodes.FRAME_INVALID || !reasons.has(r.reason) || r.length < 1 || r.bytes.length > Math.min(64, r.length)) found.push({ kind: 'bad-reject', detail: show(r) });
  };
  try {
    for (const c of chunks) {
      pushed += c.length;
      const out = parser.push(c);
      frames.push(...out.frames);
      out.rejects.forEach(onReject);
      if (parser.buffered >= codec.maxFrameLength) found.push({ kind: 'hoards-bytes', detail: `${parser.buffered} bytes held` });
    }
    const last = parser.flush();
    if (last) onReject(last);
  } catch (e) {
    return [{ kind: 'throw', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }];
  }
  for (const f of frames) {
    const wire = codec.wire(f);
    framed += wire.length;
    let encoded: Uint8Array | undefined;
    try {
      encoded = codec.encoded(f);
    } catch (e) {
      found.push({ kind: 'encoder-refuses-parsed-frame', detail: `${show(f)}: ${(e as Error).message}` });
    }
    if (encoded && !same(encoded, wire)) found.push({ kind: 'encoder-disagrees', detail: `${show(f)}: encoder ${show(encoded)} vs layout ${show(wire)}` });
    const again = codec.parser();
    const back = again.push(wire);
    if (back.frames.length !== 1 || back.rejects.length !== 0 || again.buffered !== 0 || show(back.frames[0]) !== show(f)) found.push({ kind: 'no-round-trip', detail: `${show(f)} -> ${show(wire)} -> ${show(back)}` });
  }
  if (framed + rejected + parser.buffered !== pushed) found.push({ kind: 'bytes-unaccounted', detail: `${pushed} pushed, ${framed} in frames, ${rejected} rejected, ${parser.buffered} held` });
  return found;
}

/** Valid frames only, chunked anyhow: exactly those frames come out, nothing is rejected. */
function checkValidStream<F>(codec: Codec<F>, framesIn: Uint8Array[], cuts: number[]): Violation[] {
  const parser = codec.parser();
  const out: F[] = [];
  const rejects: FrameReject[] = [];
  for (const c of chunk(concat(framesIn), cuts)) {
    const r = parser.push(c);
    out.push(...r.frames);
    rejects.push(...r.rejects);
  }
  const wires = out.map((f) => codec.wire(f));
  if (rejects.length > 0 || parser.buffered !== 0 || wires.length !== framesIn.length || !wires.every((w, i) => same(w, framesIn[i] ?? new Uint8Array())))
    return [{ kind: 'valid-stream-misread', detail: `${show(framesIn)} -> frames ${show(out)}, rejects ${show(rejects)}` }];
  return [];
}

const codecs: Codec<never>[] = [cu16, cu48, g8aHost, ...g8aReplies] as unknown as Codec<never>[];

describe('fuzzing the lock-board codecs', () => {
  for (const codec of codecs) {
    it(
      `${codec.name}: arbitrary bytes never throw, every byte is accounted for, every frame round-trips`,
      async () => {
        const figures = await runFuzz({ target: `codec ${codec.name}: arbitrary streams`, arbitrary: streamOf(codec.validFrame), check: (c) => checkStream(codec, c), budget: { ci: 1500, long: 100_000 } });
        expect(figures.violations, describeViolations(figures)).toBe(0);
      },
      timeoutOf(30_000),
    );

    // Without the bus's hint an 8A reply stream is ambiguous by design (a short reply and the
    // start of a status reply look alike, generic8a.ts): the bus always says what it waits for.
    if (!codec.name.endsWith('expecting any)'))
      it(
        `${codec.name}: a stream of valid frames decodes to exactly those frames`,
        async () => {
          const arbitrary = fc.tuple(fc.array(codec.validFrame, { minLength: 1, maxLength: 10 }), fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 8 }));
          const figures = await runFuzz({ target: `codec ${codec.name}: valid streams`, arbitrary, check: ([f, cuts]) => checkValidStream(codec, f, cuts), budget: { ci: 500, long: 30_000 } });
          expect(figures.violations, describeViolations(figures)).toBe(0);
        },
        timeoutOf(30_000),
      );
  }

  const buses: SerialBusConfig[] = (['kerong-cu16', 'kerong-cu48', 'generic-8a'] as const).map((protocol) => ({
    id: 'bus0',
    protocol,
    transport: { kind: 'sim' },
    pollIntervalMs: 100,
    fastPollIntervalMs: 40,
    fastPollForMs: 2000,
    replyTimeoutMs: 300,
    silentAfterMisses: 3,
    boards: [
      { address: 1, locks: protocol === 'kerong-cu16' ? 16 : 24, polarity: 'latched-high', itemSensors: protocol === 'kerong-cu16', energiseMs: 100 },
      { address: 2, locks: 12, polarity: 'latched-low', itemSensors: false, energiseMs: 100 },
    ],
  })) as unknown as SerialBusConfig[];
  const anyFrame = fc.oneof(cu16.validFrame, cu48.validFrame, g8aHost.validFrame, ...g8aReplies.map((c) => c.validFrame));

  for (const bus of buses) {
    it(
      `the ${bus.protocol} bus adapter turns arbitrary bytes into replies of configured boards only, without throwing`,
      async () => {
        const arbitrary = fc.tuple(streamOf(anyFrame), fc.constantFrom(undefined, 5, 7, 8));
        const figures = await runFuzz({
          target: `bus adapter ${bus.protocol}`,
          arbitrary,
          check: ([chunks, hint]) => {
            const decoder = createLockBoardProtocol(bus).createDecoder();
            decoder.expect(hint);
            const found: Violation[] = [];
            try {
              for (const c of chunks) {
                for (const r of decoder.push(c).replies) {
                  if (r.kind !== 'status') continue;
                  const board = bus.boards.find((b) => b.address === r.board);
                  if (!board) found.push({ kind: 'unconfigured-board', detail: show(r) });
                  else if (r.locks.length !== board.locks || r.locks.some((l, i) => l.lock !== i + 1)) found.push({ kind: 'wrong-readings', detail: show(r) });
                }
              }
              decoder.flush();
            } catch (e) {
              found.push({ kind: 'throw', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
            }
            return found;
          },
          budget: { ci: 1000, long: 50_000 },
        });
        expect(figures.violations, describeViolations(figures)).toBe(0);
      },
      timeoutOf(30_000),
    );
  }
});
