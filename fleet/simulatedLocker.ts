// One locker of the fleet simulator: the locker's real sync stack without its hardware. Events
// are committed the way the core commits them (EventRecorder: audit row and outbox rows in one
// SQLite transaction, then notify), and the real SyncClient publishes them: signed envelopes,
// one stream per carrier, QoS 1, PUBACK marks, acks and replays from the carrier's back end,
// presence, backoff. Each locker has its own data folder and SQLite file, opened the way lockerd
// opens it (openLockerDatabase: WAL, every migration, the database identity and its stream
// epoch), and its outbox seals every row at append with the locker's key (envelopeSealer, as
// startLockerd wires it), so the drain publishes stored bytes. One simplification, a knob:
// `synchronous` (NORMAL by default: WAL commits without an fsync each, because ten thousand
// lockers' fsyncs on one disk would measure this machine's disk, while every real locker has
// its own; 'full' is what lockerd ships). A WAL database holds 3 descriptors (file, -wal,
// -shm) and the MQTT socket a fourth: see fleet/openFiles.ts.
import { type KeyObject } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { type Clock } from '../kernel/clock.js';
import { MqttConfig, type X25519PublicJwk } from '../src/config/schema.js';
import { EventRecorder } from '../src/domain/eventRecorder.js';
import { createIdFactory, newBootId } from '../src/ids.js';
import { type Logger } from '../src/logger.js';
import { type RandomSource } from '../kernel/random.js';
import { openDatabase, type Db } from '../src/store/database.js';
import { databasePathOf, openLockerDatabase } from '../src/store/databaseIdentity.js';
import { LockerStore } from '../src/store/lockerStore.js';
import { ed25519Signer } from '../src/sync/detachedSignature.js';
import { Outbox, streamOf } from '../src/store/outbox.js';
import { envelopeSealer } from '../src/sync/envelope.js';
import { outboxPublisher } from '../src/sync/startSync.js';
import { SyncClient, type SyncHealth } from '../src/sync/syncClient.js';
import { ParcelEventSource } from './parcelEvents.js';

export interface FleetCarrier {
  id: string;
  /** Parcel codes in parcel.stored are encrypted to this key (as the real locker does). */
  encryptionKey?: X25519PublicJwk;
}

export interface SimulatedLockerOptions {
  lockerId: string;
  carriers: readonly FleetCarrier[];
  url: string;
  /** Broker password of the locker principal (its username is the locker id). */
  password?: string;
  protocolVersion: 4 | 5;
  signingKey: KeyObject;
  kid: string;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** Monotonic milliseconds, comparable across processes of this machine (event creation time). */
  stamp: () => number;
  keepaliveS?: number;
  inflightWindow?: number;
  /** The locker's data folder (created if missing): its database file lives there. */
  dataDir: string;
  /** 'normal' (default): WAL commits without fsync; 'full': fsync at every commit, as lockerd ships. */
  synchronous?: 'full' | 'normal';
  /** SQLite page cache of the locker's connection, KiB (lockerd uses 2,000; default 256: see BENCHMARKS.md "Memory per locker"). */
  cacheKiB?: number;
  /** Acknowledged rows the outbox keeps per stream (lockerd's mqtt.retainAcked, default 10,000). */
  retainAcked?: number;
  /**
   * A freshly migrated database file (no identity yet) copied in as the locker's database when
   * its folder has none: lockerd then adopts it with an epoch of its own, as it adopts a database
   * from before the identity existed. Byte for byte what the migrations make, without running
   * them again for each of ten thousand lockers (templateDatabase).
   */
  template?: string;
}

/** Migrates a new database file at `path` (WAL checkpointed into it, no identity) for SimulatedLocker's `template`. */
export function templateDatabase(path: string): string {
  const db = openDatabase(path, { synchronous: 'normal' });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  return path;
}

/** An event the locker committed: its stream position and when it was created. */
export interface Emitted {
  carrier: string;
  seq: number;
  createdAt: number;
}

export class SimulatedLocker {
  readonly sync: SyncClient;
  private readonly db: Db;
  private readonly recorder: EventRecorder;
  private readonly outbox: Outbox;
  private readonly sources = new Map<string, ParcelEventSource>();
  private readonly seqs = new Map<string, number>();
  /** Events of one stream are produced one after another (a stored parcel is announced first). */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly markStopped: () => void;
  /** The stream epoch of this locker's database. */
  readonly epoch: string;
  readonly databasePath: string;

