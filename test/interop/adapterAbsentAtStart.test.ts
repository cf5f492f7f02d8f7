// Issue 9, finding 2: no adapter at start. A real lockerd (child process, native serialport)
// is started on a serial path that does not exist. It must stay up degraded, say so on
// /api/health, raise one alarm.bus_disconnected per outage (not per start, across a restart),
// and connect as soon as the device path appears (a socat pty linked there, the board simulator
// behind it) instead of waiting out its backoff, which this config sets far beyond the test's
// wait.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { type SerialBusConfig } from '../../src/config/schema.js';
import { SimBus, simPositions } from '../../sim/boards/simBus.js';
import { PtyBoardBridge } from '../../sim/serial/ptyBoardBridge.js';
import { SimWorld } from '../../sim/world.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { waitFor } from '../support/polling.js';
import { startSocatPtyPair, type SocatPtyPair } from '../support/socatPtyPair.js';

const clock = new SystemClock();
let dir: string;
let devDir: string;
let dataDir: string;
let configFile: string;
let busConfig: SerialBusConfig;
let pair: SocatPtyPair | undefined;
let bridge: PtyBoardBridge | undefined;
let child: { process: ChildProcess; url: string; output: () => string } | undefined;

async function startChild(): Promise<{ process: ChildProcess; url: string; output: () => string }> {
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/lockerd.ts', 'start', '--config', configFile, '--sim', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (b: Buffer) => (out += b.toString()));
  p.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const url = await waitFor(
    'lockerd to be ready',
    () => {
      if (p.exitCode !== null) throw new Error(`lockerd exited with ${p.exitCode}: ${out}`);
      return /kiosk:\s+(http:\/\/\S+?)\/\s/.exec(out)?.[1];
    },
    30_000,
    50,
  );
  return { process: p, url, output: () => out };
}

async function stopChild(): Promise<void> {
  const c = child;
  child = undefined;
  if (!c || c.process.exitCode !== null) return;
  const exited = new Promise((r) => c.process.once('exit', r));
  c.process.kill('SIGTERM');
  await exited;
}

async function health(): Promise<{ status: number; body: { ok: boolean; faults?: unknown[]; buses?: unknown[] } }> {
  if (!child) throw new Error('no lockerd');
  const r = await fetch(`${child.url}/api/health`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; faults?: unknown[]; buses?: unknown[] } };
}

function alarms(action: string): number {
  const db = new Database(join(dataDir, 'lockerd.db'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM audit WHERE action = ?').get(action) as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lockerd-noadapter-'));
  devDir = join(dir, 'dev');
  await mkdir(devDir);
  dataDir = join(dir, 'data');
  const demo = await makeDemoLocker(dataDir);
  const simBus = demo.config.hardware.buses[0] as SerialBusConfig;
  // The backoff alone would wait at least 60 s: only the watched path can connect it sooner.
  busConfig = { ...simBus, transport: { kind: 'serial', path: join(devDir, 'ttyUSB-locker'), baudRate: 19200 }, reconnectMinMs: 120_000, reconnectMaxMs: 120_000 };
  const { scanner: _scanner, ...hardware } = demo.config.hardware;
  configFile = join(dir, 'lockerd.json');
  await writeFile(configFile, JSON.stringify({ ...demo.config, hardware: { ...hardware, buses: [busConfig] } }));
});

afterAll(async () => {
  await stopChild();
  await bridge?.stop();
  await pair?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('lockerd started without its serial adapter', () => {
  it('stays up degraded and health names the bus fault', async () => {
    child = await startChild();
    const h = await health();
    expect(h.status).toBe(503);
    expect(h.body.ok).toBe(false);
    expect(h.body.faults).toContainEqual({ code: 'BUS_DISCONNECTED', bus: 'bus0' });
    expect(child.process.exitCode).toBeNull();
    expect(alarms('alarm.bus_disconnected')).toBe(1);
  });

  it('a restart during the outage raises no second alarm', async () => {
    await stopChild();
    child = await startChild();
    const h = await health();
    expect(h.body.faults).toContainEqual({ code: 'BUS_DISCONNECTED', bus: 'bus0' });
    expect(alarms('alarm.bus_disconnected')).toBe(1);
  });

  it('connects when the device path appears, without waiting out the backoff', async () => {
    // The adapter is plugged in: a pty linked at the configured path, the boards behind it.
    pair = await startSocatPtyPair({ dir: devDir, aName: 'ttyUSB-locker', bName: 'boards' });
    const world = new SimWorld(clock, simPositions(busConfig));
    bridge = new PtyBoardBridge({ path: pair.b, device: new SimBus({ config: busConfig, world, clock }), baudRate: 19200 });
    await bridge.start();
    await waitFor('the bus to connect', async () => (await health()).body.ok || undefined, 20_000, 100).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${child?.output() ?? ''}`);
    });
    const h = await health();
    expect(h.status).toBe(200);
    expect(h.body.faults).toEqual([]);
    expect(alarms('alarm.bus_disconnected')).toBe(1);
    expect(alarms('alarm.bus_reconnected')).toBe(1);
  });
});
