// Issue 9, finding 1, on a real tty: lockerd (a child process, real @serialport/bindings-cpp)
// opens one end of a socat pty pair; a simulated CU48 bus answers on the other. The moment the
// board end receives the unlock frame, socat is killed (the ttys vanish like an unplugged USB
// adapter); the latch releases anyway. The line stays down past the open timeout and its
// retry, then socat comes back on the same links. The deposit must come back open (the session
// that energised the door still owns it), store the parcel on close, and raise neither a jam
// nor a forced door.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { type SerialBusConfig } from '../../src/config/schema.js';
import { SimBus, simPositions } from '../../sim/boards/simBus.js';
import { PtyBoardBridge } from '../../sim/serial/ptyBoardBridge.js';
import { SimWorld } from '../../sim/world.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { apiCall, type ApiReply } from '../support/kioskClient.js';
import { openDbReadOnly } from '../support/lockerHarness.js';
import { waitFor } from '../support/polling.js';
import { type SocatPtyPair, startSocatPtyPair } from '../support/socatPtyPair.js';

const clock = new SystemClock();
let dir: string;
let dataDir: string;
let pty: SocatPtyPair;
let child: ChildProcess;
let world: SimWorld;
let simBus: SimBus;
let bridge: PtyBoardBridge;
let url = '';
let courierBadge = '';
let out = '';

/** The kiosk API of the child lockerd (its url is known once it is ready). */
const api = (method: string, path: string, body?: unknown, token?: string): Promise<ApiReply<Record<string, unknown>>> => apiCall(url, method, path, body, token);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockerd-linecut-'));
  dataDir = join(dir, 'data');
  pty = await startSocatPtyPair({ dir });
  const demo = await makeDemoLocker(dataDir, { doors: { openTimeoutMs: 400, leftOpenAlarmMs: 60_000, jamRetries: 1, transportReturnTimeoutMs: 20_000 } });
  const simBusConfig = demo.config.hardware.buses[0] as SerialBusConfig;
  const busConfig: SerialBusConfig = { ...simBusConfig, transport: { kind: 'serial', path: pty.a, baudRate: 19200 }, reconnectMinMs: 50, reconnectMaxMs: 200 };
  world = new SimWorld(clock, simPositions(busConfig));
  simBus = new SimBus({ config: busConfig, world, clock });
  bridge = new PtyBoardBridge({ path: pty.b, device: simBus, baudRate: 19200 });
  await bridge.start();

  const { scanner: _scanner, ...hardware } = demo.config.hardware;
  const config = { ...demo.config, hardware: { ...hardware, buses: [busConfig] } };
  const file = join(dir, 'lockerd.json');
  await writeFile(file, JSON.stringify(config));
  courierBadge = await demo.mintCourierBadge('swiftpost', 'c-88');
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/lockerd.ts', 'start', '--config', file, '--sim', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  url = await waitFor('lockerd to be ready', () => /kiosk:\s+(http:\/\/\S+?)\/\s/.exec(out)?.[1], 30_000);
});

afterAll(async () => {
  child?.kill('SIGTERM');
  await new Promise((r) => (child && child.exitCode === null ? child.once('exit', r) : r(undefined)));
  await bridge?.stop();
  await pty?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the line cut right after an unlock frame, on a real pty', { timeout: 60_000 }, () => {
  it('the deposit survives: open when the line returns, stored on close, no jam, no forced door', async () => {
    const login = await api('POST', '/api/courier/login', { badge: courierBadge });
    const token = String(login.body.token);

    // Cut the line the moment the board end has the unlock frame (CU48 command byte 0x51).
    let cut: Promise<void> | undefined;
    let seen: number[] = [];
    const isUnlock = (b: number[], i: number): boolean => b[i] === 0x02 && b[i + 3] === 0x51 && b[i + 4] === 0x03;
    const off = simBus.onTraffic((t) => {
      if (cut || t.direction !== 'host') return;
      seen = [...seen, ...t.bytes].slice(-64);
      if (!seen.some((_, i) => isUnlock(seen, i))) return;
      cut = bridge.stop().then(() => pty.stop());
    });
    const pending = api('POST', '/api/courier/deposits', { waybill: 'CUT-0001', size: 'M' }, token);
    await waitFor('the line cut after the unlock frame', () => (cut ? true : undefined), 15_000);
    await cut;
    off();
    await waitFor('the latch to release while the line is down', () => world.allLocks().find((l) => l.doorOpen), 15_000);
    // Down past the open timeout (400 ms) and its retry: the retry finds no line.
    await new Promise((r) => setTimeout(r, 1_200));

    pty = await startSocatPtyPair({ dir });
    bridge = new PtyBoardBridge({ path: pty.b, device: simBus, baudRate: 19200 });
    await bridge.start();

    const dep = await pending;
    expect(dep.status).toBe(200);
    const deposit = dep.body.deposit as { id: string; state: string; compartment: { id: string } };
    expect(deposit.state).toBe('open');
    const door = world.allLocks().find((l) => l.doorOpen);
    expect(door).toBeDefined();
    if (!door) return;
    world.putParcel(door.position);
    world.closeDoor(door.position);
    await waitFor('the deposit to be stored', async () => {
      const v = await api('GET', `/api/courier/deposits/${deposit.id}`, undefined, token);
      return (v.body.deposit as { state: string }).state === 'stored' ? true : undefined;
    }, 15_000);

    const db = openDbReadOnly(dataDir);
    try {
      const ops = db.read.outbox('op').map((e) => e.type);
      expect(ops).toContain('alarm.bus_disconnected');
      expect(ops).not.toContain('alarm.door_forced_open');
      expect(ops).not.toContain('alarm.latch_jammed');
      expect(db.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored']);
    } finally {
      db.close();
    }
  });
});