  constructor(private readonly o: SimulatedLockerOptions) {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    const file = databasePathOf(o.dataDir);
    if (o.template !== undefined && !existsSync(file)) copyFileSync(o.template, file);
    const opened = openLockerDatabase({
      dataDir: o.dataDir,
      lockerId: o.lockerId,
      firstBoot: true,
      clock: o.clock,
      random: o.random,
      logger: o.logger,
      database: { synchronous: o.synchronous ?? 'normal' },
    });
    this.db = opened.db;
    this.db.pragma(`cache_size = -${Math.max(16, Math.round(o.cacheKiB ?? 256))}`);
    // The pages the migrations read stay cached otherwise (about 80 KiB a locker).
    this.db.pragma('shrink_memory');
    this.markStopped = opened.markStopped;
    this.epoch = opened.identity.epoch;
    this.databasePath = opened.databasePath;
    const store = new LockerStore(this.db);
    const signer = ed25519Signer(o.signingKey, o.kid);
    this.outbox = new Outbox(this.db, envelopeSealer(o.lockerId, signer, this.epoch));
    const newId = createIdFactory(o.clock, o.random);
    const bootId = newBootId(o.clock, o.random);
    this.recorder = new EventRecorder(store, this.outbox, o.clock, newId, bootId, () => true);
    const config = MqttConfig.parse({
      url: o.url,
      username: o.lockerId,
      ...(o.password !== undefined ? { password: o.password } : {}),
      protocolVersion: o.protocolVersion,
      keepaliveS: o.keepaliveS ?? 30,
      inflightWindow: o.inflightWindow ?? 64,
      reconnectMinMs: 500,
      reconnectMaxMs: 10_000,
      ...(o.retainAcked !== undefined ? { retainAcked: o.retainAcked } : {}),
    });
    const publisher = outboxPublisher({ outbox: this.outbox, config, signer, lockerId: o.lockerId, clock: o.clock, logger: o.logger, epoch: this.epoch });
    this.sync = new SyncClient({ config, lockerId: o.lockerId, bootId, signer, publisher, clock: o.clock, random: o.random, logger: o.logger });
    this.recorder.onAppended(() => this.sync.notify());
    for (const [i, carrier] of o.carriers.entries()) {
      this.sources.set(
        carrier.id,
        new ParcelEventSource({
          carrier: carrier.id,
          ...(carrier.encryptionKey ? { carrierKey: carrier.encryptionKey } : {}),
          random: o.random,
          newId,
          now: () => o.clock.now(),
          waybillPrefix: `${o.lockerId.toUpperCase().replace(/[^A-Z0-9]/g, '')}-${i}-`,
        }),
      );
      this.seqs.set(carrier.id, 0);
    }
  }

  get lockerId(): string {
    return this.o.lockerId;
  }

  start(): void {
    this.sync.start();
  }

  get connected(): boolean {
    return this.sync.health().connected;
  }

  /** Produces the next event of this carrier's stream: built, committed, handed to sync. */
  emit(carrier: string): Promise<Emitted> {
    const source = this.sources.get(carrier);
    if (!source) return Promise.reject(new Error(`${this.o.lockerId} does not serve ${carrier}`));
    const previous = this.chains.get(carrier) ?? Promise.resolve();
    const next = previous.then(async () => {
      const event = await source.next();
      const createdAt = this.o.stamp();
      this.recorder.commit({ actor: 'system', action: event.type, subject: event.data.parcelId, events: [event] });
      const seq = (this.seqs.get(carrier) ?? 0) + 1;
      this.seqs.set(carrier, seq);
      return { carrier, seq, createdAt };
    });
    this.chains.set(
      carrier,
      next.catch(() => undefined),
    );
    return next;
  }

  /** The last seq of each carrier's stream, read back from the outbox itself. */
  lastSeqs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.o.carriers) out[c.id] = (this.outbox.stream(streamOf(c.id))?.nextSeq ?? 1) - 1;
    return out;
  }

  health(): SyncHealth {
    return this.sync.health();
  }

  async stop(): Promise<void> {
    await this.sync.stop();
    this.db.close();
    this.markStopped();
  }
}
