// Attack (issue 7, finding 2): anything on the controller reads /api/events, which needs no
// login, while couriers, operators and consumers scan at the kiosk; it replays what it saw (a
// badge, a session token, a pickup code) to log in or open a door. The public stream must carry
// only what a passer-by sees on the screen; scan results go to the paired kiosk terminal only.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/lockerHarness.js';
import { KioskUnderAttack } from './support/kioskUnderAttack.js';

let k: KioskUnderAttack | undefined;
afterEach(async () => {
  await k?.stop();
  k = undefined;
});

function position(k: KioskUnderAttack, id: string): { bus: string; board: number; lock: number } {
  const c = k.running.config.layout.compartments.find((x) => x.id === id);
  if (!c) throw new Error(`no ${id}`);
  return { bus: c.bus, board: c.board, lock: c.lock };
}

/** Stores a parcel through the courier API and returns its (demo-revealed) pickup code. */
async function storeParcel(k: KioskUnderAttack, waybill: string): Promise<{ code: string; compartment: string }> {
  const login = await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-store') });
  const token = String(login.json['token']);
  const dep = await k.json('POST', '/api/courier/deposits', { waybill, size: 'S' }, token);
  const d = dep.json['deposit'] as { id: string; compartment: { id: string } };
  const world = k.running.world;
  if (!world) throw new Error('no simulator');
  world.putParcel(position(k, d.compartment.id));
  world.closeDoor(position(k, d.compartment.id));
  const code = await waitFor('the revealed code', async () => {
    const v = await k?.json('GET', `/api/courier/deposits/${d.id}`, undefined, token);
    const dv = v?.json['deposit'] as { state: string; pickupCode?: string } | undefined;
    return dv?.state === 'stored' ? dv.pickupCode : undefined;
  });
  await k.json('POST', '/api/courier/logout', {}, token);
  return { code, compartment: d.compartment.id };
}

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

