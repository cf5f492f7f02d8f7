// The running release's side of an update, on a manual clock: after the reply it switches only
// inside the command's window and only once no door session is in flight, snapshots the
// database first, and asks for the restart; a window that closes first ends as update.failed.
// The health gate commits a release on trial after the stable window, and only then.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel/clock.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { EventRecorder } from '../../src/domain/eventRecorder.js';
import { applyLayout } from '../../src/domain/provisioning.js';
import { createIdFactory } from '../../src/ids.js';
import { silentLogger } from '../../src/logger.js';
import { seededRandom } from '../../kernel/random.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LockerStore } from '../../src/store/lockerStore.js';
import { Outbox } from '../../src/store/outbox.js';
import { beginTrial, CURRENT_LINK, currentVersion, onStart, readState, releaseDir } from '../../src/update/bootGuard.js';
import { UpdateAgent } from '../../src/update/updateAgent.js';
import { makeFakeBundle, writeFakeRelease } from '../support/fakeRelease.js';
import { waitFor } from '../support/lockerHarness.js';

const actor = { kind: 'operator' as const, id: 'operator', commandId: 'upd-cmd-1' };
const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

interface Setup {
  root: string;
  clock: ManualClock;
  db: Db;
  store: LockerStore;
  agent: UpdateAgent;
  restarts: { n: number };
  healthy: { buses: boolean; broker: boolean };
  url: string;
  digest: string;
  events(): { type: string; data: Record<string, unknown> }[];
  run(ms: number): Promise<void>;
}

