// Many simulated lockers in one process: their keys (enrolled with the carriers' back ends
// by the caller), connections opened in small batches so the broker's listen backlog is not
// flooded, and the traffic: a Poisson process at the fleet's total event rate, each event going
// to a locker and one of its carriers chosen at random. Creation and emission times are kept
// per stream so the caller can compute end-to-end latency against the consumer's times.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock } from '../kernel/clock.js';
import { type Ed25519PublicJwk } from '../src/config/schema.js';
import { jwkThumbprint } from '../src/crypto/keys.js';
import { type Logger } from '../src/logger.js';
import { randomFraction, randomInt, seededRandom } from '../kernel/random.js';
import { type FleetCarrier, SimulatedLocker, templateDatabase } from './simulatedLocker.js';

export interface LockerFleetOptions {
  lockerIds: readonly string[];
  carriers: readonly FleetCarrier[];
  url: string;
  password?: string;
  protocolVersion: 4 | 5;
  clock: Clock;
  logger: Logger;
  stamp: () => number;
  seed: string;
  /** Connections opened at once while connecting the fleet. */
  connectBatch?: number;
  keepaliveS?: number;
  /** Folder under which each locker gets its data folder (<dataRoot>/<lockerId>/lockerd.db). */
  dataRoot: string;
  synchronous?: 'full' | 'normal';
  /** SQLite page cache per locker, KiB. */
  cacheKiB?: number;
  retainAcked?: number;
}

/** What one stream produced: times indexed by seq - 1. */
export interface StreamProduction {
  locker: string;
  carrier: string;
  lastSeq: number;
  createdAt: number[];
}

export interface FleetProduction {
  streams: StreamProduction[];
  emitted: number;
  failed: number;
  /** First and last creation time (monotonic ms). */
  firstAt: number;
  lastAt: number;
  /** How late events were created against their Poisson schedule (the generator's own lag), ms. */
  scheduleLagMs: number[];
  /** Arrivals not created because a second's worth of events was still in production or they were already a second late (the process could not keep up). */
  shed: number;
}

/** Arrivals handled per turn of the generator's loop (see run). */
const BURST = 32;
/** An arrival not started this late is shed (see run). */
const MAX_LAG_MS = 1_000;

export class LockerFleet {
  readonly lockers: SimulatedLocker[] = [];
  private readonly publicKeys = new Map<string, Ed25519PublicJwk>();
  private readonly produced = new Map<string, StreamProduction>();
  private template: string | undefined;

  private constructor(private readonly o: LockerFleetOptions) {}

  /** Creates the lockers and their signing keys; nothing is connected yet. */
  static async create(o: LockerFleetOptions): Promise<LockerFleet> {
    const fleet = new LockerFleet(o);
    // The migrations run once per process; every locker starts from a copy (SimulatedLocker's template).
    mkdirSync(o.dataRoot, { recursive: true, mode: 0o700 });
    const template = join(o.dataRoot, `.template-${process.pid}.db`);
    fleet.template = templateDatabase(template);
    try {
      for (const lockerId of o.lockerIds) {
        const { privateKey, publicKey } = generateKeyPairSync('ed25519');
        const jwk = publicKey.export({ format: 'jwk' });
        if (typeof jwk.x !== 'string') throw new Error('no public key');
        const kid = await jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
        fleet.publicKeys.set(lockerId, { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid });
        fleet.lockers.push(fleet.makeLocker(lockerId, privateKey, kid));
        for (const c of o.carriers) fleet.produced.set(`${lockerId}/${c.id}`, { locker: lockerId, carrier: c.id, lastSeq: 0, createdAt: [] });
      }
    } finally {
      rmSync(template, { force: true });
      fleet.template = undefined;
    }
    return fleet;
  }

  private makeLocker(lockerId: string, signingKey: KeyObject, kid: string): SimulatedLocker {
    return new SimulatedLocker({
      lockerId,
      carriers: this.o.carriers,
      url: this.o.url,
      ...(this.o.password !== undefined ? { password: this.o.password } : {}),
      protocolVersion: this.o.protocolVersion,
      signingKey,
      kid,
      clock: this.o.clock,
      random: seededRandom(`${this.o.seed}/${lockerId}`),
      logger: this.o.logger,
      stamp: this.o.stamp,
      ...(this.o.keepaliveS !== undefined ? { keepaliveS: this.o.keepaliveS } : {}),
      dataDir: join(this.o.dataRoot, lockerId),
      ...(this.o.synchronous !== undefined ? { synchronous: this.o.synchronous } : {}),
      ...(this.o.cacheKiB !== undefined ? { cacheKiB: this.o.cacheKiB } : {}),
      ...(this.o.retainAcked !== undefined ? { retainAcked: this.o.retainAcked } : {}),
      ...(this.template !== undefined ? { template: this.template } : {}),
    });
  }

