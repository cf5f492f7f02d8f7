// A connected pair of pseudo-terminals from socat, for tests that need a real tty under the
// native serialport binding: one end is opened as the "device", the test writes into the
// other. Killing socat makes the ttys vanish like an unplugged USB device (reads fail with
// EIO, the links are removed); starting it again on the same links is a replug.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';

export const socatPath = '/usr/bin/socat';

export function socatAvailable(): boolean {
  try {
    accessSync(socatPath, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface SocatPtyPair {
  /** Symlink to the first pty. */
  readonly a: string;
  /** Symlink to the second pty. */
  readonly b: string;
  readonly pid: number;
  /** Ends socat (SIGTERM) and waits until it has exited and removed its links. */
  stop(): Promise<void>;
}

export interface SocatPtyPairOptions {
  /** Directory for the two links. */
  dir: string;
  aName?: string;
  bName?: string;
  /** How long to wait for socat to create both links. Default 5000 ms. */
  timeoutMs?: number;
}

export async function startSocatPtyPair(options: SocatPtyPairOptions): Promise<SocatPtyPair> {
  const a = join(options.dir, options.aName ?? 'A');
  const b = join(options.dir, options.bName ?? 'B');
  const child = spawn(socatPath, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    log = (log + s).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!(existsSync(a) && existsSync(b) && log.includes('starting data transfer loop'))) {
    if (gone || Date.now() > deadline) {
      terminate(child);
      throw new Error(`socat did not create ${a} and ${b}: ${log || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return {
    a,
    b,
    pid: child.pid ?? -1,
    stop: async () => {
      if (!gone) terminate(child);
      await exited;
      // socat unlinks its links on the way out; wait for that so a restart can reuse them.
      const until = Date.now() + 2000;
      while ((existsSync(a) || existsSync(b)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
    },
  };
}

function terminate(child: ChildProcess): void {
  try {
    child.kill('SIGTERM');
  } catch {
    // Already gone.
  }
}