async function setup(version = '0.1.0', key?: SigningKeyPair): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'lockerd-agent-'));
  const root = join(dir, 'root');
  writeFakeRelease(releaseDir(root, '0.1.0'), '0.1.0', 'ready');
  mkdirSync(join(root, 'releases'), { recursive: true });
  symlinkSync(join('releases', '0.1.0'), join(root, CURRENT_LINK));
  const releaseKey = key ?? (await generateSigningKeyPair());
  const served = join(dir, 'served');
  mkdirSync(served);
  const bundle = await makeFakeBundle(served, 'b020', '0.2.0', 'ready', releaseKey.privateKey);
  const server: Server = createServer((req, res) => {
    const file = join(served, basename(req.url ?? '/'));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 3));
  const db = openDatabase(join(dir, 'lockerd.db'));
  const store = new LockerStore(db);
  applyLayout(store, { version: 1, compartments: [{ id: 'X1', size: 'S', bus: 'bus0', board: 0, lock: 1, accessible: false, column: 1, row: 1 }] }, clock.now());
  const random = seededRandom('agent');
  const recorder = new EventRecorder(store, new Outbox(db), clock, createIdFactory(clock, random), 'boot-1', () => true);
  const restarts = { n: 0 };
  const healthy = { buses: true, broker: true };
  const agent = new UpdateAgent({
    settings: { root, releaseKeys: [releaseKey.publicJwk], allowHttpLoopback: true, maxBundleBytes: 1_000_000, readyTimeoutMs: 10_000, stableMs: 5_000, maxBoots: 3, keepSnapshots: 3 },
    clock,
    random,
    logger: silentLogger(),
    db,
    store,
    recorder,
    version,
    packageRoot: dir,
    health: () => healthy,
    requestRestart: () => restarts.n++,
  });
  cleanups.push(() => {
    agent.stop();
    server.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    root,
    clock,
    db,
    store,
    agent,
    restarts,
    healthy,
    url: `http://127.0.0.1:${port}/${basename(bundle.manifestFile)}`,
    digest: bundle.manifestDigest,
    events: () =>
      new Outbox(db)
        .rows()
        .filter((r) => r.type.startsWith('update.'))
        .sort((a, b) => a.seq - b.seq)
        .map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> })),
    // Manual time in steps, with room for the real file work (backup, rename) in between.
    run: async (ms) => {
      for (let t = 0; t < ms; t += 500) {
        await clock.advance(500);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

describe('update agent', () => {
  it('switches only inside the window and with no door session in flight, after a snapshot', async () => {
    const s = await setup();
    s.store.insertSession({ id: 'sess-1', compartmentId: 'X1', purpose: 'pickup', actor: 'consumer', context: {}, startedAt: s.clock.now() });
    const start = Math.floor(s.clock.now() / 1000) + 60;
    expect(await s.agent.update({ url: s.url, manifestDigest: s.digest, window: { start } }, actor)).toEqual({ id: 'upd-cmd-1', version: '0.2.0', from: '0.1.0', state: 'downloaded' });
    expect(s.events().map((e) => e.type)).toEqual(['update.downloaded']);
    expect(existsSync(releaseDir(s.root, '0.2.0'))).toBe(true);
    await expect(s.agent.update({ url: s.url, manifestDigest: s.digest }, actor)).rejects.toMatchObject({ code: 'UPDATE_BUSY' });

    await s.run(30_000);
    expect(currentVersion(s.root)).toBe('0.1.0');
    await s.run(60_000);
    // The window is open, but a door is in use.
    expect(currentVersion(s.root)).toBe('0.1.0');
    expect(s.restarts.n).toBe(0);
    s.store.endSession('sess-1', 'done', 'picked_up', s.clock.now());
    await s.run(2_000);
    await waitFor('the restart request', () => s.restarts.n === 1, 5_000);
    expect(currentVersion(s.root)).toBe('0.2.0');
    expect(readState(s.root).trial).toMatchObject({ id: 'upd-cmd-1', version: '0.2.0', previous: '0.1.0', boots: 0, maxBoots: 3, deadline: expect.any(Number) });
    const snapshots = readdirSync(join(s.root, 'snapshots'));
    expect(snapshots).toEqual([expect.stringMatching(/^lockerd-0\.1\.0-before-0\.2\.0-\d+\.db$/)]);
    expect(statSync(join(s.root, 'snapshots', snapshots[0] ?? '')).mode & 0o777).toBe(0o600);
  });

  it('refuses to update a release that does not run from the release root', async () => {
    const s = await setup('0.0.7');
    await expect(s.agent.update({ url: s.url, manifestDigest: s.digest }, actor)).rejects.toMatchObject({ code: 'UPDATE_NOT_CONFIGURED' });
    expect(s.events()).toEqual([]);
  });

  it('a window that closes before the switch ends as update.failed, and nothing is switched', async () => {
    const s = await setup();
    s.store.insertSession({ id: 'sess-1', compartmentId: 'X1', purpose: 'pickup', actor: 'consumer', context: {}, startedAt: s.clock.now() });
    const now = Math.floor(s.clock.now() / 1000);
    await s.agent.update({ url: s.url, manifestDigest: s.digest, window: { start: now, end: now + 30 } }, actor);
    await s.run(40_000);
    expect(currentVersion(s.root)).toBe('0.1.0');
    expect(s.restarts.n).toBe(0);
    expect(s.events().map((e) => [e.type, e.data.reason])).toEqual([
      ['update.downloaded', undefined],
      ['update.failed', 'window_passed'],
    ]);
  });

  it('on trial, commits after the stable window of health, reports applied and committed once', async () => {
    const s = await setup('0.2.0');
    writeFakeRelease(releaseDir(s.root, '0.2.0'), '0.2.0', 'ready');
    writeFakeRelease(releaseDir(s.root, '0.0.5'), '0.0.5', 'ready');
    beginTrial(s.root, { id: 'upd-9', version: '0.2.0', now: s.clock.now(), windowMs: 60_000, maxBoots: 3 });
    onStart(s.root, s.clock.now());
    await s.agent.start();
    s.healthy.broker = false;
    await s.run(10_000);
    expect(readState(s.root).trial).toBeDefined();
    s.healthy.broker = true;
    await s.run(3_000);
    // Healthy again, but not for the whole stable window yet.
    s.healthy.buses = false;
    await s.run(1_000);
    s.healthy.buses = true;
    await s.run(3_000);
    expect(readState(s.root).trial).toBeDefined();
    await s.run(4_000);
    expect(readState(s.root)).toMatchObject({ committed: '0.2.0' });
    expect(readState(s.root).trial).toBeUndefined();
    expect(s.events().map((e) => [e.type, e.data.version])).toEqual([
      ['update.applied', '0.2.0'],
      ['update.committed', '0.2.0'],
    ]);
    // The committed release and its fallback are kept, older ones removed.
    expect(readdirSync(join(s.root, 'releases')).sort()).toEqual(['0.1.0', '0.2.0']);
    await s.agent.start();
    expect(s.events()).toHaveLength(2);
  });
});
