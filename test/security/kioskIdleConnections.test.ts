// Attack (issue 10, item 3: every buffer and hold bounded): a local process opens connections to
// the kiosk and then sends nothing. Node's headersTimeout and requestTimeout only start once a
// request has begun, so a silent connection was held for ever: maxConnections of them kept the
// kiosk page itself out. They now end after idleSocketTimeoutMs; event streams, which the
// server writes to and the count and buffer bounds already cover, are not cut by it.
// The bound is made small for the test; each case waits for an outcome, not for a duration.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/lockerHarness.js';
import { KioskUnderAttack } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await k?.stop();
  k = undefined;
});

function silent(port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, closed }));
  });
}

describe('kiosk idle connections', () => {
  it('ends a connection that never sends a request, so silent sockets cannot hold every slot', async () => {
    k = await KioskUnderAttack.start({ limits: { maxConnections: 3, idleSocketTimeoutMs: 300 } });
    const held = await Promise.all([silent(k.port), silent(k.port), silent(k.port)]);
    await waitFor('three connections counted', () => k!.running.kiosk.stats().connections === 3);
    // Each silent socket is closed by the server (the test fails by its own timeout otherwise).
    await Promise.all(held.map((h) => h.closed));
    await waitFor('the slots are free again', () => k!.running.kiosk.stats().connections === 0);
    expect((await k.json('GET', '/api/info')).status).toBe(200);
    expect(k.running.kiosk.stats().bounds.idleSocketTimeoutMs).toBe(300);
  }, 15_000);

  it('keeps an event stream open past the idle bound', async () => {
    k = await KioskUnderAttack.start({ limits: { idleSocketTimeoutMs: 200 } });
    const stream = await k.stream();
    expect(stream.status).toBe(200);
    // A silent socket opened after the stream is closed by the bound: by then the stream has
    // been quiet for longer than the bound too, and must still be open.
    const probe = await silent(k.port);
    await probe.closed;
    await new Promise((r) => setTimeout(r, 250));
    expect(k.running.kiosk.stats().publicStreams).toBe(1);
    k.running.kiosk.push({ type: 'scanner', connected: false });
    await waitFor('the event reached the stream', () => stream.text.includes('"connected":false'));
    stream.close();
  }, 15_000);

  it('refuses a non-positive idle bound as a configuration error', async () => {
    await expect(KioskUnderAttack.start({ limits: { idleSocketTimeoutMs: 0 } })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
