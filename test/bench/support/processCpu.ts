// CPU time of another process from /proc/<pid>/stat, e.g. the broker a benchmark started, so a
// report can say how busy it was while the figures were taken.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_S = 100;

/** user + system CPU of a process so far, ms; NaN when it cannot be read. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** The pid of this process's child running the given command (e.g. "mosquitto"). */
export function childPid(command: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === command && ppid === process.pid) return Number(entry);
    } catch {
      // the process went away while we looked
    }
  }
  return undefined;
}

export interface MachineCpu {
  /** Time all cores spent busy (user, nice, system, irq, softirq), ms. */
  busyMs: number;
  /** Time the hypervisor gave to others while a core wanted to run, ms. */
  stealMs: number;
  /** busy + idle + iowait + steal, ms (cores x wall time). */
  totalMs: number;
}

/** The machine's CPU counters from /proc/stat; compare two readings. */
export function machineCpu(): MachineCpu {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    const ms = (v: number | undefined): number => ((v ?? 0) * 1000) / TICKS_PER_S;
    const busy = ms(user) + ms(nice) + ms(system) + ms(irq) + ms(softirq);
    return { busyMs: busy, stealMs: ms(steal), totalMs: busy + ms(idle) + ms(iowait) + ms(steal) };
  } catch {
    return { busyMs: Number.NaN, stealMs: Number.NaN, totalMs: Number.NaN };
  }
}
