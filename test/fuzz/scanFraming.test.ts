// Fuzzes the barcode scanner framing (hal/scanner/scanFraming.ts) with arbitrary byte chunks at
// arbitrary times, under arbitrary options. Properties:
// - nothing throws; the framer never holds more than maxLength + 2 bytes;
// - no scan is longer than maxLength bytes, none is empty, none carries control characters a
//   barcode does not have; every reject is a coded SCAN_REJECTED with a known reason;
// - a frame ends only after a quiet line: never more frames than bursts;
// - clean reads (text, terminator, a pause), chunked anyhow, come out as exactly those texts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScanFramer, type ScanFrame, type ScanFramingOptions } from '../../hal/scanner/scanFraming.js';
import { ErrorCodes } from '../../kernel/errors.js';
import { describeViolations, runFuzz, timeoutOf, type Violation } from './support/fuzzRun.js';

const options: fc.Arbitrary<ScanFramingOptions> = fc.record({
  suffix: fc.constantFrom('cr', 'lf', 'crlf'),
  interByteTimeoutMs: fc.integer({ min: 1, max: 200 }),
  maxLength: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 600 })),
  aimPrefix: fc.boolean(),
});

const enc = new TextEncoder();
const byteChunk = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(0x0d, 0x0a, 0x5d, 0x51, 0x31, 0x43, 0x30, 0x39, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xff, 0x00, 0x1d, 0x7f, 0x9f), { maxLength: 40 }).map((b) => Uint8Array.from(b)) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => enc.encode(s)) },
  { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => new Uint8Array(n).fill(0x41)) },
);

/** One event: bytes that arrive `gapMs` after the previous ones, or a timer tick. */
const event = fc.record({ bytes: byteChunk, gapMs: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 400 })), tick: fc.boolean() });

const reasons = new Set(['too-long', 'unterminated', 'not-utf8', 'not-text']);
const badControl = (c: number): boolean => (c < 0x20 && ![0x04, 0x09, 0x0a, 0x0d, 0x1d, 0x1e].includes(c)) || (c >= 0x7f && c <= 0x9f) || c === 0xfffe || c === 0xffff;

function checkFrames(o: ScanFramingOptions, frames: ScanFrame[]): Violation[] {
  const found: Violation[] = [];
  for (const f of frames) {
    if (f.type === 'scan') {
      const bytes = enc.encode(f.text).length + (f.symbology ? enc.encode(f.symbology).length : 0);
      if (bytes > o.maxLength) found.push({ kind: 'scan-too-long', detail: `${bytes} bytes > ${o.maxLength}` });
      if (f.text.length === 0) found.push({ kind: 'empty-scan', detail: JSON.stringify(f) });
      if ([...f.text].some((ch) => badControl(ch.charCodeAt(0)))) found.push({ kind: 'control-in-scan', detail: JSON.stringify(f) });
    } else if (f.code !== ErrorCodes.SCAN_REJECTED || !reasons.has(f.reason) || !Number.isInteger(f.length) || f.length < 0) {
      found.push({ kind: 'bad-reject', detail: JSON.stringify(f) });
    } else if (f.reason === 'too-long' && f.length <= o.maxLength) {
      found.push({ kind: 'bad-reject', detail: `too-long with ${f.length} <= ${o.maxLength}` });
    }
  }
  return found;
}

function runEvents(o: ScanFramingOptions, events: { bytes: Uint8Array; gapMs: number; tick: boolean }[]): Violation[] {
  const found: Violation[] = [];
  const frames: ScanFrame[] = [];
  let bursts = 0;
  let t = 1_000;
  let last: number | undefined;
  try {
    const framer = new ScanFramer(o);
    for (const e of events) {
      t += e.gapMs;
      if (e.tick) frames.push(...framer.tick(t));
      if (e.bytes.length > 0) {
        if (last === undefined || t >= last + o.interByteTimeoutMs) bursts += 1;
        last = t;
      }
      frames.push(...framer.push(e.bytes, t));
      if (framer.buffered > o.maxLength + 2) found.push({ kind: 'unbounded', detail: `${framer.buffered} bytes held, max ${o.maxLength + 2}` });
      const next = framer.nextDeadline();
      if (next !== undefined && next < t) found.push({ kind: 'deadline-in-past', detail: `${next} < ${t}` });
    }
    frames.push(...framer.flush());
    if (framer.buffered !== 0) found.push({ kind: 'held-after-flush', detail: String(framer.buffered) });
  } catch (e) {
    return [{ kind: 'throw', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }];
  }
  if (frames.length > bursts) found.push({ kind: 'more-frames-than-bursts', detail: `${frames.length} frames from ${bursts} bursts` });
  found.push(...checkFrames(o, frames));
  return found;
}

/** Text a barcode can carry (no terminator characters, so each read is unambiguous). */
const readText = fc.string({ unit: fc.oneof(fc.constantFrom('0', '7', 'A', 'z', '-', ' ', '\t', '\u001d', 'é', '中', '€', '😀'), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')), minLength: 1, maxLength: 40 });

function cleanReads(o: ScanFramingOptions, texts: string[], cuts: number[]): Violation[] {
  const term = o.suffix === 'cr' ? '\r' : o.suffix === 'lf' ? '\n' : '\r\n';
  const framer = new ScanFramer(o);
  const out: ScanFrame[] = [];
  let t = 1_000;
  const expected: string[] = [];
  for (const text of texts) {
    if (enc.encode(text).length > o.maxLength) continue;
    // An AIM-looking start would be stripped; such reads are covered by the unit tests.
    if (o.aimPrefix && /^\][A-Za-z][0-9A-Za-z]/.test(text)) continue;
    expected.push(text);
    const bytes = enc.encode(text + term);
    let i = 0;
    let c = 0;
    while (i < bytes.length) {
      const n = cuts[c++ % cuts.length] ?? 1;
      out.push(...framer.push(bytes.subarray(i, i + n), t));
      i += n;
      t += Math.min(1, o.interByteTimeoutMs - 1);
    }
    t += o.interByteTimeoutMs;
    out.push(...framer.tick(t));
  }
  const got = out.map((f) => (f.type === 'scan' ? f.text : `<${f.reason}>`));
  if (JSON.stringify(got) !== JSON.stringify(expected)) return [{ kind: 'clean-read-misframed', detail: `${JSON.stringify(expected)} -> ${JSON.stringify(got)}` }];
  return [];
}

describe('fuzzing the scanner framing', () => {
  it(
    'arbitrary chunks at arbitrary times: bounded, coded, never more frames than bursts, never throws',
    async () => {
      const figures = await runFuzz({
        target: 'scanner framing: arbitrary chunks',
        arbitrary: fc.tuple(options, fc.array(event, { maxLength: 30 })),
        check: ([o, events]) => runEvents(o, events),
        budget: { ci: 2000, long: 100_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

  it(
    'clean reads chunked anyhow come out as exactly their texts',
    async () => {
      const figures = await runFuzz({
        target: 'scanner framing: clean reads',
        arbitrary: fc.tuple(options, fc.array(readText, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 6 })),
        check: ([o, texts, cuts]) => cleanReads(o, texts, cuts),
        budget: { ci: 1000, long: 50_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );
});
