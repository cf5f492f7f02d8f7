// doctor's clock check. A Pi has no battery clock, so the question is whether NTP has set it.
// Asked in turn, the first that can tell wins:
//   1. timedatectl (systemd's view: NTPSynchronized=yes|no); absent, or no systemd bus: next;
//   2. chronyc tracking (chrony replaces timesyncd on some images): "Leap status : Normal" is
//      synchronised, "Not synchronised" is not;
//   3. systemd-timesyncd's flag file /run/systemd/timesync/synchronized (present once synced);
//   4. a clock earlier than this release is certainly wrong.
// Otherwise the answer is "unknown", not a failure. The kernel's own flag (adjtimex STA_UNSYNC)
// would be the best answer but Node has no adjtimex; the adjtimex(8) tool is rarely installed,
// so it is not asked.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Clock } from '../../../kernel/clock.js';

export type ProbeStatus = 'ok' | 'fail' | 'unknown';

export interface ClockProbeOptions {
  /** PATH to look up timedatectl and chronyc in; the process's PATH by default. */
  path?: string;
  /** systemd-timesyncd's flag file. */
  timesyncFlag?: string;
  /** Per tool; default 3000 ms. */
  timeoutMs?: number;
}

/** No locker runs this release before it existed (as src/composition/clockSync.ts). */
const RELEASE_FLOOR_MS = Date.UTC(2026, 0, 1);

interface Run {
  ok: boolean;
  missing: boolean;
  stdout: string;
}

function run(cmd: string, args: string[], o: ClockProbeOptions): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: o.timeoutMs ?? 3_000, maxBuffer: 64 * 1024, env: { ...process.env, PATH: o.path ?? process.env.PATH ?? '', LC_ALL: 'C' } }, (err, stdout) => {
      const missing = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      resolve({ ok: err === null, missing, stdout: String(stdout) });
    });
  });
}

export async function probeClock(clock: Clock, o: ClockProbeOptions = {}): Promise<{ status: ProbeStatus; detail: string }> {
  const notes: string[] = [];
  const td = await run('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], o);
  if (td.ok && td.stdout.trim() === 'yes') return { status: 'ok', detail: 'synchronised (timedatectl: NTPSynchronized=yes)' };
  if (td.ok && td.stdout.trim() === 'no') return { status: 'fail', detail: 'not synchronised (timedatectl: NTPSynchronized=no): a Pi has no battery clock; check network and NTP' };
  notes.push(td.missing ? 'no timedatectl' : 'timedatectl cannot ask systemd');

  const chrony = await run('chronyc', ['-n', 'tracking'], o);
  if (chrony.ok) {
    const leap = /^Leap status\s*:\s*(.+)$/m.exec(chrony.stdout)?.[1]?.trim();
    if (leap === 'Normal' || leap === 'Insert second' || leap === 'Delete second') return { status: 'ok', detail: `synchronised (chronyc: leap status ${leap})` };
    if (leap === 'Not synchronised') return { status: 'fail', detail: 'not synchronised (chronyc: leap status Not synchronised): check network and NTP servers' };
  }
  notes.push(chrony.missing ? 'no chronyc' : 'chronyd not answering');

  const flag = o.timesyncFlag ?? '/run/systemd/timesync/synchronized';
  if (existsSync(flag)) return { status: 'ok', detail: `synchronised (systemd-timesyncd: ${flag})` };
  notes.push(`no ${flag}`);

  if (clock.now() < RELEASE_FLOOR_MS) return { status: 'fail', detail: `the clock says ${new Date(clock.now()).toISOString()}, before this release existed: it was never set (${notes.join(', ')})` };
  return {
    status: 'unknown',
    detail: `cannot tell whether NTP set it (${notes.join(', ')}); lockerd takes a clock after 2026-01-01 as set`,
  };
}
