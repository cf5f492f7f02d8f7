// A real Mosquitto 2 process for interop tests: its own config, password file (made with
// mosquitto_passwd) and the shipped deploy/mosquitto/acl (found from the package root, so it works from dist/ too), in a temp dir, on a free loopback
// port. stop/start/restart keep the port, so clients reconnect to the same URL. Install with
// `apt-get install -y mosquitto mosquitto-clients` when missing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort.js';
import { packageRoot } from '../../src/packageRoot.js';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

export function mosquittoAvailable(): boolean {
  return MOSQUITTO !== undefined;
}

export interface MosquittoOptions {
  /** username -> password; every principal of the test. */
  users: Record<string, string>;
  /** ACL text; the shipped deploy/mosquitto/acl by default. */
  acl?: string;
  /** Keep sessions and retained messages across restarts (persistence true). Default false. */
  persistence?: boolean;
  /**
   * Mutual TLS instead of passwords: the listener requires a client certificate signed by
   * cafile and takes its CN as the username (use_identity_as_username), as in
   * deploy/mosquitto/mosquitto-tls.conf.
   */
  tls?: { cafile: string; certfile: string; keyfile: string };
  /** Extra mosquitto.conf lines. */
  extra?: string[];
  /**
   * Run a shipped configuration (deploy/mosquitto/<file>) instead of the test's own: every
   * line of that file, in its order, with the listener, password file, ACL, certificates and
   * persistence location pointed into the temp dir (shippedConfig).
   */
  shipped?: 'mosquitto.conf' | 'mosquitto-tls.conf';
}

export interface ShippedPaths {
  port: number;
  /** Omitted when the test has no password users (the TLS variant). */
  passwordFile?: string;
  aclFile: string;
  dir: string;
  persistence: boolean;
  tls?: { cafile: string; certfile: string; keyfile: string };
}

/**
 * deploy/mosquitto/<file> line by line, in its own order, with only what names the production
 * machine replaced: the listener (a free loopback port), the password and ACL files, the
 * certificates and the persistence location (persistence itself as the test asks).
 */
export function shippedConfig(file: 'mosquitto.conf' | 'mosquitto-tls.conf', p: ShippedPaths): string[] {
  const text = readFileSync(join(packageRoot(), 'deploy', 'mosquitto', file), 'utf8');
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const key = line.split(/\s+/)[0] ?? '';
    const tlsPath = (k: 'cafile' | 'certfile' | 'keyfile'): string => {
      if (!p.tls) throw new Error(`${file} needs certificates: pass tls`);
      return `${k} ${p.tls[k]}`;
    };
    switch (key) {
      case 'listener':
        out.push(`listener ${p.port} 127.0.0.1`);
        break;
      case 'password_file':
        if (p.passwordFile !== undefined) out.push(`password_file ${p.passwordFile}`);
        break;
      case 'acl_file':
        out.push(`acl_file ${p.aclFile}`);
        break;
      case 'cafile':
      case 'certfile':
      case 'keyfile':
        out.push(tlsPath(key));
        break;
      case 'persistence':
        out.push(`persistence ${p.persistence ? 'true' : 'false'}`);
        break;
      case 'persistence_location':
        out.push(`persistence_location ${p.dir}/`);
        break;
      default:
        out.push(line);
    }
  }
  return out;
}

export function shippedAcl(): string {
  return readFileSync(join(packageRoot(), 'deploy', 'mosquitto', 'acl'), 'utf8');
}


function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class MosquittoBroker {
  private proc: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly confFile: string,
    private readonly tls: boolean,
  ) {}

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined;
  }

  static async start(options: MosquittoOptions): Promise<MosquittoBroker> {
    if (!MOSQUITTO) throw new Error('mosquitto is not installed: apt-get install -y mosquitto mosquitto-clients');
    const dir = mkdtempSync(join(tmpdir(), 'lockerd-mosquitto-'));
    const port = await freePort();
    const passwd = join(dir, 'passwd');
    // All principals in one go: a plaintext user:password file that mosquitto_passwd -U hashes
    // in place (one call per user rewrites the whole file each time, minutes for a fleet's 10,000).
    const entries = Object.entries(options.users);
    if (entries.length) {
      writeFileSync(passwd, entries.map(([user, password]) => `${user}:${password}\n`).join(''), { mode: 0o600 });
      execFileSync('mosquitto_passwd', ['-U', passwd], { stdio: 'ignore' });
    }
    const acl = join(dir, 'acl');
    writeFileSync(acl, options.acl ?? shippedAcl());
    const conf = join(dir, 'mosquitto.conf');
    const hasUsers = Object.keys(options.users).length > 0;
    const own = [
      `listener ${port} 127.0.0.1`,
      ...(options.tls
        ? [`cafile ${options.tls.cafile}`, `certfile ${options.tls.certfile}`, `keyfile ${options.tls.keyfile}`, 'require_certificate true', 'use_identity_as_username true']
        : []),
      'allow_anonymous false',
      ...(hasUsers ? [`password_file ${passwd}`] : []),
      `acl_file ${acl}`,
      options.persistence ? `persistence true\npersistence_location ${dir}/` : 'persistence false',
      'max_queued_messages 200000',
    ];
    const lines = [
      ...(options.shipped
        ? shippedConfig(options.shipped, { port, ...(hasUsers ? { passwordFile: passwd } : {}), aclFile: acl, dir, persistence: options.persistence ?? false, ...(options.tls ? { tls: options.tls } : {}) })
        : own),
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_dest stderr',
      // As root, mosquitto would switch to a "mosquitto" user that cannot read the temp dir.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      ...(options.extra ?? []),
    ];
    writeFileSync(conf, lines.join('\n') + '\n');
    const broker = new MosquittoBroker(dir, port, conf, options.tls !== undefined);
    await broker.startProcess();
    return broker;
  }

  /** Starts the process again on the same port (after stop()). */
  async startProcess(): Promise<void> {
    if (this.proc) return;
    const proc = spawn(MOSQUITTO ?? 'mosquitto', ['-c', this.confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => {
      this.log += d.toString();
    });
    this.proc = proc;
    const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`mosquitto exited (${String(code)}): ${this.log}`))));
    exited.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await Promise.race([canConnect(this.port), exited])) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${this.port}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the process (SIGTERM, SIGKILL after 3 s); sessions without persistence are gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill(signal);
    });
  }

  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.startProcess();
  }

  logs(): string {
    return this.log;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
