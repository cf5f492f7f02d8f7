// The local /metrics endpoint of a running lockerd on the simulator, scraped over real HTTP:
// a deposit and a pickup show up as transactions, door openings with their latency and door
// cycles; a silent board as bus errors; the figures of the host (disk, database, memory,
// event loop) are there. Door cycles survive a restart. The listener answers nothing but
// GET /metrics with a loopback Host.
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';
import { sample } from '../support/promText.js';

async function scrape(h: LockerHarness): Promise<string> {
  const url = h.running.metrics?.url;
  if (!url) throw new Error('no metrics listener');
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** A raw request, so the Host header and method are ours to choose. */
function raw(url: string, o: { method?: string; path?: string; host?: string; body?: string }): Promise<number> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: o.method ?? 'GET', path: o.path ?? '/metrics', headers: { host: o.host ?? u.host, ...(o.body ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}) } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

describe('the /metrics endpoint', () => {
  let h: LockerHarness | undefined;
  afterEach(async () => {
    await h?.cleanup();
    h = undefined;
  });

  it('shows a deposit and a pickup: transactions, door open latency, door cycles; and the host figures', async () => {
    h = await LockerHarness.start();
    const before = await scrape(h);
    expect(sample(before, 'lockerd_transactions_total', { kind: 'deposit', outcome: 'ok' })).toBe(0);
    expect(sample(before, 'lockerd_door_open_latency_seconds_count')).toBe(0);

    const token = await h.courierLogin('swiftpost', 'courier-7');
    const stored = await h.deposit(token, 'SP-M1', 'S');
    const pickup = await h.pickup(stored.code);
    expect(pickup.status).toBe(200);
    h.take(stored.compartment);
    h.close(stored.compartment);
    await h.waitForDoor(stored.compartment, 'closed');

    const text = await scrape(h);
    expect(sample(text, 'lockerd_transactions_total', { kind: 'deposit', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'lockerd_transactions_total', { kind: 'pickup', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'lockerd_door_open_latency_seconds_count')).toBe(2);
    expect(sample(text, 'lockerd_door_open_latency_seconds_bucket', { le: '+Inf' })).toBe(2);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'open' })).toBe(2);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'unlock' })).toBe(2);
    expect(sample(text, 'lockerd_door_cycles', { compartment: 'A2', event: 'open' })).toBe(0);
    expect(sample(text, 'lockerd_bus_errors_total', { bus: 'bus0', board: '0' })).toBe(0);
    expect(sample(text, 'lockerd_board_silent', { bus: 'bus0', board: '1' })).toBe(0);
    expect(sample(text, 'lockerd_bus_connected', { bus: 'bus0' })).toBe(1);
    expect(sample(text, 'lockerd_scanner_connected')).toBe(1);
    expect(sample(text, 'lockerd_outbox_backlog', { stream: 'c/swiftpost', state: 'unsent' })).toBe(2);
    expect(sample(text, 'lockerd_disk_free_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'lockerd_database_bytes')).toBeGreaterThan(0);
    expect(sample(text, 'lockerd_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(sample(text, 'lockerd_event_loop_delay_seconds', { quantile: '0.99' })).toBeGreaterThanOrEqual(0);
    // No broker in this scenario: no MQTT figures rather than a misleading 0.
    expect(sample(text, 'lockerd_mqtt_connected')).toBeUndefined();
  });

  it('counts scanner reads and, per board, the bus errors of a board that goes silent', async () => {
    h = await LockerHarness.start();
    const world = h.world;
    world.scan('SP-SCAN-1');
    await waitFor('the scan counted', async () => sample(await scrape(h as LockerHarness), 'lockerd_scanner_reads_total', { result: 'ok' }) === 1);
    world.setBoardSilent('bus0', 1, true);
    const text = await waitFor('board 1 silent', async () => {
      const t = await scrape(h as LockerHarness);
      return sample(t, 'lockerd_board_silent', { bus: 'bus0', board: '1' }) === 1 ? t : undefined;
    });
    expect(sample(text, 'lockerd_bus_errors_total', { bus: 'bus0', board: '1' })).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'lockerd_bus_errors_total', { bus: 'bus0', board: '0' })).toBe(0);
  });

  it('keeps the door cycles across a restart', async () => {
    h = await LockerHarness.start();
    const token = await h.courierLogin();
    const stored = await h.deposit(token, 'SP-M2', 'S');
    expect((await h.pickup(stored.code)).status).toBe(200);
    h.take(stored.compartment);
    h.close(stored.compartment);
    await h.waitForDoor(stored.compartment, 'closed');

    h = await h.restart();
    const text = await scrape(h);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'open' })).toBe(2);
    expect(sample(text, 'lockerd_door_cycles', { compartment: stored.compartment, event: 'unlock' })).toBe(2);
    // Transactions count since start; the cycles since installation.
    expect(sample(text, 'lockerd_transactions_total', { kind: 'pickup', outcome: 'ok' })).toBe(0);
    const row = h.running.db.prepare<[string], { opens: number; unlocks: number }>('SELECT opens, unlocks FROM door_cycles WHERE compartment_id = ?').get(stored.compartment);
    expect(row).toEqual({ opens: 2, unlocks: 2 });
  });

  it('answers only GET /metrics with a loopback Host, on loopback', async () => {
    h = await LockerHarness.start();
    const url = h.running.metrics?.url ?? '';
    expect(new URL(url).hostname).toBe('127.0.0.1');
    expect(url).not.toBe(h.url);
    expect(await raw(url, {})).toBe(200);
    expect(await raw(url, { host: `localhost:${new URL(url).port}` })).toBe(200);
    expect(await raw(url, { method: 'POST', body: 'x=1' })).toBe(405);
    expect(await raw(url, { method: 'DELETE' })).toBe(405);
    expect(await raw(url, { path: '/api/health' })).toBe(404);
    expect(await raw(url, { path: '/metrics/../api' })).toBe(404);
    // A page in the kiosk browser that rebinds a name to 127.0.0.1 sends its own name as Host.
    expect(await raw(url, { host: 'attacker.example' })).toBe(403);
    expect(await raw(url, { host: 'attacker.example:9464' })).toBe(403);
    // The kiosk server does not serve the metrics.
    expect((await fetch(`${h.url}/metrics`)).status).toBe(404);
  });

  it('a metrics port in use leaves the locker running without the listener', async () => {
    const squatter = createServer((_req, res) => res.end('not lockerd'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    try {
      const port = (squatter.address() as AddressInfo).port;
      h = await LockerHarness.start({ overrides: { metrics: { port } } });
      expect(h.running.metrics.url).toBeUndefined();
      expect((await h.api('GET', '/api/health')).status).toBe(200);
      // The health report still works.
      expect(await h.running.metrics.health.report()).toBe('appended');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });
});
