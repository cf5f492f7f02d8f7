// The whole process in production mode: lockerd (a child process, real @serialport/bindings-cpp)
// opens one end of a real pseudo-terminal pair made by socat; a simulated Kerong CU48 bus answers
// on the other end, from this test process. A courier deposits and a consumer collects over
// the local API, and every frame crosses a real tty.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { type CompartmentConfig, type SerialBusConfig } from '../../src/config/schema.js';
import { SimBus, simPositions } from '../../sim/boards/simBus.js';
import { PtyBoardBridge } from '../../sim/serial/ptyBoardBridge.js';
import { SimWorld } from '../../sim/world.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { startSocatPty, type SocatPty } from '../support/socatPty.js';

const clock = new SystemClock();
let pty: SocatPty;
let dir: string;
let child: ChildProcess;
let world: SimWorld;
let bridge: PtyBoardBridge;
let url = '';
let courierBadge = '';
let layout: CompartmentConfig[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockerd-whole-'));
  pty = await startSocatPty();
  const demo = await makeDemoLocker(join(dir, 'data'));
  layout = demo.config.layout.compartments;
  const simBusConfig = demo.config.hardware.buses[0] as SerialBusConfig;
  const busConfig: SerialBusConfig = { ...simBusConfig, transport: { kind: 'serial', path: pty.a, baudRate: 19200 } };
  // The boards: a simulated CU48 bus on the far end of the pty, in this process.
  world = new SimWorld(clock, simPositions(busConfig));
  bridge = new PtyBoardBridge({ path: pty.b, device: new SimBus({ config: busConfig, world, clock }), baudRate: 19200 });
  await bridge.start();

  const { scanner: _scanner, ...hardware } = demo.config.hardware;
  const config = { ...demo.config, hardware: { ...hardware, buses: [busConfig] } };
  const file = join(dir, 'lockerd.json');
  await writeFile(file, JSON.stringify(config));
  courierBadge = await demo.mintCourierBadge('swiftpost', 'c-77');

  // --sim because the test reads the revealed pickup code, a demo setting lockerd refuses without
  // it; the bus is still the real serial driver on the pty (no simulated transport in the file).
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/lockerd.ts', 'start', '--config', file, '--sim', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  url = await waitFor('lockerd to be ready', () => /kiosk:\s+(http:\/\/\S+?)\/\s/.exec(out)?.[1], 30_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\n${out}`);
  });
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await new Promise((r) => (child && child.exitCode === null ? child.once('exit', r) : r(undefined)));
  await bridge?.stop();
  await pty?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('lockerd in production mode over a real pty', () => {
  it('reports the bus connected and the boards answering', async () => {
    const h = await api('GET', '/api/health');
    expect(h.status).toBe(200);
    expect(h.json.buses).toEqual([{ id: 'bus0', connected: true, silentBoards: [] }]);
    expect(h.json.scanner).toBe('absent');
  });

  it('deposits and collects a parcel with every frame crossing the tty', async () => {
    const login = await api('POST', '/api/courier/login', { badge: courierBadge });
    expect(login.status).toBe(200);
    const token = String(login.json.token);

    const dep = await api('POST', '/api/courier/deposits', { waybill: 'PTY-0001', size: 'M' }, token);
    expect(dep.status).toBe(200);
    const deposit = dep.json.deposit as { id: string; state: string; compartment: { id: string } };
    expect(deposit.state).toBe('open');
    const c = demoPosition(deposit.compartment.id);
    // The unlock frame went over the pty: the simulated latch released.
    expect(world.lock(c).doorOpen).toBe(true);

    world.putParcel(c);
    world.closeDoor(c);
    const stored = await waitFor('the deposit to be stored', async () => {
      const v = await api('GET', `/api/courier/deposits/${deposit.id}`, undefined, token);
      const d = v.json.deposit as { state: string; pickupCode?: string };
      return d.state === 'stored' ? d : undefined;
    });
    expect(stored.pickupCode).toMatch(/^[0-9]{8}$/);

    const pickup = await api('POST', '/api/pickup', { code: stored.pickupCode });
    expect(pickup.status).toBe(200);
    expect((pickup.json.compartment as { id: string }).id).toBe(deposit.compartment.id);
    expect(world.lock(c).doorOpen).toBe(true);
  });

  it('notices a board that goes silent on the real line and its return', async () => {
    world.setBoardSilent('bus0', 1, true);
    await waitFor('board 1 to be reported silent', async () => {
      const h = await api('GET', '/api/health');
      return (h.json.buses as { silentBoards: number[] }[])[0]?.silentBoards.includes(1) ? true : undefined;
    });
    world.setBoardSilent('bus0', 1, false);
    await waitFor('board 1 to answer again', async () => {
      const h = await api('GET', '/api/health');
      return (h.json.buses as { silentBoards: number[] }[])[0]?.silentBoards.length === 0 ? true : undefined;
    });
  });
});

function demoPosition(compartmentId: string): { bus: string; board: number; lock: number } {
  const c = layout.find((x) => x.id === compartmentId);
  if (!c) throw new Error(`no compartment ${compartmentId} in the layout`);
  return { bus: c.bus, board: c.board, lock: c.lock };
}
