// The locker side of the sync interop tests: a SQLite outbox (rows written like the core
// writes them), the locker's signing key, a SyncClient connected to a real broker and,
// optionally, command handling against FakeLockerOperations.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SystemClock } from '../../kernel/clock.js';
import { MqttConfig } from '../../src/config/schema.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { cryptoRandom } from '../../kernel/random.js';
import { openDatabase, type Db } from '../../src/store/database.js';
import type { CommandDispatcher, CommandLimits } from '../../src/sync/commandDispatcher.js';
import type { CommandProcessor } from '../../src/sync/commands.js';
import { ed25519Signer } from '../../src/sync/detachedSignature.js';
import { outboxPublisher, startSync } from '../../src/sync/startSync.js';
import { SyncClient } from '../../src/sync/syncClient.js';
import type { FakeLockerOperations } from './fakeLockerOperations.js';
import { OutboxWriter } from './outboxFixture.js';

export interface SyncLockerOptions {
  lockerId: string;
  url: string;
  password: string;
  protocolVersion?: 4 | 5;
  inflightWindow?: number;
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  /** FakeLockerOperations to answer commands with (also the issuer directory). */
  operations?: FakeLockerOperations;
  logger?: Logger;
  /** Command limits of the dispatcher (with operations only). */
  commandLimits?: Partial<CommandLimits>;
  /** The stream epoch its envelopes carry (none by default). */
  epoch?: string;
  /** The locker's signing key (a new one by default), e.g. to play the same locker with a new database. */
  key?: SigningKeyPair;
}

export class SyncLocker {
  readonly clock = new SystemClock();
  readonly writer: OutboxWriter;
  readonly sync: SyncClient;
  readonly commands: CommandProcessor | undefined;
  readonly dispatcher: CommandDispatcher | undefined;

  private constructor(
    readonly lockerId: string,
    readonly db: Db,
    readonly key: SigningKeyPair,
    private readonly dir: string,
    options: SyncLockerOptions,
  ) {
    this.writer = new OutboxWriter(db, `01${lockerId.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 6).padEnd(6, 'X'));
    const logger = options.logger ?? silentLogger();
    const config = MqttConfig.parse({
      url: options.url,
      username: lockerId,
      password: options.password,
      protocolVersion: options.protocolVersion ?? 4,
      inflightWindow: options.inflightWindow ?? 64,
      reconnectMinMs: 50,
      reconnectMaxMs: 500,
      keepaliveS: 5,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    const signer = ed25519Signer(key.privateKey, key.publicJwk.kid ?? 'locker');
    const common = { config, lockerId, bootId: `boot-${lockerId}`, signer, clock: this.clock, random: cryptoRandom(), logger, ...(options.epoch !== undefined ? { epoch: options.epoch } : {}) };
    const outbox = this.writer.outbox;
    if (options.operations) {
      // The same wiring the composition root uses (it starts connecting right away).
      const running = startSync({
        ...common,
        outbox,
        // append() below wakes the client itself (this fixture has no recorder).
        onAppended: () => () => undefined,
        db,
        issuers: options.operations,
        operations: options.operations,
        ...(options.commandLimits ? { commandLimits: options.commandLimits } : {}),
      });
      this.sync = running.sync;
      this.commands = running.commands;
      this.dispatcher = running.dispatcher;
    } else {
      this.sync = new SyncClient({ ...common, publisher: outboxPublisher({ ...common, outbox }), pollMs: 200 });
      this.commands = undefined;
      this.dispatcher = undefined;
    }
  }

  static async create(options: SyncLockerOptions): Promise<SyncLocker> {
    const dir = mkdtempSync(join(tmpdir(), 'lockerd-sync-'));
    // A file database with synchronous=NORMAL: real WAL behaviour without an fsync per PUBACK batch.
    const db = openDatabase(join(dir, 'locker.db'), { synchronous: 'normal' });
    return new SyncLocker(options.lockerId, db, options.key ?? (await generateSigningKeyPair()), dir, options);
  }

  /** Appends one event and tells the sync client, like the core does after each commit. */
  append(carrier: string | null, type = 'parcel.stored', data: Record<string, unknown> = {}): number {
    const { seq } = this.writer.append({ carrier, type, data });
    this.sync.notify();
    return seq;
  }

  ackedUpTo(stream: string): number {
    return this.writer.outbox.ackedUpTo(stream);
  }

  async close(): Promise<void> {
    await this.sync.stop();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until check() is true or the time is up. */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
