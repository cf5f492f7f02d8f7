// Under NotifyAccess=main systemd accepts a notification only when the kernel-stamped sender
// PID (SCM_CREDENTIALS) is the service's main PID. This stands in for systemd's notify socket:
// a python3 receiver with SO_PASSCRED that prints each datagram with its sender's PID, so the
// test sees exactly what systemd would check.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { systemdNotifier } from '../../src/composition/systemdNotify.js';
import { spawnLockerd, tempDataDir, type ChildLockerd } from '../support/childLockerd.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { freePort } from '../support/freePort.js';
import { waitFor } from '../support/polling.js';

const RECEIVER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = None
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(json.dumps({"pid": pid, "msg": data.decode()}), flush=True)
`;

interface Notification {
  pid: number;
  msg: string;
}

async function startReceiver(dir: string): Promise<{ socketPath: string; received: Notification[]; proc: ChildProcess }> {
  const script = join(dir, 'receiver.py');
  const socketPath = join(dir, 'notify.sock');
  await writeFile(script, RECEIVER);
  const proc = spawn('python3', [script, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const received: Notification[] = [];
  let buf = '';
  let bound = false;
  proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'bound') bound = true;
      else received.push(JSON.parse(line) as Notification);
    }
  });
  await waitFor('the notify receiver to bind', () => bound && existsSync(socketPath), 10_000, 20);
  return { socketPath, received, proc };
}

describe('systemd notifications leave from the main process', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('READY, WATCHDOG and STOPPING are sent with lockerd’s own PID (what NotifyAccess=main admits)', async () => {
    const dataDir = await tempDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const receiver = await startReceiver(dataDir);
    cleanups.push(async () => {
      receiver.proc.kill('SIGKILL');
    });
    const demo = await makeDemoLocker(dataDir, { logLevel: 'warn' });
    const child: ChildLockerd = await spawnLockerd(demo.config, await freePort(), 20_000, {
      NOTIFY_SOCKET: receiver.socketPath,
      WATCHDOG_USEC: '2000000',
    });
    cleanups.push(() => child.kill());
    const mainPid = child.process.pid;

    await waitFor('READY=1 and a watchdog ping', () => receiver.received.some((n) => n.msg === 'READY=1') && receiver.received.some((n) => n.msg === 'WATCHDOG=1'), 15_000, 50);
    await child.stop();
    await waitFor('STOPPING=1', () => receiver.received.some((n) => n.msg === 'STOPPING=1'), 10_000, 50);

    const senders = new Set(receiver.received.map((n) => n.pid));
    expect([...senders], child.output()).toEqual([mainPid]);
  });

  it('without $NOTIFY_SOCKET nothing is sent; an abstract socket falls back to systemd-notify and says so', () => {
    expect(systemdNotifier({ env: {} }).transport).toBe('none');
    const warnings: string[] = [];
    const abstract = systemdNotifier({ env: { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify' }, warn: (m) => warnings.push(m) });
    expect(abstract.transport).toBe('systemd-notify');
    expect(warnings.join('\n')).toMatch(/NotifyAccess=all/);
    const noAddon = systemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' }, loadAddon: () => undefined, warn: (m) => warnings.push(m) });
    expect(noAddon.transport).toBe('systemd-notify');
    expect(systemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' } }).transport).toBe('socket');
  });

  it('a socket that is not there is reported once, never thrown', () => {
    const warnings: string[] = [];
    const n = systemdNotifier({ env: { NOTIFY_SOCKET: '/nonexistent/notify.sock' }, warn: (m) => warnings.push(m) });
    n.notify('READY=1');
    n.notify('WATCHDOG=1');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/could not notify systemd/);
  });
});
