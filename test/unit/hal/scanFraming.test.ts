// Scanner framing tables: every case is fed whole, byte by byte and split at awkward points,
// and must frame the same way each time.
import { describe, expect, it } from 'vitest';
import { ScanFramer, type ScanFrame, type ScanFramingOptions } from '../../../hal/scanner/scanFraming.js';

const base: ScanFramingOptions = { suffix: 'cr', interByteTimeoutMs: 80, maxLength: 64, aimPrefix: false };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** Feeds one burst in chunks (all within the timeout), then lets the line go quiet. */
function frameBurst(options: ScanFramingOptions, burst: Uint8Array, cuts: number[]): ScanFrame[] {
  const framer = new ScanFramer(options);
  const out: ScanFrame[] = [];
  let t = 1000;
  let from = 0;
  for (const cut of [...cuts, burst.length]) {
    out.push(...framer.push(burst.subarray(from, cut), t));
    from = cut;
    t += 1;
  }
  out.push(...framer.tick(t + options.interByteTimeoutMs));
  expect(framer.buffered).toBe(0);
  return out;
}

/** Whole, byte by byte, and every single two-way split. */
function splits(length: number): number[][] {
  const all: number[][] = [[], Array.from({ length: Math.max(0, length - 1) }, (_, i) => i + 1)];
  for (let i = 1; i < length; i++) all.push([i]);
  return all;
}

interface Case {
  name: string;
  options?: Partial<ScanFramingOptions>;
  input: Uint8Array;
  expected: ScanFrame[];
}

const scan = (text: string, symbology?: string): ScanFrame => (symbology ? { type: 'scan', text, symbology } : { type: 'scan', text });
const reject = (reason: string, length: number): ScanFrame => ({ type: 'rejected', code: 'SCAN_REJECTED', reason, length }) as ScanFrame;

const cases: Case[] = [
  { name: 'pickup code with CR', input: enc('12345678\r'), expected: [scan('12345678')] },
  { name: 'CR LF when CR is configured is one terminator', input: enc('12345678\r\n'), expected: [scan('12345678')] },
  { name: 'LF suffix', options: { suffix: 'lf' }, input: enc('JD014600006543210001\n'), expected: [scan('JD014600006543210001')] },
  { name: 'CR LF when LF is configured', options: { suffix: 'lf' }, input: enc('ABC\r\n'), expected: [scan('ABC')] },
  { name: 'CRLF suffix', options: { suffix: 'crlf' }, input: enc('ABC\r\n'), expected: [scan('ABC')] },
  { name: 'CRLF configured, bare CR is not a terminator', options: { suffix: 'crlf' }, input: enc('ABC\r'), expected: [reject('unterminated', 4)] },
  { name: 'QR with embedded LF', input: enc('BEGIN:VCARD\nFN:Locker 7\nEND:VCARD\r'), expected: [scan('BEGIN:VCARD\nFN:Locker 7\nEND:VCARD')] },
  { name: 'QR with embedded CR inside the burst stays payload', input: enc('line one\rline two\r'), expected: [scan('line one\rline two')] },
  { name: 'QR with embedded CR LF, CRLF suffix', options: { suffix: 'crlf' }, input: enc('a\r\nb\r\n'), expected: [scan('a\r\nb')] },
  { name: 'UTF-8 text split inside a character', input: enc('Paket für Zoë 包裹\r'), expected: [scan('Paket für Zoë 包裹')] },
  { name: 'GS1 separators are kept', input: cat(enc('0109501101020917'), bytes(0x1d), enc('10ABC\r')), expected: [scan('0109501101020917\u001d10ABC')] },
  { name: 'ISO 15434 envelope (RS, GS, EOT)', input: cat(enc('[)>'), bytes(0x1e), enc('01'), bytes(0x1d), enc('1Z'), bytes(0x1e, 0x04), enc('\r')), expected: [scan('[)>\u001e01\u001d1Z\u001e\u0004')] },
  { name: 'AIM QR identifier stripped', options: { aimPrefix: true }, input: enc(']Q1https://l.example/p/8F2K\r'), expected: [scan('https://l.example/p/8F2K', ']Q1')] },
  { name: 'AIM GS1-128 identifier stripped', options: { aimPrefix: true }, input: enc(']C10109501101020917\r'), expected: [scan('0109501101020917', ']C1')] },
  { name: 'AIM enabled, no identifier sent', options: { aimPrefix: true }, input: enc('12345678\r'), expected: [scan('12345678')] },
  { name: 'AIM disabled keeps the bracket', input: enc(']Q1data\r'), expected: [scan(']Q1data')] },
  { name: 'AIM identifier alone is nothing', options: { aimPrefix: true }, input: enc(']Q1\r'), expected: [] },
  { name: 'bare terminator is ignored', input: enc('\r'), expected: [] },
  { name: 'exactly maxLength is accepted', options: { maxLength: 16 }, input: enc('A'.repeat(16) + '\r\n'), expected: [scan('A'.repeat(16))] },
  { name: 'one over maxLength is rejected', options: { maxLength: 16 }, input: enc('A'.repeat(17) + '\r'), expected: [reject('too-long', 17)] },
  { name: 'far over maxLength, CR LF end', options: { maxLength: 16 }, input: enc('B'.repeat(500) + '\r\n'), expected: [reject('too-long', 500)] },
  { name: 'over maxLength with embedded CRs', options: { maxLength: 16 }, input: enc('C\r'.repeat(20) + '\r'), expected: [reject('too-long', 40)] },
  { name: 'no terminator before silence', input: enc('1234'), expected: [reject('unterminated', 4)] },
  { name: 'invalid UTF-8', input: cat(enc('12'), bytes(0xc3, 0x28), enc('34\r')), expected: [reject('not-utf8', 6)] },
  { name: 'line noise control bytes', input: cat(bytes(0x00, 0x15, 0xff), enc('\r')), expected: [reject('not-utf8', 3)] },
  { name: 'C0 control in valid UTF-8', input: cat(enc('12'), bytes(0x07), enc('34\r')), expected: [reject('not-text', 5)] },
  { name: 'C1 control in valid UTF-8', input: enc('12\u009b34\r'), expected: [reject('not-text', 6)] },
];