  /** The lockers' public keys, as an operator enrols them with the carriers. */
  enrolment(): Record<string, Ed25519PublicJwk> {
    return Object.fromEntries(this.publicKeys);
  }

  /** Starts every locker's sync, a batch at a time; resolves when all are connected. */
  async connect(timeoutMs: number, progress?: (connected: number) => void): Promise<number> {
    const batch = this.o.connectBatch ?? 50;
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < this.lockers.length; i += batch) {
      const group = this.lockers.slice(i, i + batch);
      for (const l of group) l.start();
      while (!group.every((l) => l.connected)) {
        if (Date.now() > deadline) return this.connectedCount();
        await this.o.clock.sleep(10);
      }
      progress?.(this.connectedCount());
    }
    return this.connectedCount();
  }

  connectedCount(): number {
    return this.lockers.filter((l) => l.connected).length;
  }

  /**
   * Produces events at ratePerS for durationMs (Poisson arrivals) on the connected lockers, then
   * waits for the last commits. At most maxPending events (default: one second's worth) are in
   * production at once; arrivals beyond that are shed and counted, so a process that cannot keep
   * up shows a lower achieved rate instead of an ever-growing queue.
   */
  async run(ratePerS: number, durationMs: number, maxPending = Math.max(100, Math.ceil(ratePerS))): Promise<FleetProduction> {
    const random = seededRandom(`${this.o.seed}/traffic`);
    const carriers = this.o.carriers.map((c) => c.id);
    // Only lockers that got a connection take part: the rest would only queue in their outboxes.
    const lockers = this.lockers.filter((l) => l.connected);
    const lag: number[] = [];
    const pending = new Set<Promise<unknown>>();
    let emitted = 0;
    let failed = 0;
    let shed = 0;
    let firstAt = Number.POSITIVE_INFINITY;
    let lastAt = 0;
    const start = this.o.stamp();
    const end = start + durationMs;
    // Exponential gaps between arrivals: mean 1000 / ratePerS ms.
    const gap = (): number => -Math.log(1 - randomFraction(random)) * (1000 / ratePerS);
    let due = start + gap();
    while (due < end && lockers.length > 0) {
      const now = this.o.stamp();
      // At most `burst` arrivals per turn: their commits run before the next timer, and a starved
      // process that woke up late would otherwise commit seconds' worth in one turn, stalling
      // every locker's sync (the later arrivals wait for the next turn, or are shed).
      let burst = BURST;
      while (due <= now && due < end && burst > 0) {
        const locker = lockers[randomInt(random, lockers.length)];
        const carrier = carriers[randomInt(random, carriers.length)];
        const scheduled = due;
        due += gap();
        if (!locker || carrier === undefined) continue;
        // Open loop: an arrival the process could not start within MAX_LAG_MS is shed, not
        // produced late, so the traffic ends when its time is up and the rate says what was carried.
        if (pending.size >= maxPending || now - scheduled > MAX_LAG_MS) {
          shed += 1;
          continue;
        }
        const p = locker.emit(carrier).then(
          (e) => {
            emitted += 1;
            lag.push(e.createdAt - scheduled);
            firstAt = Math.min(firstAt, e.createdAt);
            lastAt = Math.max(lastAt, e.createdAt);
            const s = this.produced.get(`${locker.lockerId}/${carrier}`);
            if (s) {
              s.createdAt[e.seq - 1] = e.createdAt;
              s.lastSeq = Math.max(s.lastSeq, e.seq);
            }
          },
          () => {
            failed += 1;
          },
        );
        burst -= 1;
        pending.add(p);
        void p.finally(() => pending.delete(p));
      }
      // Node timers resolve to about a millisecond: arrivals due by then go out together.
      if (due <= this.o.stamp()) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    return { streams: [...this.produced.values()], emitted, failed, firstAt, lastAt, scheduleLagMs: lag, shed };
  }

  /** The outbox's own last seq per stream, to check against what was counted. */
  outboxLastSeqs(): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.lockers) for (const [carrier, seq] of Object.entries(l.lastSeqs())) out.set(`${l.lockerId}/${carrier}`, seq);
    return out;
  }

  /** Rows still without a PUBACK across the fleet. */
  unsent(): number {
    let n = 0;
    for (const l of this.lockers) for (const s of l.health().publisher.streams) n += s.unsent;
    return n;
  }

  async stop(): Promise<void> {
    const batch = 100;
    for (let i = 0; i < this.lockers.length; i += batch) await Promise.all(this.lockers.slice(i, i + batch).map((l) => l.stop()));
  }
}
