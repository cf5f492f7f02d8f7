// Bad input from every side, on the whole runtime: malformed, mistyped and oversized API
// requests, unknown routes, missing or forged credentials, unknown and malformed codes, a
// megabyte of scanner noise and corrupted lock-board replies. Each gets a clear coded answer
// and none of them disturbs what follows.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lineNoise } from '../../sim/scanner/simScannerDevice.js';
import { SystemClock } from '../../kernel/clock.js';
import { DEMO_COURIER_ID, mintDemoCourierBadge } from '../../src/composition/demoKeys.js';
import { mintBadge } from '../../src/credentials/badge.js';
import { generateSigningKeyPair } from '../../src/crypto/keys.js';
import { errorCode, errorContext, LockerHarness, seqGaps, sleep, waitFor, type ApiReply } from '../support/lockerHarness.js';

class PastClock extends SystemClock {
  constructor(private readonly offsetMs: number) {
    super();
  }
  override now(): number {
    return Date.now() - this.offsetMs;
  }
}

interface Health {
  ok: boolean;
  scanner: string;
  buses: { id: string; connected: boolean; silentBoards: number[] }[];
}

/** Sends a body in chunks without a content-length (chunked transfer encoding). */
async function postChunked(url: string, chunks: number, chunkBytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/pickup`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', () => undefined);
    req.write('{"code":"');
    const chunk = '1'.repeat(chunkBytes);
    let sent = 0;
    const pump = (): void => {
      while (sent < chunks) {
        sent += 1;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end('"}');
    };
    pump();
  });
}

function expectError(r: ApiReply, status: number, code: string): void {
  expect({ status: r.status, code: errorCode(r) }).toEqual({ status, code });
  const body = r.body as { error: { message: unknown } };
  expect(typeof body.error.message).toBe('string');
}

describe('bad input', () => {
  let h: LockerHarness;
  beforeAll(async () => {
    h = await LockerHarness.start();
  });
  afterAll(async () => {
    await h.cleanup();
  });

  it('malformed JSON, wrong types and oversized bodies are refused with coded errors', async () => {
    expectError(await h.api('POST', '/api/pickup', '{"code": "1234'), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/pickup', 'not json at all'), 400, 'INPUT_INVALID');

    const number = await h.api('POST', '/api/pickup', { code: 12345678 });
    expectError(number, 400, 'INPUT_INVALID');
    expect(errorContext(number).issues).toEqual([expect.objectContaining({ path: 'code' })]);
    expectError(await h.api('POST', '/api/pickup', {}), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/pickup', []), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/pickup', { code: 'x'.repeat(600) }), 400, 'INPUT_INVALID');

    const token = await h.courierLogin();
    const badSize = await h.startDeposit(token, 'SP-BAD-1', 'XXL');
    expectError(badSize, 400, 'INPUT_INVALID');
    expect(errorContext(badSize).issues).toEqual([expect.objectContaining({ path: 'size' })]);
    expectError(await h.startDeposit(token, 'has spaces in it', 'S'), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/courier/deposits', { waybill: 42, size: 'S' }, token), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/courier/login', { badge: 7 }), 400, 'INPUT_INVALID');
    expectError(await h.api('POST', '/api/courier/login', {}), 400, 'INPUT_INVALID');

    const big = await h.api('POST', '/api/pickup', { code: '1'.repeat(20_000) });
    expectError(big, 413, 'PAYLOAD_TOO_LARGE');
    expect(errorContext(big).limit).toBe(16_384);
    const chunked = await postChunked(h.url, 64, 1024);
    expect(chunked.status).toBe(413);
    expect((JSON.parse(chunked.body) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');

    // Nothing of that opened a door or touched the code budget.
    expect(h.world.allLocks().some((l) => l.doorOpen)).toBe(false);
    expect((await h.api<{ failuresLeft: number }>('GET', '/api/lockout')).body.failuresLeft).toBe(10);
    expect((await h.api('GET', '/api/health')).status).toBe(200);
  });

  it('unknown routes answer 404 NOT_FOUND, wrong methods 405', async () => {
    expectError(await h.api('GET', '/api/nothing-here'), 404, 'NOT_FOUND');
    expectError(await h.api('POST', '/api/courier/deposits/x/y/z', {}), 404, 'NOT_FOUND');
    // A known path with another method is 405 with Allow (it was 404 before the origin rules).
    const wrongMethod = await h.api('DELETE', '/api/pickup');
    expectError(wrongMethod, 405, 'METHOD_NOT_ALLOWED');
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expectError(await h.api('GET', '/no/such/page.html'), 404, 'NOT_FOUND');
    expectError(await h.api('GET', '/%2e%2e/%2e%2e/package.json'), 404, 'NOT_FOUND');
  });

  it('courier routes refuse a missing or bad token, and login refuses forged and expired badges', async () => {
    expectError(await h.api('GET', '/api/courier/me'), 401, 'NOT_AUTHENTICATED');
    expectError(await h.api('GET', '/api/courier/collections'), 401, 'NOT_AUTHENTICATED');
    expectError(await h.api('POST', '/api/courier/deposits', { waybill: 'SP-BAD-2', size: 'S' }), 401, 'NOT_AUTHENTICATED');
    expectError(await h.api('GET', '/api/courier/me', undefined, 'not-a-real-token'), 401, 'NOT_AUTHENTICATED');
    const basic = await fetch(`${h.url}/api/courier/me`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(basic.status).toBe(401);
    expectError(await h.api('GET', '/api/operator/compartments', undefined, await h.courierLogin()), 401, 'NOT_AUTHENTICATED');

    // A badge signed by a key this locker does not know, claiming to be SwiftPost.
    const rogue = await generateSigningKeyPair();
    const iat = Math.floor(Date.now() / 1000);
    const forged = await mintBadge(rogue.privateJwk, { iss: 'swiftpost', sub: 'intruder', role: 'courier', perms: ['deposit', 'collect'], iat, exp: iat + 3600, jti: 'rogue-1' });
    expectError(await h.api('POST', '/api/courier/login', { badge: forged }), 401, 'BADGE_INVALID');

    // A real badge with its claims changed after signing.
    const real = await h.demo.mintCourierBadge('swiftpost', 'courier-1', ['deposit']);
    const [header = '', payload = '', signature = ''] = real.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, perms: ['deposit', 'collect'] })).toString('base64url'), signature].join('.');
    expectError(await h.api('POST', '/api/courier/login', { badge: tampered }), 401, 'BADGE_INVALID');

    expectError(await h.api('POST', '/api/courier/login', { badge: 'eyJhbGciOiJub25lIn0.e30.' }), 401, 'BADGE_INVALID');
    expectError(await h.api('POST', '/api/courier/login', { badge: 'garbage' }), 401, 'BADGE_INVALID');
    // An operator badge does not make a courier.
    expectError(await h.api('POST', '/api/courier/login', { badge: await h.demo.mintOperatorBadge() }), 401, 'BADGE_INVALID');

    // Issued two days ago, valid for one hour.
    const expired = await mintDemoCourierBadge(h.demo.keys, 'swiftpost', 'courier-1', new PastClock(2 * 86_400_000), ['deposit', 'collect'], 3600);
    expectError(await h.api('POST', '/api/courier/login', { badge: expired }), 401, 'BADGE_EXPIRED');

    expectError(await h.api('POST', '/api/courier/login', { carrier: 'swiftpost', courierId: DEMO_COURIER_ID, pin: '000000' }), 401, 'PIN_INVALID');

    // After logout the token is dead.
    const token = await h.courierLogin();
    expect((await h.api('GET', '/api/courier/me', undefined, token)).status).toBe(200);
    expect((await h.api('POST', '/api/courier/logout', {}, token)).status).toBe(200);
    expectError(await h.api('GET', '/api/courier/me', undefined, token), 401, 'NOT_AUTHENTICATED');
  });

  it('an unknown code counts against the budget, a malformed one does not', async () => {
    const before = (await h.api<{ failuresLeft: number }>('GET', '/api/lockout')).body.failuresLeft;
    expect(before).toBe(10);
    const unknown = await h.pickup('00000000');
    expectError(unknown, 404, 'CODE_UNKNOWN');
    expect(errorContext(unknown).failuresLeft).toBe(9);

    for (const bad of ['abcdefgh', '1234', '123456789', '   ', 'LK1:12ab5678', 'https://example.com/no-code', 'LK2:short', 'LK2:AAAAAAAAAAAAAAAAAAAAAB']) {
      const r = await h.pickup(bad);
      expectError(r, 400, 'CODE_MALFORMED');
      expect(JSON.stringify(r.body)).not.toContain(bad.trim() || '\u0000');
    }
    const after = await h.api<{ failuresLeft: number; lockedOut: boolean }>('GET', '/api/lockout');
    expect(after.body).toMatchObject({ lockedOut: false, failuresLeft: 9 });
    expectError(await h.api('POST', '/api/dropoff', { code: 'nope' }), 400, 'CODE_MALFORMED');
    expect(h.read.events('alarm.code_lockout')).toEqual([]);
  });

  it('a megabyte of scanner noise leaves the runtime healthy and a real scan still arrives', async () => {
    // Frames as the scanner delivers them to the runtime (the kiosk reads them; no stream carries them).
    const frames: string[] = [];
    const off = h.running.hardware.scanner?.on((e) => {
      if (e.type === 'scan') frames.push(e.text);
    });
    const terminal = await h.terminal();
    try {
      const total = 1_048_576;
      const chunk = 8_192;
      let sent = 0;
      for (let i = 0; sent < total; i++) {
        h.world.scanBytes(lineNoise(chunk, { seed: i + 1 }));
        sent += chunk;
        if (i % 16 === 15) {
          const health = await h.api<Health>('GET', '/api/health');
          expect(health.status).toBe(200);
          expect(health.body.scanner).toBe('connected');
        }
      }
      expect(sent).toBe(total);
      // Let a half-read frame at the end of the noise time out before the real scan.
      await sleep(300);
      const noiseScans = frames.length;
      // No screen was reported during the noise: none of it was taken as a code.
      expect(terminal.events.filter((e) => e.type === 'scan-result')).toEqual([]);
      await terminal.show('pickup');
      h.world.scan('LK1:12345678');
      await waitFor('real scan', () => frames.includes('LK1:12345678'));
      const real = await terminal.waitFor('real scan read as a code', (e) => e.type === 'scan-result' && e.action === 'pickup' && e.state === 'failed');
      expect((real.error as { code: string }).code).toBe('CODE_UNKNOWN');
      // Whatever the noise framed, none of it was long or contained line garbage.
      for (const t of frames.slice(0, noiseScans)) expect(t).toMatch(/^[\x20-\x7e]{1,1024}$/);
    } finally {
      off?.();
      terminal.close();
    }
    const health = await h.api<Health>('GET', '/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, scanner: 'connected' });
  });

  it('garbled and truncated board replies do not break a following deposit', async () => {
    /** Resolves once the boards have sent every corrupted reply asked for. */
    const corrupted = (): Promise<void> =>
      new Promise((resolve) => {
        const off = h.world.on((e) => {
          if (e.type === 'bus-fault' && e.bus === 'bus0' && e.fault === undefined) {
            off();
            resolve();
          }
        });
      });
    const token = await h.courierLogin();
    const garbled = corrupted();
    h.world.corruptReplies('bus0', 'garble', 3);
    await garbled;
    const first = await h.deposit(token, 'SP-BAD-10', 'S');
    expect(h.read.parcelByWaybill('SP-BAD-10')).toMatchObject({ state: 'stored', compartment_id: first.compartment });

    const truncated = corrupted();
    const viaRoute = await h.api('POST', '/sim/buses/bus0/truncate', { count: 3 });
    expect(viaRoute.status).toBe(200);
    await truncated;
    const second = await h.deposit(token, 'SP-BAD-11', 'S');
    expect(second.compartment).not.toBe(first.compartment);

    // Corruption while the deposit's door is being watched.
    const r = await h.startDeposit(token, 'SP-BAD-12', 'M');
    expect(r.status).toBe(200);
    const during = corrupted();
    h.world.corruptReplies('bus0', 'garble', 2);
    await during;
    const third = await h.finishDeposit(token, r.body.deposit);
    expect(third.compartment).toBe('A3');

    const pickup = await h.pickup(first.code);
    expect(pickup.status).toBe(200);
    h.take(first.compartment);
    h.close(first.compartment);
    await h.waitForDoor(first.compartment, 'closed');

    // The bus ends up healthy with every board answering.
    await waitFor('every board answering', async () => {
      const health = await h.api<Health>('GET', '/api/health');
      return health.status === 200 && health.body.buses.every((b) => b.connected && b.silentBoards.length === 0);
    });
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.stored', 'parcel.stored', 'parcel.picked_up']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
    expect(h.read.inFlightSessions()).toEqual([]);
  });
});
