// Attack (issue 7, finding 7): `GET /%ZZ` made serveFile throw (500 with the error text), and a
// wrong method looked like a missing page. Now: bad paths are 400/404 with a code, wrong methods
// 405 with Allow, and no answer ever carries a stack trace or a file path.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskUnderAttack, type RawReply } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack;
beforeAll(async () => {
  k = await KioskUnderAttack.start();
});
afterAll(async () => {
  await k?.stop();
});

function noLeak(r: RawReply): void {
  expect(r.status).toBeLessThan(500);
  expect(r.text).not.toMatch(/\bat .+:\d+:\d+/);
  expect(r.text).not.toContain('URIError');
  expect(r.text).not.toContain('/src/');
  expect(r.text).not.toContain('node:');
}

describe('malformed paths and wrong methods', () => {
  it('answers a malformed percent-encoding with a coded 400, never 500', async () => {
    for (const path of ['/%ZZ', '/%E0%A4%A', '/sim/%ZZ', '/api/%ZZ', '/%00', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/package.json', '/index.html%00.js']) {
      const r = await k.raw({ path });
      noLeak(r);
      expect([400, 404]).toContain(r.status);
      expect(r.json.error?.code).toMatch(/^(INPUT_INVALID|NOT_FOUND)$/);
    }
  });

  it('serves only path request targets: absolute URLs, //host, * and unparsable targets are 400', async () => {
    for (const path of ['http://[', '//x/index.html', 'http://evil.example/api/info', '*']) {
      const r = await k.raw({ path });
      noLeak(r);
      expect(r.status).toBe(400);
      expect(r.json.error?.code).toBe('INPUT_INVALID');
    }
  });

  it('answers a wrong method with 405, an Allow header and METHOD_NOT_ALLOWED', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/api/pickup', 'POST'],
      ['GET', '/api/pickup', 'POST'],
      ['POST', '/api/info', 'GET'],
      ['PUT', '/api/courier/deposits', 'POST'],
      ['POST', '/index.html', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const r = await k.raw({ method, path, headers: { 'content-type': 'application/json' }, body: '{}' });
      noLeak(r);
      expect(r.status).toBe(405);
      expect(r.headers['allow']).toBe(allow);
      expect(r.json.error?.code).toBe('METHOD_NOT_ALLOWED');
    }
  });
  it('ends an event stream whose client then sends bytes that are not HTTP, with no second status line in it', async () => {
    // Found by the fuzzing: a parse error on a socket whose answer was under way wrote a raw
    // "HTTP/1.1 400" into the middle of the open event stream.
    const socket = connect(k.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (b: Buffer) => received.push(b));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${k.port}\r\n\r\n`);
    const text = (): string => Buffer.concat(received).toString('latin1');
    for (let i = 0; i < 100 && !text().includes('text/event-stream'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(text()).toMatch(/^HTTP\/1\.1 200/);
    socket.write('[[[[ not a request ]]]]\r\n\r\n');
    await closed;
    expect(text().match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });
});
