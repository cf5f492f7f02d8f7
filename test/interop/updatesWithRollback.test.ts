// Signed updates end to end, with real processes: lockerd (release 0.1.0, run from this source)
// under a supervisor script that stands in for systemd (test/support/updateSupervisor.ts),
// a real Mosquitto, and a real HTTP server serving bundles. The operator sends signed `update`
// commands over MQTT and watches the operator stream:
//   - a tampered bundle, a wrong signature, a wrong architecture, an older version, a schema
//     range that excludes the database and a manifest other than the one named are refused with
//     their codes, and nothing is switched;
//   - a release that crashes at start, and one that never gets ready, are rolled back to 0.1.0
//     automatically (update.rolled_back with the reason); the first download is cut off half way
//     and resumed with a Range request;
//   - a real bundle built with `lockerctl release` (0.3.0) is switched to, survives a kill -9
//     right after it became ready, and commits (update.applied, update.committed), with the
//     database snapshot taken before the switch.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockerctl } from '../../src/cli/lockerctl.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { keygen, loadSigningKey, type LoadedSigningKey } from '../../src/cli/lockerctl/keyFiles.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import type { SignedCommandReply } from '../../src/sync/commandReply.js';
import { SystemClock } from '../../kernel/clock.js';
import { createIdFactory } from '../../src/ids.js';
import { packageRoot } from '../../src/packageRoot.js';
import { cryptoRandom } from '../../kernel/random.js';
import { operatorTenant } from '../../src/sync/topics.js';
import { CURRENT_LINK, currentVersion, readState, releaseDir, RELEASE_ENTRY } from '../../src/update/bootGuard.js';
import { makeFakeBundle, type FakeBundle } from '../support/fakeRelease.js';
import { fastDemoHardware, fastDoors, waitFor } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { fastMqtt } from '../support/runtimeOverMqtt.js';

const LOCKER = 'locker-u1';
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator' };
const require = createRequire(import.meta.url);
const clock = new SystemClock();
const ids = createIdFactory(clock, cryptoRandom());

interface SupervisorLine {
  ev: string;
  version?: string;
  pid?: number;
  reason?: string;
  line?: string;
  action?: string;
}

interface OperatorEvent {
  type: string;
  data: Record<string, unknown>;
}

/** Serves files of one folder, with Range requests; the first full GET of a name in cutOnce breaks off half way. */
function fileServer(dir: string, cutOnce: Set<string>, log: { path: string; range: string | undefined }[]): Server {
  return createServer((req, res) => {
    const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
    log.push({ path: name, range: req.headers.range });
    const file = join(dir, name);
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const bytes = readFileSync(file);
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const from = Number(range[1]);
      res.writeHead(206, { 'content-length': bytes.length - from, 'content-range': `bytes ${from}-${bytes.length - 1}/${bytes.length}` });
      res.end(bytes.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': bytes.length });
    if (cutOnce.delete(name)) {
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.end());
      return;
    }
    res.end(bytes);
  });
}

