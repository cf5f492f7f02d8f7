// Attack (issue 7, findings 10 and 9's session cap): a local process opens thousands of event
// streams, never reads them, floods the badge, PIN and operator logins that cost a signature
// check or a scrypt hash, logs one badge in thousands of times and holds connections open.
// Each bound is reached here by count (the bounds are made small for the test), not by timing.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel/clock.js';
import { LoginGate } from '../../src/kiosk/limits.js';
import { waitFor } from '../support/lockerHarness.js';
import { KioskUnderAttack } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

/** A login bucket that does not refill during a test. */
const noRefill = { loginBurst: 4, loginRefillPerSecond: 0.0001 };

describe('kiosk resource bounds', () => {
  it('caps public and private event streams separately, with a coded 429 and retry-after', async () => {
    k = await KioskUnderAttack.start({ limits: { publicStreams: 3, privateStreams: 1 } });
    const open = [await k.stream(), await k.stream(), await k.stream()];
    for (const s of open) expect(s.status).toBe(200);
    const fourth = await k.raw({ path: '/api/events' });
    expect(fourth.status).toBe(429);
    expect(fourth.json.error?.code).toBe('STREAMS_FULL');
    expect(Number(fourth.headers['retry-after'])).toBeGreaterThan(0);

    // The terminal's own stream is counted apart: a full public side does not shut it out.
    const cookie = await k.pair();
    const terminal = await k.stream(cookie);
    expect(terminal.status).toBe(200);
    const second = await k.raw({ path: '/api/events', headers: { cookie } });
    expect(second.status).toBe(429);
    expect(second.json.error?.code).toBe('STREAMS_FULL');

    open[0]?.close();
    await waitFor('a slot freed', () => k!.running.kiosk.stats().publicStreams === 2);
    expect((await k.stream()).status).toBe(200);
    for (const s of open) s.close();
    terminal.close();
  });

  it('drops a stream whose reader does not drain', async () => {
    k = await KioskUnderAttack.start({ limits: { streamBufferBytes: 16_384 } });
    const socket: Socket = connect(k.port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${k.host}\r\nAccept: text/event-stream\r\n\r\n`);
    await waitFor('the stream counted', () => k!.running.kiosk.stats().publicStreams === 1);
    socket.pause();
    let pushes = 0;
    while (k.running.kiosk.stats().publicStreams > 0 && pushes < 2_000_000) {
      for (let i = 0; i < 1000; i++) k.running.kiosk.push({ type: 'scanner', connected: true });
      pushes += 1000;
      await new Promise((r) => setImmediate(r));
    }
    expect(k.running.kiosk.stats().publicStreams).toBe(0);
    expect(pushes).toBeLessThan(2_000_000);
    socket.destroy();
  });

  it('rate-limits badge, PIN and operator logins (429 RATE_LIMITED with retry-after)', async () => {
    k = await KioskUnderAttack.start({ limits: noRefill });
    const garbage = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    for (const [path, body] of [
      ['/api/courier/login', { badge: garbage }],
      ['/api/courier/login', { carrier: 'swiftpost', courierId: 'c-1', pin: '000000' }],
      ['/api/operator/login', { badge: garbage }],
    ] as const) {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await k.json('POST', path, body)).status);
      expect(statuses.slice(0, 4).every((s) => s !== 429)).toBe(true);
      const limited = await k.json('POST', path, body);
      expect(limited.status).toBe(429);
      expect(limited.json.error?.code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    }
    // A valid badge is refused too while the bucket is empty (the check itself is the cost).
    const valid = await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-ok') });
    expect(valid.status).toBe(429);
  });

  it('bounds the login checks in flight, and refills the bucket only with time', async () => {
    // The gate the login routes run through, on a clock that moves only when told to.
    const clock = new ManualClock();
    const gate = new LoginGate(clock, 3, 1, 2);
    const release: (() => void)[] = [];
    const slow = (): Promise<string> => new Promise((resolve) => release.push(() => resolve('checked')));
    const first = gate.run(slow);
    const second = gate.run(slow);
    await expect(gate.run(slow)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    release.forEach((r) => r());
    await expect(Promise.all([first, second])).resolves.toEqual(['checked', 'checked']);
    await gate.run(() => 'third');
    await expect(gate.run(() => 'fourth')).rejects.toMatchObject({ code: 'RATE_LIMITED', context: { retryAfterMs: 1000 } });
    await clock.advance(1_000);
    await expect(gate.run(() => 'after a second')).resolves.toBe('after a second');
  });

  it('one badge holds at most sessionsPerSubject sessions (the oldest ends) and the book has a global cap', async () => {
    k = await KioskUnderAttack.start({ limits: { sessionsPerSubject: 2, maxSessions: 4, loginBurst: 100 } });
    const badge = await k.demo.mintCourierBadge('swiftpost', 'c-many');
    const tokens: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await k.json('POST', '/api/courier/login', { badge });
      expect(r.status).toBe(200);
      tokens.push(String(r.json['token']));
    }
    const live = [];
    for (const t of tokens) live.push((await k.json('GET', '/api/courier/me', undefined, t)).status);
    expect(live).toEqual([401, 401, 401, 200, 200]);
    expect(k.running.kiosk.stats().courierSessions).toBe(2);

    for (const id of ['c-2', 'c-3']) expect((await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', id) })).status).toBe(200);
    const full = await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-4') });
    expect(full.status).toBe(429);
    expect(full.json.error?.code).toBe('SESSIONS_FULL');
    // Nobody already logged in was pushed out.
    expect((await k.json('GET', '/api/courier/me', undefined, tokens[4])).status).toBe(200);
  });

  it('caps concurrent connections', async () => {
    k = await KioskUnderAttack.start({ limits: { maxConnections: 5 } });
    const held: Socket[] = [];
    for (let i = 0; i < 5; i++) {
      const s = connect(k.port, '127.0.0.1');
      await new Promise<void>((r) => s.once('connect', () => r()));
      held.push(s);
    }
    await waitFor('five connections held', () => k!.running.kiosk.stats().connections === 5);
    const extra = connect(k.port, '127.0.0.1');
    const closed = await new Promise<boolean>((resolve) => {
      extra.once('close', () => resolve(true));
      extra.once('connect', () => extra.write(`GET /api/info HTTP/1.1\r\nHost: ${k!.host}\r\n\r\n`));
      extra.once('data', () => resolve(false));
    });
    expect(closed).toBe(true);
    for (const s of held) s.destroy();
    await waitFor('connections released', () => k!.running.kiosk.stats().connections === 0);
    expect((await k.json('GET', '/api/info')).status).toBe(200);
  });

  it('bounds header and body time and header size', () => {
    // Bounds of the server itself (reaching them takes wall-clock time, so they are read here).
    return KioskUnderAttack.start().then(async (started) => {
      k = started;
      const b = k.running.kiosk.stats().bounds;
      expect(b.headersTimeoutMs).toBeLessThanOrEqual(10_000);
      expect(b.requestTimeoutMs).toBeLessThanOrEqual(15_000);
      expect(b.maxHeaderBytes).toBeLessThanOrEqual(8_192);
      const big = await k.raw({ path: '/api/info', headers: { 'x-pad': 'a'.repeat(9_000) } });
      expect(big.status).toBe(431);
      expect(big.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
      expect(big.headers['x-frame-options']).toBe('DENY');
    });
  });
});
