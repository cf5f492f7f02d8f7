// The machine a figure was measured on: cores, CPU, memory, Node, the file system under the
// data folder (fsync cost depends on it) and the date.
import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  date: string;
  /** File system type under the benchmark's data folder, e.g. ext4 or tmpfs. */
  fs: string;
  /** 1-minute load average when the benchmark started (other work on a shared machine skews figures). */
  load: number;
}

export function fileSystemOf(dir: string): string {
  for (const [cmd, args] of [
    ['findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir]],
    ['stat', ['-f', '-c', '%T', dir]],
  ] as const) {
    try {
      const out = execFileSync(cmd, [...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().replace(/\s+/g, ' ');
      if (out) return out;
    } catch {
      // try the next tool
    }
  }
  return 'unknown';
}

export function machineInfo(dataDir: string): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
    fs: fileSystemOf(dataDir),
    load: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  };
}

export function describeMachine(m: MachineInfo): string {
  return `nproc ${m.nproc}, Node ${m.node}, ${m.date}, ${m.fs}, load ${m.load}`;
}