describe('scans and the public event stream', () => {
  it('a sniffer on the public stream sees no badge, token or code, and can do nothing with what it saw', async () => {
    k = await KioskUnderAttack.start();
    const world = k.running.world;
    if (!world) throw new Error('no simulator');
    const parcel = await storeParcel(k, 'SP-SNIFF-1');

    const sniffer = await k.stream();
    expect(sniffer.status).toBe(200);
    const cookie = await k.pair();
    const terminal = await k.stream(cookie);
    expect(terminal.status).toBe(200);
    const screen = (s: string, token?: string): Promise<unknown> => k!.json('POST', '/api/kiosk/screen', { screen: s }, token, { cookie });
    expect(((await screen('home')) as { status: number }).status).toBe(200);

    const courierBadge = await k.demo.mintCourierBadge('swiftpost', 'c-sniffed');
    world.scan(courierBadge);
    const courier = await terminal.waitFor('courier login result', (e) => e['type'] === 'scan-result' && e['action'] === 'login' && e['state'] === 'ok');
    expect(courier['role']).toBe('courier');
    const courierToken = String(courier['token']);
    expect((await k.json('GET', '/api/courier/me', undefined, courierToken)).status).toBe(200);

    await screen('home');
    const operatorBadge = await k.demo.mintOperatorBadge('ops-sniffed');
    world.scan(operatorBadge);
    const op = await terminal.waitFor('operator login result', (e) => e['type'] === 'scan-result' && e['action'] === 'login' && e['state'] === 'ok' && e['role'] === 'operator');
    const operatorToken = String(op['token']);
    expect((await k.json('GET', '/api/operator/compartments', undefined, operatorToken)).status).toBe(200);

    await screen('home');
    world.scan(`https://swiftpost.example/locker?code=${parcel.code}`);
    const opened = await terminal.waitFor('pickup result', (e) => e['type'] === 'scan-result' && e['action'] === 'pickup' && e['state'] === 'ok');
    expect((opened['opened'] as { compartment: { id: string } }).compartment.id).toBe(parcel.compartment);
    await sniffer.waitFor('the door seen open', (e) => e['type'] === 'door' && e['compartment'] === parcel.compartment && e['door'] === 'open');
    world.closeDoor(position(k, parcel.compartment));
    await sniffer.waitFor('the door seen closed', (e) => e['type'] === 'door' && e['compartment'] === parcel.compartment && e['door'] === 'closed');

    // What the sniffer got: door and compartment states, nothing else.
    for (const secret of [courierBadge, operatorBadge, parcel.code, courierToken, operatorToken]) expect(sniffer.text).not.toContain(secret);
    expect(sniffer.text).not.toContain('c-sniffed');
    expect(sniffer.text).not.toContain('ops-sniffed');
    const types = new Set(sniffer.events.map((e) => String(e['type'])));
    for (const t of types) expect(['door', 'compartment', 'scanner', 'lockout', 'terminal']).toContain(t);
    for (const e of sniffer.events) {
      expect(e).not.toHaveProperty('sessionId');
      expect(e).not.toHaveProperty('text');
    }

    // ... and none of it logs in or opens anything.
    const seen = [...new Set(strings(sniffer.events))];
    for (const s of seen) {
      expect((await k.json('GET', '/api/operator/compartments', undefined, s)).status).toBe(401);
      expect((await k.json('GET', '/api/courier/me', undefined, s)).status).toBe(401);
      expect((await k.json('POST', '/api/operator/login', { badge: s })).status).not.toBe(200);
    }
    sniffer.close();
    terminal.close();
  });

  it('a drop-off leaves no drop-off id, deposit id or session id on the public stream', async () => {
    k = await KioskUnderAttack.start();
    const sniffer = await k.stream();
    const { code } = await k.announce('swiftpost', { waybill: 'SP-DO-SNIFF', size: 'M', kind: 'dropoff' });
    const r = await k.json('POST', '/api/dropoff', { code });
    expect(r.status).toBe(200);
    const id = String(r.json['dropoffId']);
    await sniffer.waitFor('the drop-off door open', (e) => e['type'] === 'door' && e['door'] === 'open');
    expect(sniffer.text).not.toContain(id);
    expect(sniffer.text).not.toContain(String((r.json['deposit'] as { sessionId?: string }).sessionId ?? 'no-session-id'));
    for (const e of sniffer.events) expect(['door', 'compartment', 'scanner', 'lockout', 'terminal']).toContain(String(e['type']));
    sniffer.close();
  });

  it('outside --sim only the holder of the terminal key pairs, and only a paired terminal gets scan results', async () => {
    k = await KioskUnderAttack.start({ sim: false, overrides: { demo: { revealCodes: false } } });
    const file = join(k.running.config.dataDir, 'kiosk-terminal.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const key = (await readFile(file, 'utf8')).trim();
    expect(key.length).toBeGreaterThanOrEqual(43);

    const none = await k.json('POST', '/api/kiosk/pair', {});
    expect(none.status).toBe(401);
    expect(none.json.error?.code).toBe('TERMINAL_KEY_INVALID');
    const wrong = await k.json('POST', '/api/kiosk/pair', { key: key.replace(/^./, key.startsWith('A') ? 'B' : 'A') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await k.json('POST', '/api/kiosk/screen', { screen: 'home' })).status).toBe(401);

    const ok = await k.json('POST', '/api/kiosk/pair', { key });
    expect(ok.status).toBe(200);
    const setCookie = String(([] as string[]).concat(ok.headers['set-cookie'] ?? [])[0]);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(ok.text).not.toContain(key);
    const cookie = setCookie.split(';')[0] ?? '';
    expect((await k.json('POST', '/api/kiosk/screen', { screen: 'home' }, undefined, { cookie })).status).toBe(200);

    // Waybills go only to the courier session that shows the deposit screen.
    const world = k.running.world;
    if (!world) throw new Error('no simulator');
    const terminal = await k.stream(cookie);
    const sniffer = await k.stream();
    const login = await k.json('POST', '/api/courier/login', { badge: await k.demo.mintCourierBadge('swiftpost', 'c-wb') });
    const token = String(login.json['token']);
    expect((await k.json('POST', '/api/kiosk/screen', { screen: 'waybill' }, undefined, { cookie })).status).toBe(401);
    expect((await k.json('POST', '/api/kiosk/screen', { screen: 'waybill' }, token, { cookie })).status).toBe(200);
    world.scan('SP-WAYBILL-77');
    const wb = await terminal.waitFor('the waybill', (e) => e['type'] === 'scan-result' && e['action'] === 'waybill');
    expect(wb['waybill']).toBe('SP-WAYBILL-77');
    expect(sniffer.text).not.toContain('SP-WAYBILL-77');
    terminal.close();
    sniffer.close();
  });

  it('a pairing pushed out by newer ones loses its private stream', async () => {
    k = await KioskUnderAttack.start({ limits: { terminalPairings: 2 } });
    const old = await k.pair();
    const stream = await k.stream(old);
    await stream.waitFor('paired', (e) => e['type'] === 'terminal' && e['paired'] === true);
    await k.pair();
    await k.pair();
    await waitFor('the old stream ended', () => k!.running.kiosk.stats().privateStreams === 0);
    expect((await k.json('POST', '/api/kiosk/screen', { screen: 'home' }, undefined, { cookie: old })).status).toBe(401);
    stream.close();
  });
});
