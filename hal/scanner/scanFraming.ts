// Barcode scanner framing: turns the byte stream of a serial scanner into scans and coded
// rejects. Pure: no streams and no timers. The owner feeds bytes with the time they arrived
// and calls `tick` when `nextDeadline()` has passed, so the framer is tested with plain
// numbers for time.
//
// The framing rule (scanners send one read as a burst, QR payloads may contain CR/LF):
// - A frame ends only when the line has been quiet for `interByteTimeoutMs`.
// - If the frame's last bytes are the terminator, it is a complete read: the terminator is
//   stripped and the text is reported. A terminator followed by more bytes inside the same
//   burst is payload (a QR code carrying line breaks) and stays in the text.
// - A frame that goes quiet without a terminator is rejected as `unterminated`: it is a read
//   cut short (cable pulled, a stalled USB transfer) or line noise, and passing half a code up
//   would count as a wrong pickup code against the keypad's failure budget.
// - Whatever suffix is configured, a CR LF pair is one terminator, so a scanner sending CR LF
//   where CR was configured still frames cleanly.
// The price is latency: a read is reported `interByteTimeoutMs` after its last byte, and two
// reads less than that apart merge (scanners wait far longer than that between reads).
//
// Memory is bounded: at most `maxLength` payload bytes plus a two-byte terminator are kept.
// A longer frame is counted, not stored, until it ends, and then reported as `too-long`.

import { ErrorCodes } from '../../kernel/errors.js';

export type ScanSuffix = 'cr' | 'lf' | 'crlf';

export interface ScanFramingOptions {
  suffix: ScanSuffix;
  interByteTimeoutMs: number;
  /** Maximum payload bytes, terminator excluded. */
  maxLength: number;
  /** Strip an AIM symbology identifier (`]C1`, `]Q1`, ...) and report it separately. */
  aimPrefix: boolean;
}

export type ScanRejectReason =
  /** More than maxLength payload bytes before the frame ended. */
  | 'too-long'
  /** The line went quiet without a terminator. */
  | 'unterminated'
  /** The bytes are not valid UTF-8. */
  | 'not-utf8'
  /** Control characters a barcode does not carry (noise, a wrong baud rate). */
  | 'not-text';

export type ScanFrame =
  | { type: 'scan'; text: string; symbology?: string }
  | { type: 'rejected'; code: typeof ErrorCodes.SCAN_REJECTED; reason: ScanRejectReason; length: number };

const CR = 0x0d;
const LF = 0x0a;

// Control characters that real symbols carry: TAB, LF, CR (QR text), EOT, GS and RS
// (ISO/IEC 15434 envelopes on carrier labels and GS1 separators). Everything else below
// U+0020, DEL and the C1 block means noise or a wrong line speed.
const allowedControls = new Set([0x04, 0x09, 0x0a, 0x0d, 0x1d, 0x1e]);

// AIM ISO/IEC 15424 identifier: "]", a code character, a modifier character.
const aimIdentifier = /^\][A-Za-z][0-9A-Za-z]/;

