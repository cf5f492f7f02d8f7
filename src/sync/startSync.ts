// One call for the composition root: the MQTT sync client and signed-command handling, wired
// together. The core then calls `notify()` after every transaction that appended outbox rows.
import { CommandDispatcher, type CommandLimits } from './commandDispatcher.js';
import { CommandProcessor, type CommandAudit } from './commands.js';
import type { IssuerDirectory, LockerOperations } from '../domain/lockerOperations.js';
import type { Db } from '../store/database.js';
import type { Outbox } from '../store/outbox.js';
import { StreamPublisher } from './streamPublisher.js';
import { SyncClient, type SyncClientOptions, type SyncHealth } from './syncClient.js';

export interface StartSyncOptions extends Pick<SyncClientOptions, 'config' | 'lockerId' | 'bootId' | 'signer' | 'clock' | 'random' | 'logger'> {
  /** The outbox the publisher drains (the recorder appends to the same one). */
  outbox: Outbox;
  /** The stream epoch the envelopes carry (src/store/databaseIdentity.ts). */
  epoch?: string;
  /** The command replay store's database. */
  db: Db;
  issuers: IssuerDirectory;
  operations: LockerOperations;
  audit?: CommandAudit;
  /** Per-tenant rate, queue and concurrency limits of command handling (COMMAND_LIMITS by default). */
  commandLimits?: Partial<CommandLimits>;
}

export interface RunningSync {
  sync: SyncClient;
  commands: CommandProcessor;
  /** The limits in front of `commands`: every command from MQTT passes through it. */
  dispatcher: CommandDispatcher;
  /** Call after every committed transaction that appended outbox rows. */
  notify(): void;
  health(): SyncHealth;
  stop(): Promise<void>;
}

/** The publisher that drains `outbox` with the window and retention of the MQTT settings. */
export function outboxPublisher(o: Pick<StartSyncOptions, 'outbox' | 'config' | 'signer' | 'lockerId' | 'clock' | 'logger' | 'epoch'>): StreamPublisher {
  return new StreamPublisher({
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    outbox: o.outbox,
    signer: o.signer,
    lockerId: o.lockerId,
    clock: o.clock,
    logger: o.logger,
    inflightWindow: o.config.inflightWindow,
    retainAcked: o.config.retainAcked,
  });
}

export function startSync(o: StartSyncOptions): RunningSync {
  const publisher = outboxPublisher(o);
  const sync = new SyncClient({
    config: o.config,
    lockerId: o.lockerId,
    bootId: o.bootId,
    signer: o.signer,
    publisher,
    clock: o.clock,
    random: o.random,
    logger: o.logger,
    reportedConfig: () => o.operations.reportedConfig(),
  });
  const commands = new CommandProcessor({
    lockerId: o.lockerId,
    db: o.db,
    clock: o.clock,
    logger: o.logger,
    issuers: o.issuers,
    operations: o.operations,
    control: sync,
    ...(o.audit ? { audit: o.audit } : {}),
  });
  const dispatcher = new CommandDispatcher({
    lockerId: o.lockerId,
    handle: (topic, payload) => commands.handle(topic, payload),
    clock: o.clock,
    logger: o.logger,
    ...(o.commandLimits ? { limits: o.commandLimits } : {}),
  });
  sync.setCommandHandler((topic, payload) => dispatcher.dispatch(topic, payload));
  sync.start();
  return {
    sync,
    commands,
    dispatcher,
    notify: () => sync.notify(),
    health: () => sync.health(),
    stop: () => sync.stop(),
  };
}
