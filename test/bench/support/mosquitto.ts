// A local Mosquitto broker for the benchmarks that need lockerd connected (anonymous, loopback,
// no persistence): lockerd then publishes its outbox and records the PUBACKs, as in service.
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, sleep, waitExit } from './processes.js';

export interface Mosquitto {
  url: string;
  stop(): Promise<void>;
}

function mosquittoPath(): string | undefined {
  for (const p of ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    try {
      execFileSync(p, ['-h'], { stdio: 'ignore' });
      return p;
    } catch (e) {
      // `mosquitto -h` exits with 3 after printing its help: it exists.
      if ((e as { status?: unknown }).status === 3) return p;
    }
  }
  return undefined;
}

export function haveMosquitto(): boolean {
  return mosquittoPath() !== undefined;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startMosquitto(dir: string): Promise<Mosquitto> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 0\n`);
  const child = spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const until = Date.now() + 10_000;
  while (!(await accepting(port))) {
    if (child.exitCode !== null || Date.now() > until) throw new Error('mosquitto did not start');
    await sleep(20);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await waitExit(child);
    },
  };
}