export class ScanFramer {
  private readonly buffer: Uint8Array;
  private length = 0;
  /** Payload bytes seen in the current frame after it overflowed; 0 while it fits. */
  private overflowed = 0;
  /** Arrival time of the last byte of the open frame, or undefined when no frame is open. */
  private lastByteAt: number | undefined;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly options: ScanFramingOptions) {
    if (!Number.isInteger(options.maxLength) || options.maxLength < 1) throw new RangeError('maxLength must be a positive integer');
    if (!(options.interByteTimeoutMs > 0)) throw new RangeError('interByteTimeoutMs must be positive');
    this.buffer = new Uint8Array(options.maxLength + 2);
  }

  /**
   * Feeds bytes that arrived at `at` (ms, monotonic). Returns the frames this completed:
   * only a frame left open by an earlier push can complete here, when `at` shows that the
   * line had already gone quiet before these bytes.
   */
  push(bytes: Uint8Array, at: number): ScanFrame[] {
    const out = this.tick(at);
    if (bytes.length === 0) return out;
    for (const b of bytes) this.append(b);
    this.lastByteAt = at;
    return out;
  }

  /** Ends the open frame if the line has been quiet long enough by `at`. */
  tick(at: number): ScanFrame[] {
    const deadline = this.nextDeadline();
    if (deadline === undefined || at < deadline) return [];
    return this.flush();
  }

  /** When `tick` should next be called, or undefined when no frame is open. */
  nextDeadline(): number | undefined {
    return this.lastByteAt === undefined ? undefined : this.lastByteAt + this.options.interByteTimeoutMs;
  }

  /** Ends the open frame now, as if the line had gone quiet (port closed, device gone). */
  flush(): ScanFrame[] {
    if (this.lastByteAt === undefined) return [];
    const frame = this.finish();
    this.length = 0;
    this.overflowed = 0;
    this.lastByteAt = undefined;
    return frame ? [frame] : [];
  }

  /** Bytes held for the open frame; never more than maxLength + 2. */
  get buffered(): number {
    return this.length;
  }

  private append(b: number): void {
    if (this.overflowed > 0) {
      this.overflowed += 1;
      this.trackTailWhileOverflowed(b);
      return;
    }
    if (this.length === this.buffer.length) {
      this.overflow(b);
      return;
    }
    this.buffer[this.length++] = b;
    if (this.length - this.possibleTerminatorLength() > this.options.maxLength) this.overflow(undefined);
  }

  /**
   * The terminator the held bytes end in, or may end in once the next byte arrives: a trailing
   * CR can be the first half of a CR LF pair (one terminator whatever the suffix), so it is not
   * counted as payload yet. The buffer has room for maxLength payload bytes plus CR LF.
   */
  private possibleTerminatorLength(): number {
    const t = this.terminatorLength();
    return t === 0 && this.buffer[this.length - 1] === CR ? 1 : t;
  }

  // An overflowed frame keeps only its last two bytes, so that a terminator at its very end
  // is still recognised and not counted as payload in the reported length.
  private overflow(next: number | undefined): void {
    this.overflowed = this.length;
    const tail = this.buffer.slice(Math.max(0, this.length - 2), this.length);
    this.length = 0;
    for (const b of tail) this.buffer[this.length++] = b;
    if (next !== undefined) {
      this.overflowed += 1;
      this.trackTailWhileOverflowed(next);
    }
  }

  private trackTailWhileOverflowed(b: number): void {
    if (this.length === 2) {
      this.buffer[0] = this.buffer[1] ?? 0;
      this.length = 1;
    }
    this.buffer[this.length++] = b;
  }

  /** Length of the terminator at the end of the held bytes (0, 1 or 2). */
  private terminatorLength(): number {
    const last = this.buffer[this.length - 1];
    const before = this.length >= 2 ? this.buffer[this.length - 2] : undefined;
    const pair = last === LF && before === CR;
    switch (this.options.suffix) {
      case 'crlf':
        return pair ? 2 : 0;
      case 'lf':
        return pair ? 2 : last === LF ? 1 : 0;
      case 'cr':
        return pair ? 2 : last === CR ? 1 : 0;
    }
  }

  private finish(): ScanFrame | undefined {
    const terminator = this.terminatorLength();
    if (this.overflowed > 0) {
      return this.reject('too-long', this.overflowed - terminator);
    }
    // Stray line breaks alone (a bare terminator on a failed read, the LF of a CR LF pair
    // that arrived after a pause) carry nothing to report.
    if (this.buffer.subarray(0, this.length).every((b) => b === CR || b === LF)) return undefined;
    const payload = this.length - terminator;
    if (terminator === 0) return this.reject('unterminated', payload);
    let text: string;
    try {
      text = this.decoder.decode(this.buffer.subarray(0, payload));
    } catch {
      return this.reject('not-utf8', payload);
    }
    if (!isBarcodeText(text)) return this.reject('not-text', payload);
    if (this.options.aimPrefix && aimIdentifier.test(text)) {
      const rest = text.slice(3);
      if (rest.length === 0) return undefined;
      return { type: 'scan', text: rest, symbology: text.slice(0, 3) };
    }
    return { type: 'scan', text };
  }

  private reject(reason: ScanRejectReason, length: number): ScanFrame {
    return { type: 'rejected', code: ErrorCodes.SCAN_REJECTED, reason, length };
  }
}

function isBarcodeText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !allowedControls.has(c)) return false;
    if (c >= 0x7f && c <= 0x9f) return false;
    // Noncharacters U+FFFE/U+FFFF never come from a symbol.
    if (c === 0xfffe || c === 0xffff) return false;
  }
  return true;
}
