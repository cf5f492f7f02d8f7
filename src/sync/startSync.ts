// One call for the composition root: the MQTT sync client and signed-command handling, wired
// together. The publisher subscribes to the recorder's commits itself (`onAppended`): one hop
// from a committed event to the pump that publishes it.
import { CommandDispatcher, type CommandLimits } from './commandDispatcher.js';
import { CommandProcessor, type CommandAudit } from './commands.js';
import type { IssuerDirectory, LockerOperations } from '../domain/lockerOperations.js';
import type { Db } from '../store/database.js';
import type { Outbox } from '../store/outbox.js';
import { StreamPublisher } from './streamPublisher.js';
import { SyncClient, type SyncClientOptions, type SyncHealth } from './syncClient.js';

export interface StartSyncOptions extends Pick<SyncClientOptions, 'config' | 'lockerId' | 'bootId' | 'signer' | 'clock' | 'random' | 'logger' | 'failures'> {
  /** The outbox the publisher drains (the recorder appends to the same one). */
  outbox: Outbox;
  /** Subscribes to commits that appended outbox rows (the recorder's onAppended). */
  onAppended: (listener: () => void) => () => void;
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
  health(): SyncHealth;
  stop(): Promise<void>;
}

/** The publisher that drains `outbox` with the window and retention of the MQTT settings. */
export function outboxPublisher(o: Pick<StartSyncOptions, 'outbox' | 'config' | 'signer' | 'lockerId' | 'clock' | 'logger' | 'failures' | 'epoch'>): StreamPublisher {
  return new StreamPublisher({
    ...(o.epoch !== undefined ? { epoch: o.epoch } : {}),
    outbox: o.outbox,
    signer: o.signer,
    lockerId: o.lockerId,
    clock: o.clock,
    logger: o.logger,
    inflightWindow: o.config.inflightWindow,
    retainAcked: o.config.retainAcked,
    ...(o.failures ? { failures: o.failures } : {}),
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
    ...(o.failures ? { failures: o.failures } : {}),
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
  const unsubscribe = o.onAppended(() => publisher.notifySoon());
  sync.start();
  return {
    sync,
    commands,
    dispatcher,
    health: () => sync.health(),
    stop: () => {
      unsubscribe();
      return sync.stop();
    },
  };
}
