// A stand-in for systemd in the update tests, with the semantics of deploy/systemd's
// lockerd.service.d/updates.conf and its helper units:
//   ExecStartPre  the boot guard's `start` before every start (counts trial boots, rolls back);
//   ExecStart     node <root>/current/dist/src/cli/lockerd.js start --config FILE;
//   Type=notify + TimeoutStartSec  "ready" is lockerd's "... is running" line; a start that
//                 does not get there in time is killed (and counts as a failed boot);
//   Restart=always, RestartSec     every exit, code 75 (switch release) included, starts again;
//   StartLimitBurst/IntervalSec + OnFailure=lockerd-rollback.service   a crash loop during a
//                 trial rolls back;
//   lockerd-update-gate.timer      the guard's `check` every checkMs: a trial past its deadline
//                 rolls back and lockerd is restarted.
// Run: node --import tsx test/support/updateSupervisor.ts ROOT CONFIG [startTimeoutMs] [checkMs]
// It prints one JSON line per thing it does; SIGTERM stops lockerd and then itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { check, CURRENT_LINK, currentVersion, onStart, readState, rollback, RELEASE_ENTRY } from '../../src/update/bootGuard.js';

const [root = '', config = '', startTimeoutArg, checkArg] = process.argv.slice(2);
const startTimeoutMs = Number(startTimeoutArg ?? 15_000);
const checkMs = Number(checkArg ?? 250);
const restartMs = 100;
const burst = 4;
const burstIntervalMs = 20_000;

function say(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ at: Date.now(), ...line })}\n`);
}

let child: ChildProcess | undefined;
let stopping = false;
const exits: number[] = [];

async function runOnce(): Promise<void> {
  const guard = onStart(root, Date.now());
  say({ ev: 'guard', ...guard });
  const version = currentVersion(root);
  const entry = join(root, CURRENT_LINK, RELEASE_ENTRY);
  let real: string;
  try {
    real = realpathSync(entry);
  } catch {
    say({ ev: 'no_release', version: version ?? null });
    await new Promise((r) => setTimeout(r, 1_000));
    return;
  }
  // The install's first boot: --first-boot only initialises a pristine data folder, never a lost database.
  const proc = spawn(process.execPath, [real, 'start', '--config', config, '--first-boot'], { cwd: join(root, CURRENT_LINK), env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child = proc;
  say({ ev: 'spawn', version, pid: proc.pid });
  let ready = false;
  const startTimer = setTimeout(() => {
    if (ready) return;
    say({ ev: 'start_timeout', version });
    proc.kill('SIGKILL');
  }, startTimeoutMs);
  createInterface({ input: proc.stdout }).on('line', (line) => {
    if (!ready && /^lockerd .* is running/.test(line)) {
      ready = true;
      say({ ev: 'ready', version, pid: proc.pid });
    }
  });
  createInterface({ input: proc.stderr }).on('line', (line) => say({ ev: 'stderr', version, line: line.slice(0, 400) }));
  const gate = setInterval(() => {
    const r = check(root, Date.now());
    if (r.action === 'rolled_back') {
      say({ ev: 'gate_rollback', reason: r.reason, to: r.version });
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 5_000).unref();
    }
  }, checkMs);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (c, s) => resolve({ code: c, signal: s })));
  clearTimeout(startTimer);
  clearInterval(gate);
  child = undefined;
  say({ ev: 'exit', version, code, signal, ready });
  if (stopping) return;
  // A restart asked for by lockerd (exit 75 after a switch) is not a failure.
  if (code !== 75) {
    const now = Date.now();
    exits.push(now);
    while (exits.length > 0 && (exits[0] ?? now) < now - burstIntervalMs) exits.shift();
    if (exits.length >= burst && readState(root).trial) {
      say({ ev: 'crash_loop', exits: exits.length });
      rollback(root, 'crash_loop', now);
      exits.length = 0;
    }
  }
  await new Promise((r) => setTimeout(r, restartMs));
}

process.once('SIGTERM', () => {
  stopping = true;
  if (child) child.kill('SIGTERM');
  else process.exit(0);
  setTimeout(() => {
    child?.kill('SIGKILL');
    process.exit(0);
  }, 10_000).unref();
});

while (!stopping) await runOnce();
say({ ev: 'stopped' });
process.exit(0);