describe('signed updates with automatic rollback, under a supervisor', () => {
  let dir: string;
  let root: string;
  let served: string;
  let httpUrl: string;
  let server: Server;
  let broker: MosquittoBroker;
  let operator: MqttClient;
  let opKey: LoadedSigningKey;
  let releaseKeyFile: string;
  let releaseKey: LoadedSigningKey;
  let evilKey: LoadedSigningKey;
  let supervisor: ChildProcess;
  let build: Promise<void>;
  let buildDir: string;
  const sup: SupervisorLine[] = [];
  const events: OperatorEvent[] = [];
  const httpLog: { path: string; range: string | undefined }[] = [];
  const cutOnce = new Set<string>();

  /** waitFor, with what the supervisor said when it times out. */
  const until = async (what: string, probe: () => boolean, timeoutMs: number): Promise<void> => {
    try {
      await waitFor(what, probe, timeoutMs);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nsupervisor:\n${sup.slice(-40).map((l) => JSON.stringify(l)).join('\n')}\nevents: ${JSON.stringify(events)}`);
    }
  };
  const readyCount = (version: string): number => sup.filter((l) => l.ev === 'ready' && l.version === version).length;
  const event = (type: string, version: string): OperatorEvent | undefined => events.find((e) => e.type === type && e.data.version === version);

  async function update(bundle: Pick<FakeBundle, 'manifestFile' | 'manifestDigest'>, overrides: Record<string, unknown> = {}): Promise<SignedCommandReply> {
    const command = await signCommand({
      key: opKey.key,
      kid: opKey.kid,
      issuer: 'operator',
      locker: LOCKER,
      cmd: 'update',
      args: { url: `${httpUrl}/${basename(bundle.manifestFile)}`, manifestDigest: bundle.manifestDigest, ...overrides },
      ttlS: 600,
      clock,
      ids,
    });
    return sendCommand({ client: operator, clock, tenant: operatorTenant, locker: LOCKER, command, timeoutMs: 90_000, retryMs: 20_000 });
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-updates-'));
    root = join(dir, 'opt-lockerd');
    served = join(dir, 'served');
    buildDir = join(dir, 'build');
    await mkdir(served, { recursive: true });
    // The real release is compiled meanwhile (the one slow step), into its own folder.
    build = new Promise<void>((resolve, reject) => {
      const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(packageRoot(), 'tsconfig.build.json'), '--outDir', join(buildDir, 'dist')], { stdio: 'inherit' });
      tsc.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited ${code}`))));
    });
    build.catch(() => undefined);

    const keys = join(dir, 'keys');
    const op = await keygen(keys, 'operator');
    opKey = await loadSigningKey(op.signingKeyFile);
    const rel = await keygen(keys, 'release');
    releaseKeyFile = rel.signingKeyFile;
    releaseKey = await loadSigningKey(rel.signingKeyFile);
    evilKey = await loadSigningKey((await keygen(keys, 'evil')).signingKeyFile);

    broker = await MosquittoBroker.start({ users });
    server = fileServer(served, cutOnce, httpLog);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    httpUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

    // Release 0.1.0: this source tree, started through a small entry that loads it with tsx.
    const v010 = releaseDir(root, '0.1.0');
    await mkdir(join(v010, 'dist', 'src', 'cli'), { recursive: true });
    await writeFile(join(v010, 'package.json'), JSON.stringify({ name: 'lockerd', version: '0.1.0', type: 'module' }));
    const tsxApi = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
    const entry = pathToFileURL(join(packageRoot(), 'src', 'cli', 'lockerd.ts')).href;
    await writeFile(join(v010, RELEASE_ENTRY), `import { register } from '${tsxApi}';\nregister();\nawait import('${entry}');\n`);
    await symlink(join('releases', '0.1.0'), join(root, CURRENT_LINK));

    const config = join(dir, 'lockerd.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 1,
        locker: { id: LOCKER },
        dataDir: join(dir, 'data'),
        logLevel: 'warn',
        hardware: fastDemoHardware(),
        layout: { version: 1, compartments: [{ id: 'X1', size: 'S', bus: 'bus0', board: 0, lock: 1 }] },
        operator: { id: 'operator', signingKeys: [op.publicKeys.signingKey] },
        kiosk: { port: 0 },
        doors: fastDoors,
        mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER]),
        updates: { root, releaseKeys: [rel.publicKeys.signingKey], allowHttpLoopback: true, readyTimeoutMs: 20_000, stableMs: 1_500, maxBoots: 3 },
      }),
    );

    operator = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    operator.on('message', (topic, payload) => {
      if (!topic.endsWith('/evt')) return;
      const e = JSON.parse(payload.toString('utf8')) as OperatorEvent;
      if (e.type.startsWith('update.')) events.push({ type: e.type, data: e.data });
    });
    await operator.subscribeAsync(`lk/v1/op/l/${LOCKER}/evt`, { qos: 1 });

    supervisor = spawn(process.execPath, ['--import', 'tsx', join(packageRoot(), 'test', 'support', 'updateSupervisor.ts'), root, config, '40000', '250'], {
      cwd: packageRoot(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: supervisor.stdout! }).on('line', (line) => {
      try {
        sup.push(JSON.parse(line) as SupervisorLine);
      } catch {
        // not ours
      }
    });
    await until('release 0.1.0 ready under the supervisor', () => readyCount('0.1.0') >= 1, 60_000);
  });

  afterAll(async () => {
    if (supervisor && supervisor.exitCode === null) {
      const gone = new Promise((r) => supervisor.once('exit', r));
      supervisor.kill('SIGTERM');
      await gone;
    }
    if (operator) await closeMqttSession(operator);
    server?.close();
    await broker?.dispose();
    await build?.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a tampered bundle, a wrong signature, a wrong arch, an older version, a schema out of range and another manifest, with codes', async () => {
    const tampered = await makeFakeBundle(served, 'tampered', '0.2.0', 'ready', releaseKey.key);
    const bytes = readFileSync(tampered.bundleFile);
    bytes[Math.floor(bytes.length / 2)] = (bytes[Math.floor(bytes.length / 2)] ?? 0) ^ 0xff;
    writeFileSync(tampered.bundleFile, bytes);
    const cases: [FakeBundle, string][] = [
      [tampered, 'UPDATE_TAMPERED'],
      [await makeFakeBundle(served, 'evil', '0.2.0', 'ready', evilKey.key), 'UPDATE_BAD_SIGNATURE'],
      [await makeFakeBundle(served, 'arch', '0.2.0', 'ready', releaseKey.key, { arch: process.arch === 'arm64' ? 'x64' : 'arm64' }), 'UPDATE_WRONG_ARCH'],
      [await makeFakeBundle(served, 'abi', '0.2.0', 'ready', releaseKey.key, { nodeAbi: '1' }), 'UPDATE_WRONG_ABI'],
      [await makeFakeBundle(served, 'older', '0.0.9', 'ready', releaseKey.key), 'UPDATE_NOT_NEWER'],
      [await makeFakeBundle(served, 'schema', '0.2.0', 'ready', releaseKey.key, { schema: { min: 90, max: 99 } }), 'UPDATE_SCHEMA_RANGE'],
    ];
    for (const [bundle, code] of cases) {
      const reply = await update(bundle);
      expect({ bundle: basename(bundle.bundleFile), ok: reply.ok, code: reply.error?.code }).toEqual({ bundle: basename(bundle.bundleFile), ok: false, code });
    }
    const other = cases[2]?.[0];
    if (!other) throw new Error('no bundle');
    const wrongManifest = await update({ manifestFile: other.manifestFile, manifestDigest: `sha256:${'0'.repeat(64)}` });
    expect(wrongManifest.error).toMatchObject({ code: 'UPDATE_TAMPERED', context: { what: 'manifest' } });
    // Nothing was unpacked beside the running release, nothing switched.
    expect((await readdir(join(root, 'releases'))).filter((n) => !n.startsWith('.'))).toEqual(['0.1.0']);
    expect(currentVersion(root)).toBe('0.1.0');
    expect(events).toEqual([]);
  });

  it('a release that crashes at start is rolled back automatically; its download was resumed after a cut', async () => {
    const crash = await makeFakeBundle(served, 'crash', '0.2.1', 'crash', releaseKey.key);
    cutOnce.add(basename(crash.bundleFile));
    const before = readyCount('0.1.0');
    const reply = await update(crash);
    expect(reply).toMatchObject({ ok: true, result: { version: '0.2.1', from: '0.1.0', state: 'downloaded' } });
    expect(httpLog.filter((r) => r.path === basename(crash.bundleFile)).map((r) => r.range !== undefined)).toEqual([false, true]);
    await until('update.rolled_back for 0.2.1', () => event('update.rolled_back', '0.2.1') !== undefined, 60_000);
    expect(['boot_limit', 'crash_loop']).toContain(event('update.rolled_back', '0.2.1')?.data.reason);
    expect(event('update.downloaded', '0.2.1')?.data).toMatchObject({ from: '0.1.0' });
    expect(sup.some((l) => l.ev === 'spawn' && l.version === '0.2.1')).toBe(true);
    expect(readyCount('0.1.0')).toBeGreaterThan(before);
    expect(currentVersion(root)).toBe('0.1.0');
    expect(readState(root).trial).toBeUndefined();
  });

  it('a release that never gets ready is rolled back when its window ends', async () => {
    const stuck = await makeFakeBundle(served, 'stuck', '0.2.2', 'never_ready', releaseKey.key);
    const before = readyCount('0.1.0');
    expect(await update(stuck)).toMatchObject({ ok: true, result: { version: '0.2.2' } });
    await until('update.rolled_back for 0.2.2', () => event('update.rolled_back', '0.2.2') !== undefined, 60_000);
    expect(event('update.rolled_back', '0.2.2')?.data).toMatchObject({ reason: 'health_timeout', from: '0.1.0' });
    expect(sup.some((l) => l.ev === 'gate_rollback')).toBe(true);
    await until('0.1.0 up again', () => readyCount('0.1.0') > before, 60_000);
    expect(currentVersion(root)).toBe('0.1.0');
  });

  it('a real bundle from lockerctl release is switched to, survives kill -9 in its trial, and commits', async () => {
    await build;
    // The release source: the compiled tree beside this package's files and installed dependencies.
    await copyFile(join(packageRoot(), 'package.json'), join(buildDir, 'package.json'));
    await symlink(realpathSync(join(packageRoot(), 'node_modules')), join(buildDir, 'node_modules'));
    for (const asset of [['src', 'kiosk', 'public'], ['sim', 'panel', 'public'], ['deploy', 'examples']]) {
      await mkdir(join(buildDir, ...asset.slice(0, -1)), { recursive: true });
      await symlink(join(packageRoot(), ...asset), join(buildDir, ...asset));
    }
    const out: string[] = [];
    const err: string[] = [];
    const code = await lockerctl(['release', '--key', releaseKeyFile, '--out', served, '--version', '0.3.0', '--source', buildDir], { out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
    expect(code, err.join('\n')).toBe(0);
    const built = JSON.parse(out[0] ?? '{}') as { manifestFile: string; manifestDigest: string; arch: string; nodeAbi: string; schema: { max: number } };
    expect(built).toMatchObject({ arch: process.arch, nodeAbi: process.versions.modules });
    expect(built.schema.max).toBeGreaterThanOrEqual(4);
    // What is in it: the built code, production dependencies (not dev ones), the kiosk's files; no links.
    const listing = execFileSync('tar', ['-tvzf', join(served, basename(built.manifestFile).replace('.manifest.jws', '.tar.gz'))], { maxBuffer: 64 * 1024 * 1024 }).toString().split('\n');
    const names = new Set(listing.map((l) => l.split(/\s+/).at(-1) ?? ''));
    for (const n of ['./package.json', './dist/src/cli/lockerd.js', './dist/src/update/bootGuard.js', './node_modules/better-sqlite3/package.json', './node_modules/mqtt/package.json', './src/kiosk/public/index.html'])
      expect(names.has(n), n).toBe(true);
    expect([...names].some((n) => n.startsWith('./node_modules/vitest/') || n.startsWith('./node_modules/typescript/'))).toBe(false);
    expect(listing.filter((l) => l.startsWith('l'))).toEqual([]);

    expect(await update(built)).toMatchObject({ ok: true, result: { version: '0.3.0', from: '0.1.0' } });
    await until('0.3.0 ready', () => readyCount('0.3.0') >= 1, 90_000);
    // The power goes right after the new release came up, before its stable window ended.
    const first = sup.find((l) => l.ev === 'ready' && l.version === '0.3.0');
    expect(readState(root).trial).toMatchObject({ version: '0.3.0' });
    process.kill(first?.pid ?? 0, 'SIGKILL');
    await until('0.3.0 ready again', () => readyCount('0.3.0') >= 2, 60_000);
    await until('update.committed for 0.3.0', () => event('update.committed', '0.3.0') !== undefined, 60_000);
    expect(event('update.applied', '0.3.0')?.data).toMatchObject({ from: '0.1.0' });
    const state = readState(root);
    expect(state).toMatchObject({ committed: '0.3.0' });
    expect(state.trial).toBeUndefined();
    expect(currentVersion(root)).toBe('0.3.0');
    // The snapshot of the database from before the switch, and the committed release's own guard.
    expect((await readdir(join(root, 'snapshots'))).some((f) => f.startsWith('lockerd-0.1.0-before-0.3.0-'))).toBe(true);
    expect(existsSync(join(root, 'bin', 'lockerd-update-guard.js'))).toBe(true);
  });
});
