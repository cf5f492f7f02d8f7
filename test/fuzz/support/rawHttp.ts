// A bare HTTP/1.1 client over a TCP socket: it sends exactly the bytes it is given (lying
// content-length, any method, any request target, duplicate headers), half-closes its side,
// and reads whatever comes back. fetch would refuse or fix most of what a fuzzer needs to send.
import { connect } from 'node:net';

export interface RawAnswer {
  /** undefined when the server closed without answering (or the bytes were no response). */
  status: number | undefined;
  headers: Record<string, string>;
  body: Buffer;
  /** The whole answer as received, for the stack-trace check. */
  raw: Buffer;
  timedOut: boolean;
  /** The answer was an event stream: the client stopped reading after its first bytes. */
  stream: boolean;
  error?: string;
}

export interface RawRequestOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /**
   * Half-close after sending: for a request whose body is shorter than it said, so the server
   * sees the end instead of waiting. Otherwise the socket stays open until the answer is complete
   * (a server may drop a half-closed connection before a streamed answer is written).
   */
  halfClose?: boolean;
  /** The request was HEAD: the answer has no body whatever its content-length says. */
  head?: boolean;
}

export function rawRequest(bytes: Buffer, o: RawRequestOptions): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: o.host, port: o.port });
    const finish = (extra: Partial<RawAnswer> = {}): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseAnswer(Buffer.concat(chunks)), ...extra });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), o.timeoutMs);
    socket.on('connect', () => {
      socket.write(bytes);
      if (o.halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const state = completeness(Buffer.concat(chunks), o.head === true);
      if (state === 'stream') finish({ stream: true });
      else if (state === 'complete') finish();
    });
    socket.on('error', (e) => finish({ error: e.message }));
    socket.on('close', () => finish());
  });
}

/** Whether the bytes so far hold a whole answer (an event stream never ends: its start is enough). */
function completeness(raw: Buffer, head: boolean): 'partial' | 'complete' | 'stream' {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return 'partial';
  const text = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1]);
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) return 'complete';
  if (/\r\ncontent-type: *text\/event-stream/i.test(text)) return raw.length > end + 4 ? 'stream' : 'partial';
  const length = /\r\ncontent-length: *(\d+)/i.exec(text);
  if (length) return raw.length - end - 4 >= Number(length[1]) ? 'complete' : 'partial';
  if (/\r\ntransfer-encoding: *chunked/i.test(text)) return raw.indexOf('\r\n0\r\n\r\n', end) >= 0 ? 'complete' : 'partial';
  return 'partial';
}

function parseAnswer(raw: Buffer): RawAnswer {
  const empty: RawAnswer = { status: undefined, headers: {}, body: Buffer.alloc(0), raw, timedOut: false, stream: false };
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return empty;
  const lines = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) return empty;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(end + 4);
  // A lying content-length can make the server read the rest as a second request: keep only
  // the first answer.
  const length = Number(headers['content-length']);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (Number.isInteger(length) && length >= 0) body = body.subarray(0, length);
  return { ...empty, status: Number(m[1]), headers, body };
}

function dechunk(b: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = b.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(b.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    out.push(b.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