describe('ScanFramer tables', () => {
  for (const c of cases) {
    it(c.name, () => {
      const options = { ...base, ...c.options };
      for (const cuts of splits(c.input.length)) {
        expect(frameBurst(options, c.input, cuts), `cuts ${cuts.join(',')}`).toEqual(c.expected);
      }
    });
  }
});

describe('ScanFramer timing', () => {
  it('silence between two reads makes two frames', () => {
    const f = new ScanFramer(base);
    expect(f.push(enc('AAA\r'), 0)).toEqual([]);
    expect(f.nextDeadline()).toBe(80);
    expect(f.tick(79)).toEqual([]);
    expect(f.tick(80)).toEqual([scan('AAA')]);
    expect(f.nextDeadline()).toBeUndefined();
    expect(f.push(enc('BBB\r'), 500)).toEqual([]);
    expect(f.tick(580)).toEqual([scan('BBB')]);
  });

  it('a late push closes the previous frame even without a tick', () => {
    const f = new ScanFramer(base);
    f.push(enc('AAA\r'), 0);
    expect(f.push(enc('BBB\r'), 200)).toEqual([scan('AAA')]);
    expect(f.flush()).toEqual([scan('BBB')]);
  });

  it('bytes arriving just inside the timeout extend the frame', () => {
    const f = new ScanFramer(base);
    f.push(enc('line1\r'), 0);
    f.push(enc('line2\r'), 79);
    expect(f.tick(150)).toEqual([]);
    expect(f.tick(159)).toEqual([scan('line1\rline2')]);
  });

  it('a read cut short by silence is rejected and the rest frames alone', () => {
    const f = new ScanFramer(base);
    f.push(enc('1234'), 0);
    expect(f.tick(100)).toEqual([reject('unterminated', 4)]);
    f.push(enc('5678\r'), 120);
    expect(f.tick(200)).toEqual([scan('5678')]);
  });

  it('CR and LF split across a quiet gap with CR configured', () => {
    const f = new ScanFramer(base);
    f.push(enc('ABC\r'), 0);
    expect(f.tick(80)).toEqual([scan('ABC')]);
    // The lone LF that follows late forms a frame with no payload and is not reported.
    f.push(enc('\n'), 100);
    expect(f.tick(180)).toEqual([]);
  });

  it('flush on disconnect reports a complete read at once', () => {
    const f = new ScanFramer(base);
    f.push(enc('DONE\r'), 0);
    expect(f.flush()).toEqual([scan('DONE')]);
    expect(f.flush()).toEqual([]);
  });

  it('never holds more than maxLength + 2 bytes', () => {
    const f = new ScanFramer({ ...base, maxLength: 32 });
    const chunk = new Uint8Array(4096).fill(0x41);
    let peak = 0;
    for (let i = 0; i < 256; i++) {
      f.push(chunk, i);
      peak = Math.max(peak, f.buffered);
    }
    expect(peak).toBeLessThanOrEqual(34);
    expect(f.tick(10_000)).toEqual([reject('too-long', 4096 * 256)]);
  });

  it('rejects bad options', () => {
    expect(() => new ScanFramer({ ...base, maxLength: 0 })).toThrow(RangeError);
    expect(() => new ScanFramer({ ...base, interByteTimeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('ScanFramer at exactly maxLength', () => {
  // Found by the scanner-framing fuzz target: the CR of a CR LF terminator was counted as
  // payload before its LF arrived, so a read of exactly maxLength bytes was lost as too-long.
  for (const suffix of ['cr', 'lf', 'crlf'] as const) {
    it(`keeps a read of exactly maxLength bytes ending in CR LF (suffix ${suffix})`, () => {
      const options = { ...base, suffix, maxLength: 2 };
      expect(frameBurst(options, enc('A0\r\n'), [])).toEqual([{ type: 'scan', text: 'A0' }]);
      expect(frameBurst(options, enc('A0\r\n'), [3])).toEqual([{ type: 'scan', text: 'A0' }]);
    });
  }

  it('still rejects one payload byte more, even when a CR follows', () => {
    const options = { ...base, suffix: 'crlf' as const, maxLength: 2 };
    expect(frameBurst(options, enc('A0B\r\n'), [])).toEqual([{ type: 'rejected', code: 'SCAN_REJECTED', reason: 'too-long', length: 3 }]);
    expect(frameBurst(options, enc('A0\rB\r\n'), [])).toEqual([{ type: 'rejected', code: 'SCAN_REJECTED', reason: 'too-long', length: 4 }]);
  });
});
