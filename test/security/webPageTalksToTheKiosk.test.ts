// Attack (issue 7, finding 6): a web page in any browser that can reach the kiosk's loopback
// port (DNS rebinding: evil.example resolved to 127.0.0.1) posts text/plain "codes" to lock the
// keypad, reads answers, or frames the kiosk. Now: a Host allow-list, an Origin check on every
// state-changing request, JSON bodies only, security headers on every answer and no CORS.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KioskUnderAttack, type RawReply } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack;
beforeAll(async () => {
  k = await KioskUnderAttack.start({ overrides: { kiosk: { port: 0, allowedHosts: ['locker-7.lan'] } } });
});
afterAll(async () => {
  await k?.stop();
});

const failuresLeft = async (): Promise<number> => Number((await k.json('GET', '/api/lockout')).json['failuresLeft']);

function expectSecurityHeaders(r: RawReply): void {
  const csp = String(r.headers['content-security-policy'] ?? '');
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(r.headers['x-frame-options']).toBe('DENY');
  expect(r.headers['x-content-type-options']).toBe('nosniff');
  expect(r.headers['referrer-policy']).toBe('no-referrer');
  for (const h of Object.keys(r.headers)) expect(h).not.toMatch(/^access-control-/);
}

describe('web origins', () => {
  it('refuses a foreign Host (DNS rebinding) on pages, API and streams', async () => {
    for (const path of ['/', '/api/info', '/api/events', '/app.js']) {
      const r = await k.raw({ path, headers: { host: `evil.example:${k.port}` } });
      expect(r.status).toBe(403);
      expect(r.json.error?.code).toBe('HOST_NOT_ALLOWED');
      expectSecurityHeaders(r);
    }
    expect((await k.raw({ path: '/api/info', headers: { host: `localhost:${k.port}` } })).status).toBe(200);
    expect((await k.raw({ path: '/api/info', headers: { host: `[::1]:${k.port}` } })).status).toBe(200);
    expect((await k.raw({ path: '/api/info', headers: { host: `locker-7.lan:${k.port}` } })).status).toBe(200);
    // The right name on another port is another origin.
    expect((await k.raw({ path: '/api/info', headers: { host: `127.0.0.1:${k.port + 1}` } })).status).toBe(403);
  });

  it('a request with no Host at all gets the same coded refusal, with the security headers', async () => {
    // Found by the fuzzing: Node's own check answered a bare 400 with no code and no headers.
    for (const method of ['GET', 'HEAD', 'POST']) {
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(k.port, '127.0.0.1', () => socket.end(`${method} /api/info HTTP/1.1\r\nconnection: close\r\n\r\n`));
        const chunks: Buffer[] = [];
        socket.on('data', (b: Buffer) => chunks.push(b));
        socket.on('error', reject);
        socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      });
      expect(text).toMatch(/^HTTP\/1\.1 403 /);
      expect(text.toLowerCase()).toContain('content-type: application/json');
      expect(text.toLowerCase()).toContain('x-frame-options: deny');
      if (method !== 'HEAD') expect(text).toContain('"HOST_NOT_ALLOWED"');
    }
  });

  it('a cross-origin text/plain POST is refused and is not a wrong code', async () => {
    const before = await failuresLeft();
    for (let i = 0; i < 8; i++) {
      const r = await k.raw({ method: 'POST', path: '/api/pickup', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{"code":"12345678"}' });
      expect(r.status).toBe(403);
      expect(r.json.error?.code).toBe('ORIGIN_NOT_ALLOWED');
    }
    // Same-site helpers of a browser say the same.
    const fetchSite = await k.raw({ method: 'POST', path: '/api/pickup', headers: { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, body: '{"code":"12345678"}' });
    expect(fetchSite.status).toBe(403);
    const nullOrigin = await k.raw({ method: 'POST', path: '/api/pickup', headers: { origin: 'null', 'content-type': 'application/json' }, body: '{"code":"12345678"}' });
    expect(nullOrigin.status).toBe(403);
    expect(await failuresLeft()).toBe(before);
  });

  it('a body that is not JSON gets 415 and no wrong-code count, whatever the origin', async () => {
    const before = await failuresLeft();
    const r = await k.raw({ method: 'POST', path: '/api/pickup', headers: { 'content-type': 'text/plain' }, body: '{"code":"12345678"}' });
    expect(r.status).toBe(415);
    expect(r.json.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await k.raw({ method: 'POST', path: '/api/pickup', headers: { origin: `http://${k.host}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'code=12345678' });
    expect(form.status).toBe(415);
    const untyped = await k.raw({ method: 'POST', path: '/api/pickup', body: '{"code":"12345678"}' });
    expect(untyped.status).toBe(415);
    expect(await failuresLeft()).toBe(before);
  });

  it('the page itself and curl (no Origin) keep working', async () => {
    const same = await k.json('POST', '/api/pickup', { code: '12345678' });
    expect(same.status).not.toBe(403);
    expect(same.status).not.toBe(415);
    const curl = await k.raw({ method: 'POST', path: '/api/pickup', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"code":"12345679"}' });
    expect([404, 400, 429]).toContain(curl.status);
    // An empty POST (curl -X POST .../sim/compartments/A3/close) needs no content type.
    expect((await k.raw({ method: 'POST', path: '/sim/compartments/A1/close' })).status).toBe(200);
  });

  it.runIf(existsSync('/usr/bin/curl'))('the README curl steps still work with the real curl', async () => {
    const curl = async (...args: string[]): Promise<string> => (await promisify(execFile)('/usr/bin/curl', ['-s', ...args])).stdout;
    const badge = await k.demo.mintCourierBadge('swiftpost', 'c-curl');
    const login = JSON.parse(await curl('-X', 'POST', `${k.url}/api/courier/login`, '-H', 'content-type: application/json', '-d', JSON.stringify({ badge }))) as { token?: string };
    expect(login.token).toBeTruthy();
    const dep = JSON.parse(await curl('-X', 'POST', `${k.url}/api/courier/deposits`, '-H', `authorization: Bearer ${login.token ?? ''}`, '-H', 'content-type: application/json', '-d', '{"waybill":"SP-CURL-1","size":"S"}')) as { deposit?: { compartment: { id: string } } };
    const door = dep.deposit?.compartment.id ?? '';
    expect(door).not.toBe('');
    expect(await curl('-X', 'POST', `${k.url}/sim/compartments/${door}/put`)).toBe('{}');
    expect(await curl('-X', 'POST', `${k.url}/sim/compartments/${door}/close`)).toBe('{}');
  });

  it('every answer carries the security headers and none carries CORS', async () => {
    const answers = [
      await k.raw({ path: '/' }),
      await k.raw({ path: '/app.js' }),
      await k.raw({ path: '/api/info' }),
      await k.raw({ path: '/nothing-here' }),
      await k.raw({ method: 'OPTIONS', path: '/api/pickup', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } }),
      await k.json('POST', '/api/pickup', { code: 'x' }),
    ];
    for (const r of answers) expectSecurityHeaders(r);
    const s = await k.stream();
    expectSecurityHeaders({ status: s.status, headers: s.headers, text: '', json: {} });
    s.close();
  });
});
