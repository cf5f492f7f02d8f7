// Readiness and watchdog messages to systemd (Type=notify), sent by lockerd's own process.
//
// systemd accepts a notification only from the processes NotifyAccess= names. With
// NotifyAccess=main it checks the sender's SCM_CREDENTIALS against the main PID, so the datagram
// must leave from node itself: Node.js has no unix datagram sockets, so this uses the small
// `unix-dgram` addon (an optional dependency). Where the addon did not build, or $NOTIFY_SOCKET
// is in the abstract namespace (which the addon cannot address), it falls back to running
// `systemd-notify`, whose messages then come from a child and need NotifyAccess=all; the
// fallback is logged once so an operator can see why the unit would time out.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';

/** The part of `unix-dgram` used here. */
interface UnixDgramSocket {
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

export type NotifyTransport = 'none' | 'socket' | 'systemd-notify';

export interface SystemdNotifier {
  /** How messages leave: not at all (not under systemd), from this process, or from a child. */
  readonly transport: NotifyTransport;
  /** Sends one state line such as READY=1, WATCHDOG=1, STOPPING=1 or STATUS=…; never throws. */
  notify(state: string): void;
}

export interface SystemdNotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** Told once when messages cannot leave from this process (and why). */
  warn?: (message: string) => void;
  /** For tests: the addon loader (undefined = the addon is missing). */
  loadAddon?: () => UnixDgramModule | undefined;
}

function loadUnixDgram(): UnixDgramModule | undefined {
  try {
    return createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
  } catch {
    return undefined;
  }
}

export function systemdNotifier(options: SystemdNotifierOptions = {}): SystemdNotifier {
  const env = options.env ?? process.env;
  const socketPath = env.NOTIFY_SOCKET;
  if (!socketPath) return { transport: 'none', notify: () => undefined };

  const warn = options.warn ?? (() => undefined);
  const addon = socketPath.startsWith('@') ? undefined : (options.loadAddon ?? loadUnixDgram)();
  if (!addon) {
    warn(
      socketPath.startsWith('@')
        ? 'NOTIFY_SOCKET is an abstract socket: notifications go through systemd-notify, which needs NotifyAccess=all'
        : 'the unix-dgram addon is not installed: notifications go through systemd-notify, which needs NotifyAccess=all',
    );
    return {
      transport: 'systemd-notify',
      notify: (state) => {
        execFile('systemd-notify', [state], () => undefined);
      },
    };
  }

  let warned = false;
  return {
    transport: 'socket',
    notify: (state) => {
      // One socket per message: a handful of messages a minute, and nothing held open that
      // would keep the process alive after its stop.
      let socket: UnixDgramSocket | undefined;
      try {
        socket = addon.createSocket('unix_dgram');
        const buf = Buffer.from(state, 'utf8');
        socket.send(buf, 0, buf.length, socketPath, (err) => {
          if (err && !warned) {
            warned = true;
            warn(`could not notify systemd at ${socketPath}: ${err.message}`);
          }
        });
      } catch (err) {
        if (!warned) {
          warned = true;
          warn(`could not notify systemd at ${socketPath}: ${err instanceof Error ? err.message : String(err)}`);
        }
      } finally {
        try {
          socket?.close();
        } catch {
          // already closed
        }
      }
    },
  };
}
