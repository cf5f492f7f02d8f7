// The README's walk-throughs, run as written: every ```sh block marked <!-- readme-test: run -->
// (or `background`, for `npm start`) is taken from README.md in order and run with bash, in a
// fresh copy of the package on free ports (the blocks read KIOSK_PORT and MQTT_PORT, 8080 and
// 1883 by default), then all of it again on the same data folder: a second run must work too.
// `npm start` really runs: it builds the copy and starts lockerd --sim with the embedded broker.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/packageRoot.js';
import { freePort } from '../support/freePort.js';

interface ReadmeBlock {
  mode: 'run' | 'background';
  code: string;
}

/** The marked shell blocks of a README, in order. */
function readmeBlocks(markdown: string): ReadmeBlock[] {
  const out: ReadmeBlock[] = [];
  const re = /<!-- readme-test: (run|background) -->\s*\n```sh\n([\s\S]*?)\n```/g;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) out.push({ mode: m[1] as ReadmeBlock['mode'], code: m[2] ?? '' });
  return out;
}

/**
 * One bash script: blocks in order. A background block (npm start) runs in a session of its own,
 * is waited for until lockerd is up, and is stopped like Ctrl-C before the next one starts and
 * at the end.
 */
function scriptOf(blocks: readonly ReadmeBlock[]): string {
  const parts = [
    // Every command must succeed (the README's curl calls use --fail-with-body).
    'set -eo pipefail',
    'BG=',
    'stop_bg() { [ -n "$BG" ] || return 0; kill -INT -- -$BG 2>/dev/null || true; for _ in $(seq 150); do kill -0 -- -$BG 2>/dev/null || break; sleep 0.1; done; kill -KILL -- -$BG 2>/dev/null || true; BG=; }',
    'trap stop_bg EXIT',
  ];
  blocks.forEach((b, i) => {
    parts.push(`echo "== README block ${i + 1}" >&2`);
    if (b.mode === 'run') parts.push(b.code);
    else {
      const file = `readme-background-${i + 1}.log`;
      parts.push(
        'stop_bg',
        `: > ${file}`,
        `setsid bash -c ${shellQuote(b.code)} > ${file} 2>&1 &`,
        'BG=$!; echo $BG > readme-background.pgid',
        // Up within 150 s (npm start builds first), or the block failed: its output tells why.
        `for _ in $(seq 750); do grep -q "Ctrl-C stops it" ${file} && break; kill -0 $BG 2>/dev/null || break; sleep 0.2; done`,
        `grep -q "Ctrl-C stops it" ${file} || { cat ${file} >&2; exit 1; }`,
      );
    }
  });
  return `${parts.join('\n')}\n`;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

interface RunResult {
  code: number | null;
  out: string;
  err: string;
}

/** Runs the script in its own process group; afterwards the whole group (lockerd too) is stopped. */
async function runScript(root: string, script: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  const file = join(root, 'readme-walkthrough.sh');
  await writeFile(file, script);
  const child = spawn('bash', [file], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const pgid = child.pid ?? 0;
  const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  // The script stops lockerd itself on exit; should it have been killed, stop lockerd here.
  const bg = Number((await readFile(join(root, 'readme-background.pgid'), 'utf8').catch(() => '')).trim());
  if (bg > 0) {
    signalGroup(bg, 'SIGINT');
    for (let i = 0; i < 150 && groupAlive(bg); i++) await new Promise((r) => setTimeout(r, 100));
    signalGroup(bg, 'SIGKILL');
  }
  signalGroup(pgid, 'SIGTERM');
  for (let i = 0; i < 150 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) signalGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 50 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
  return { code, out, err };
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the README walk-throughs run as written', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  let blocks: ReadmeBlock[];

  beforeAll(async () => {
    const src = packageRoot();
    blocks = readmeBlocks(await readFile(join(src, 'README.md'), 'utf8'));
    root = await mkdtemp(join(tmpdir(), 'lockerd-readme-'));
    // What a checkout holds that npm start needs: sources, build config, examples; node_modules shared.
    for (const p of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'kernel', 'src', 'hal', 'sim', 'fleet', 'test/bench', 'test/support', 'deploy/examples']) await cp(join(src, p), join(root, p), { recursive: true });
    await symlink(join(src, 'node_modules'), join(root, 'node_modules'));
    const [kioskPort, mqttPort] = [await freePort(), await freePort()];
    const simFile = join(root, 'deploy', 'examples', 'lockerd.sim.json');
    const sim = JSON.parse(await readFile(simFile, 'utf8')) as Record<string, Record<string, unknown>>;
    sim.kiosk = { ...sim.kiosk, port: kioskPort };
    sim.mqtt = { ...sim.mqtt, url: `mqtt://127.0.0.1:${mqttPort}` };
    sim.metrics = { port: 0 };
    await writeFile(simFile, JSON.stringify(sim, null, 2));
    // A clean environment: no npm_* of an enclosing npm run, no lockerctl defaults.
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && !k.startsWith('LOCKERCTL_') && !k.startsWith('LOCKERD_')));
    Object.assign(env, { KIOSK_PORT: String(kioskPort), MQTT_PORT: String(mqttPort), npm_config_update_notifier: 'false', npm_config_fund: 'false' });
  });

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('marks the blocks meant to run, with npm start among them', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    expect(blocks.filter((b) => b.mode === 'background').map((b) => b.code.trim())).toEqual(['npm start', 'npm start -- --operator-key keys/operator.pub.json']);
    expect(blocks.map((b) => b.code).join('\n')).toContain('npx lockerctl provision');
  });

  it('works on a fresh checkout and again on the same data folder', { timeout: 300_000 }, async () => {
    const script = scriptOf(blocks);
    for (const run of [1, 2]) {
      const r = await runScript(root, script, env, 200_000);
      const logs = await Promise.all(blocks.map((b, i) => (b.mode === 'background' ? readFile(join(root, `readme-background-${i + 1}.log`), 'utf8').catch(() => '') : '')));
      const log = logs.filter(Boolean).map((l) => l.slice(-3000)).join('\n---\n');
      if (r.code !== 0) throw new Error(`run ${run} of the README failed (exit ${String(r.code)})\n--- stdout\n${r.out}\n--- stderr\n${r.err}\n--- npm start\n${log}`);
      expect(r.out).toMatch(/pickup code \d{8}/);
      expect(r.out).toContain('"step":"carrier parcelgo","ok":true');
      expect(r.out).toContain('"cmd":"createReservation"');
      const events = (await readFile(join(root, 'parcelgo.events'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { type: string; code?: string });
      expect(events.filter((e) => e.type === 'parcel.stored').length).toBeGreaterThanOrEqual(1);
      expect(events.filter((e) => e.type === 'parcel.stored').every((e) => /^\d{8}$/.test(e.code ?? ''))).toBe(true);
      // Nothing the walk-through saw was refused.
      expect(await readFile(join(root, 'parcelgo.watch.log'), 'utf8')).not.toContain('refused');
    }
  });
});
