// Helpers for end-to-end sync tests: the real lockerd runtime (startLockerd on the simulator)
// connected to a real Mosquitto, driven over its kiosk HTTP API and its simulated hardware,
// and observed from the carriers' and the operator's side over MQTT.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { RunningLockerd } from '../../src/composition/startLockerd.js';
import { PublicKeys } from '../../src/cli/lockerctl/keyFiles.js';
import type { SimPosition, SimWorld } from '../../sim/world.js';
import { apiCall, waitFor, type CompartmentJson, type DepositJson } from './lockerHarness.js';

/** The mqtt section of a locker config with reconnect timings short enough for a test. */
export function fastMqtt(url: string, lockerId: string, password: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { url, username: lockerId, password, reconnectMinMs: 50, reconnectMaxMs: 400, keepaliveS: 5, ...extra };
}

/** The locker's public keys as it wrote them at first start (what an operator enrols). */
export async function lockerPublicKeys(running: RunningLockerd): Promise<PublicKeys> {
  return PublicKeys.parse(JSON.parse(await readFile(running.publicKeysFile, 'utf8')));
}

export async function waitForSyncConnected(running: RunningLockerd, timeoutMs = 10_000): Promise<void> {
  await waitFor('the locker connected to the broker', () => running.sync?.health().connected === true, timeoutMs);
}

/** The highest seq a consumer acknowledged on a stream. */
export function ackedUpTo(running: RunningLockerd, stream: string): number {
  return running.outbox.ackedUpTo(stream);
}

export function auditRows(running: RunningLockerd): { actor: string; action: string; subject: string | null; data: Record<string, unknown> }[] {
  return running.store.auditTrail().map((r) => ({ actor: r.actor, action: r.action, subject: r.subject, data: r.data }));
}

/**
 * The people at the locker: couriers and consumers on the kiosk API, and their hands on the
 * simulated doors. Compartment positions come from the layout in force (it may have been set
 * remotely), not from the configuration file.
 */
export class KioskUser {
  constructor(readonly running: RunningLockerd) {}

  get world(): SimWorld {
    const w = this.running.world;
    if (!w) throw new Error('lockerd is not running on the simulator');
    return w;
  }

  position(compartmentId: string): SimPosition {
    const c = this.running.store.compartment(compartmentId);
    if (!c) throw new Error(`no compartment ${compartmentId} in the layout in force`);
    return { bus: c.bus, board: c.board, lock: c.lock };
  }

  async courierLogin(badge: string): Promise<string> {
    const r = await apiCall<{ token: string }>(this.running.url, 'POST', '/api/courier/login', { badge });
    if (r.status !== 200) throw new Error(`courier login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.token;
  }

  /** A whole deposit: the door opens, the parcel goes in, the door is closed, the parcel is stored. */
  async deposit(token: string, waybill: string, size = 'S'): Promise<DepositJson> {
    const r = await apiCall<{ deposit: DepositJson }>(this.running.url, 'POST', '/api/courier/deposits', { waybill, size }, token);
    if (r.status !== 200) throw new Error(`deposit ${waybill}: ${r.status} ${JSON.stringify(r.body)}`);
    const id = r.body.deposit.id;
    const compartment = r.body.deposit.compartment.id;
    this.world.putParcel(this.position(compartment));
    this.world.closeDoor(this.position(compartment));
    return waitFor(
      `deposit ${waybill} stored`,
      async () => {
        const d = await apiCall<{ deposit: DepositJson }>(this.running.url, 'GET', `/api/courier/deposits/${id}`, undefined, token);
        return d.body.deposit.state === 'stored' ? d.body.deposit : undefined;
      },
      10_000,
    );
  }

  /** Types a pickup code; returns the raw reply (a refusal is not an error here). */
  pickupRequest(code: string) {
    return apiCall<{ sessionId: string; compartment: CompartmentJson }>(this.running.url, 'POST', '/api/pickup', { code });
  }

  /** A whole pickup: the code opens a door, the parcel is taken out, the door is closed again. */
  async pickup(code: string): Promise<string> {
    const r = await this.pickupRequest(code);
    if (r.status !== 200) throw new Error(`pickup with ${code}: ${r.status} ${JSON.stringify(r.body)}`);
    const compartment = r.body.compartment.id;
    this.world.takeParcel(this.position(compartment));
    this.world.closeDoor(this.position(compartment));
    await this.waitForDoor(compartment, 'closed');
    return compartment;
  }

  async waitForDoor(compartmentId: string, door: 'open' | 'closed', timeoutMs = 5_000): Promise<void> {
    await waitFor(`door ${compartmentId} ${door}`, () => this.running.locker.compartment(compartmentId).door === door, timeoutMs);
  }
}

/** Every latch the simulated boards released, in order (what a person would see: a door popping open). */
export class UnlockRecorder {
  readonly unlocks: SimPosition[] = [];
  private readonly off: () => void;

  constructor(world: SimWorld) {
    this.off = world.on((e) => {
      if (e.type === 'lock' && e.cause === 'unlock') this.unlocks.push({ ...e.state.position });
    });
  }

  stop(): void {
    this.off();
  }
}

/** A `mosquitto_sub -v` child process, its output split into (topic, payload) lines. */
export class MosquittoSub {
  readonly lines: { topic: string; payload: string }[] = [];
  private stderr = '';
  private exited = false;

  private constructor(readonly proc: ChildProcess) {
    let buffered = '';
    proc.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const space = line.indexOf(' ');
        if (space > 0) this.lines.push({ topic: line.slice(0, space), payload: line.slice(space + 1) });
      }
    });
    proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    proc.once('exit', () => (this.exited = true));
  }

  /** `mosquitto_sub` as `username`, QoS 1, verbose (topic and payload), on every filter given. */
  static start(o: { port: number; username: string; password: string; topics: string[]; extra?: string[] }): MosquittoSub {
    const args = ['-h', '127.0.0.1', '-p', String(o.port), '-u', o.username, '-P', o.password, '-q', '1', '-v', ...(o.extra ?? [])];
    for (const t of o.topics) args.push('-t', t);
    return new MosquittoSub(spawn('/usr/bin/mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  get errors(): string {
    return this.stderr;
  }

  get running(): boolean {
    return !this.exited;
  }

  on(topicSuffix: string): { topic: string; payload: string }[] {
    return this.lines.filter((l) => l.topic.endsWith(topicSuffix));
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.kill('SIGTERM');
    await gone;
  }
}
