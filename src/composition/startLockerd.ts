// The composition root: builds one running lockerd from a validated configuration. It is the
// only place that knows concrete drivers, simulators, the database file and the network.
import { join } from 'node:path';
import type { SimWorld } from '../../sim/world.js';
import { type Clock, SystemClock } from '../../kernel/clock.js';
import { type LockerConfig } from '../config/schema.js';
import { LockerError } from '../../kernel/errors.js';
import { encryptCodeForCarrier } from '../crypto/codeJwe.js';
import { loadOrCreateLockerIdentity, type LockerIdentity } from '../crypto/lockerIdentity.js';
import { BudgetLedger } from '../codes/budgetLedger.js';
import { describeKeypadOdds, keypadOdds } from '../codes/keypadPolicy.js';
import { CodeVault } from '../domain/codeVault.js';
import { BadgeRevocations } from '../credentials/badgeRevocations.js';
import { Credentials } from '../domain/credentials.js';
import { DoorController } from '../domain/doorController.js';
import { DoorCue } from '../domain/doorCue.js';
import { LiveSettings, type RuntimeSettings } from '../domain/liveSettings.js';
import { EventRecorder } from '../domain/eventRecorder.js';
import { Events } from '../domain/events.js';
import { Locker } from '../domain/locker.js';
import { createIdFactory, newBootId } from '../ids.js';
import { KioskServer } from '../kiosk/server.js';
import { type KioskLimits } from '../kiosk/limits.js';
import { loadOrCreateTerminalKey } from '../kiosk/terminal.js';
import { KioskWatchdog } from '../kiosk/watchdog.js';
import { createLogger, resolveLogLevel, type Logger } from '../logger.js';
import { packageRoot, packageVersion } from '../packageRoot.js';
import { cryptoRandom, type RandomSource } from '../../kernel/random.js';
import { corruptDatabase, quickCheck, type Db } from '../store/database.js';
import { openLockerDatabase, type DatabaseIdentity } from '../store/databaseIdentity.js';
import { PeriodicBackup } from '../store/backup.js';
import { Outbox } from '../store/outbox.js';
import { ed25519Signer } from '../sync/detachedSignature.js';
import { envelopeSealer } from '../sync/envelope.js';
import { LockerStore } from '../store/lockerStore.js';
import { DEFAULT_RETENTION, RetentionJob, type RetentionRules } from '../store/retention.js';
import { ReplayStore } from '../sync/replayStore.js';
import { createHardware, type Hardware } from './hardware.js';
import { ClockSyncMonitor } from './clockSync.js';
import { healthFaults, StoreCondition } from './healthReport.js';
import { BackgroundFailures } from './backgroundFailures.js';
import { secureDataDir } from './dataDir.js';
import { guardDeployment } from './deploymentGuard.js';
import { LockerRemoteOperations } from '../domain/remoteOperations.js';
import type { RunningSync } from '../sync/startSync.js';
import { writeFile } from 'node:fs/promises';
import { applyProvisionedState } from '../domain/provisioning.js';
import { createMetrics, type RunningMetrics } from '../metrics/startMetrics.js';
import { UpdateAgent } from '../update/updateAgent.js';

export interface StartOptions {
  config: LockerConfig;
  /** Serve the simulator panel and routes (the config's transports decide what is simulated). */
  sim: boolean;
  logger?: Logger;
  clock?: Clock;
  random?: RandomSource;
  /** Override kiosk.port (0 = any free port). */
  port?: number;
  hardware?: Pick<Parameters<typeof createHardware>[1], 'serialBinding'>;
  /** Start the MQTT sync when the config has an mqtt section (default true). */
  sync?: boolean;
  /** Whether the clock is known to be synchronised (NTP); lockerd flags events stamped before. */
  clockSynced?: () => boolean;
  /** Override metrics.port (0 = any free port, null = no listener). */
  metricsPort?: number | null;
  /** Bounds of the kiosk server (streams, connections, login rates, sessions); defaults otherwise. */
  kioskLimits?: Partial<KioskLimits>;
  /** Asked by the updater once it switched releases: stop and exit with RESTART_EXIT_CODE. */
  onRestartRequested?: () => void;
  /** How often a store that refuses writes is probed for space that returned (default 5 s). */
  storeProbeMs?: number;
  /** Overrides of the retention rules (src/store/retention.ts); tests and the growth benchmark shorten the windows. */
  retention?: Partial<RetentionRules>;
  /** false: refuse to initialise a pristine data folder (DB_NOT_INITIALISED); undefined or true: allowed. */
  firstBoot?: boolean;
  /** Deliberately replace a missing, empty or truncated database with a new one (new epoch). */
  reinitialise?: boolean;
}

function pickDefined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

export interface RunningLockerd {
  url: string;
  config: LockerConfig;
  world?: SimWorld;
  locker: Locker;
  store: LockerStore;
  identity: LockerIdentity;
  bootId: string;
  hardware: Hardware;
  db: Db;
  /** The database's identity: locker id and the stream epoch every envelope carries. */
  databaseIdentity: DatabaseIdentity;
  /** The one owner of the outbox tables (the recorder appends, the publisher drains). */
  outbox: Outbox;
  /** The settings in force (the file's, then the stored and remote setConfig changes). */
  settings: LiveSettings<RuntimeSettings>;
  recorder: EventRecorder;
  kiosk: KioskServer;
  /** The kiosk watchdog, when kiosk.watchdog is configured. */
  kioskWatchdog?: KioskWatchdog;
  remote: LockerRemoteOperations;
  sync?: RunningSync;
  /** Metrics, door cycles and the health report; `metrics.url` is where /metrics answers. */
  metrics: RunningMetrics;
  updates?: UpdateAgent;
  /** The locker's public keys, as an operator enrols them (also written to <dataDir>/identity/public-keys.json). */
  publicKeysFile: string;
  /** The failure policy of every background path (health names its faults). */
  failures: BackgroundFailures;
  /** The periodic retention job (src/store/retention.ts); runOnce() is one pass now. */
  retention: RetentionJob;
  /**
   * Orderly stop: refuses new door sessions (LOCKER_STOPPING), waits up to shutdown.drainMs for
   * those in flight to settle, then closes everything. Resolves with what the drain saw.
   */
  stop(): Promise<{ drained: boolean; leftInFlight: number }>;
}

export async function startLockerd(options: StartOptions): Promise<RunningLockerd> {
  const config = options.config;
  // On --sim only, the wall clock carries the sim panel's offset (sim/simClock.ts, POST /sim/clock/advance).
  const simClock = options.sim && !options.clock ? new (await import('../../sim/simClock.js')).SimClock(new SystemClock()) : undefined;
  const clock = options.clock ?? simClock ?? new SystemClock();
  const random = options.random ?? cryptoRandom();
  const logger = options.logger ?? createLogger({ level: resolveLogLevel(config.logLevel, process.env) });
  const started = clock.monotonic();
  guardDeployment(config, { sim: options.sim, logger });
  await secureDataDir(config.dataDir, logger);

  // Before the identity is created: a folder that had a database refuses a lost one (src/store/databaseIdentity.ts).
  const opened = openLockerDatabase({ dataDir: config.dataDir, lockerId: config.locker.id, ...pickDefined({ firstBoot: options.firstBoot, reinitialise: options.reinitialise }), clock, random, logger });
  const { db, databasePath } = opened;
  const identity = await loadOrCreateLockerIdentity(config.dataDir, { random, logger });
  // A damaged file is not run on (docs/operations.md, "Faults: disk, corruption, stop"): the
  // record is the product, and writing on top of broken pages loses more of it.
  const problems = quickCheck(db);
  if (problems.length) {
    db.close();
    throw corruptDatabase(databasePath, problems);
  }
  const store = new LockerStore(db);
  // Events are signed and encoded when they are appended, in the transaction that records them:
  // the drain then publishes stored bytes (docs/architecture.md, "Outbox bytes and watermarks").
  const signer = ed25519Signer(identity.signingKey, identity.signingPublicJwk.kid ?? config.locker.id);
  const outbox = new Outbox(db, envelopeSealer(config.locker.id, signer, opened.identity.epoch));
  applyProvisionedState(store, config, clock.now(), logger);

  const bootId = newBootId(clock, random);
  const newId = createIdFactory(clock, random);
  // The simulator runs on the development machine's clock; a real locker asks systemd.
  const clockMonitor = options.clockSynced || options.sim ? undefined : new ClockSyncMonitor(clock, logger);
  clockMonitor?.start();
  const clockSynced = options.clockSynced ?? (clockMonitor ? () => clockMonitor.isSynced() : () => true);
  const recorder = new EventRecorder(store, outbox, clock, newId, bootId, clockSynced);
  const storeCondition = new StoreCondition(() => clock.now());
  const failures = new BackgroundFailures({
    clock,
    logger: logger.child({ channel: 'faults' }),
    store: storeCondition,
    alarm: (data) => recorder.commit({ actor: 'system', action: 'alarm.background_failed', data, events: [Events.backgroundFailed(data)] }),
    storeResumed: (data) => recorder.commit({ actor: 'system', action: 'alarm.store_refused', data, events: [Events.storeRefused(data)] }),
    probeWrite: () => store.transaction(() => store.putSetting('store.probe', String(clock.now()))),
    ...(options.storeProbeMs !== undefined ? { probeMs: options.storeProbeMs } : {}),
  });
  recorder.onFailed((e) => {
    storeCondition.failed(e);
    failures.armProbe();
  });
  recorder.onCommitted(() => storeCondition.succeeded());

  const hardware = await createHardware(config, { clock, logger, random, ...(options.hardware ?? {}) });
  // What remote setConfig may change: a published value the services read, not a shared object.
  const settings = new LiveSettings<RuntimeSettings>({
    codes: config.codes,
    doors: config.doors,
    sync: config.mqtt ? { inflightWindow: config.mqtt.inflightWindow, retainAcked: config.mqtt.retainAcked } : null,
  });
  const doors = new DoorController(hardware.buses, clock, settings.view('doors'), logger.child({ channel: 'doors' }));
  doors.setFailurePolicy(failures);
  doors.setLayout(store.compartments().map((c) => ({ id: c.id, bus: c.bus, board: c.board, lock: c.lock })));
  const budgets = new BudgetLedger(store, clock);
  // check-config refuses a weak keypad policy; a locker started with one anyway says so.
  const keypad = { length: config.codes.length, burst: config.codes.burst, refillPerHour: config.codes.refillPerHour, liveCodes: config.codes.maxLiveCodes ?? store.compartments().length };
  const odds = keypadOdds(keypad);
  if (!odds.ok) logger.warn({ probability: odds.unionBound, target: odds.target }, `CODE_POLICY_WEAK: ${describeKeypadOdds(keypad, odds)}`);
  const codes = new CodeVault(store, recorder, settings.view('codes'), identity.codeSecret, random, clock, budgets, () => store.compartments().length);
  const locker = new Locker({
    settings: { revealCodes: config.demo.revealCodes },
    store,
    doors,
    recorder,
    codes,
    clock,
    newId,
    logger: logger.child({ channel: 'locker' }),
    encryptCode: async (carrier, payload) => (carrier.encryptionKey ? encryptCodeForCarrier(carrier.encryptionKey, payload) : undefined),
  });
  // The buzzer and LED cue (hardware.indicator): fed the locker's events, never awaited by a door.
  const offCue = hardware.indicator ? locker.on(new DoorCue(hardware.indicator, logger.child({ channel: 'indicator' })).onEvent) : undefined;
  const revocations = new BadgeRevocations(store, clock, () => config.badges);
  revocations.prune();
  const credentials = new Credentials(store, config.operator, clock, { budgets, policy: config.courierPins, recorder, logger: logger.child({ channel: 'credentials' }) }, { policy: () => config.badges, revocations });
  // Signed updates (src/update/): the agent answers the update command and runs the health gate.
  const updates = config.updates
    ? new UpdateAgent({
        settings: config.updates,
        clock,
        random,
        logger,
        db,
        store,
        recorder,
        version: packageVersion(),
        packageRoot: packageRoot(),
        health: () => ({ buses: [...hardware.buses.values()].every((b) => doors.busConnected(b.id)), broker: !sync || sync.health().connected }),
        requestRestart: () => options.onRestartRequested?.(),
      })
    : undefined;
  const remote = new LockerRemoteOperations({
    ...(updates ? { updates } : {}),
    locker,
    store,
    doors,
    clock,
    config,
    settings,
    lockerEncryptionKey: identity.encryptionKey,
    diagnostics: () => health(),
    setLogLevel: (level) => {
      logger.level = level;
    },
    revocations,
  });
  remote.applyStoredConfig();
  // Made before the buses open, so the first readings and bus errors are counted (docs/operations.md).
  const metrics = createMetrics({ config, version: packageVersion(), clock, db, databasePath, doors, recorder, hardware, compartments: () => store.compartments().map((c) => c.id), sync: () => syncHealth(), logger: logger.child({ channel: 'metrics' }), failures });
  const publicKeysFile = join(config.dataDir, 'identity', 'public-keys.json');
  await writeFile(publicKeysFile, `${JSON.stringify({ id: config.locker.id, signingKey: identity.signingPublicJwk, encryptionKey: identity.encryptionPublicJwk }, null, 2)}\n`, { mode: 0o600 });

  doors.start();
  // A bus that cannot open (adapter absent, cable out) does not stop lockerd: it starts
  // degraded, health and the kiosk say so, and the bus keeps retrying (backoff, and the device
  // path watched) until it comes up. Exiting would only make systemd loop on it.
  await Promise.all(
    [...hardware.buses.values()].map((b) =>
      b.open().catch((err: unknown) => logger.error({ bus: b.id, code: err instanceof LockerError ? err.code : undefined }, `BUS_DISCONNECTED: bus ${b.id} did not open at start; running degraded and retrying: ${err instanceof Error ? err.message : String(err)}`)),
    ),
  );
  // The periodic online backup to a second path (src/store/backup.ts); a failure is logged and retried on schedule.
  const backups = config.backup ? new PeriodicBackup({ db, path: config.backup.path, intervalMs: config.backup.intervalMinutes * 60_000, clock, logger: logger.child({ channel: 'backup' }) }) : undefined;
  backups?.start();
  const reconciled = await locker.reconcile();
  if (reconciled.resolved || reconciled.pending) logger.info(reconciled, 'reconciled interrupted door sessions');
  locker.startTimers(failures);
  // Growth with work: audit, ended door sessions, closed parcels and expired commands are pruned
  // by the rules in src/store/retention.ts (docs/operations.md, "Memory and growth").
  const commandLog = new ReplayStore(db);
  const retention = new RetentionJob({
    store,
    clock,
    logger: logger.child({ channel: 'retention' }),
    pruneCommands: (now) => commandLog.prune(now),
    outbox,
    ...(options.retention ? { rules: options.retention } : {}),
    // The replay window in force (setConfig may change it); without MQTT no row is ever acknowledged.
    outboxRetainAcked: () => settings.get().sync?.retainAcked ?? DEFAULT_RETENTION.outboxRetainAcked,
  });
  retention.start();

  let sync: RunningSync | undefined;
  /** Set when a stop began: health names LOCKER_STOPPING from then on. */
  let stoppingSince: number | undefined;
  // Counting a large backlog is not free: health is polled, so the sync figures are reused for 5 s.
  let syncHealthCache: { at: number; value: ReturnType<RunningSync['health']> } | undefined;
  const syncHealth = (): ReturnType<RunningSync['health']> | undefined => {
    if (!sync) return undefined;
    const now = clock.monotonic();
    if (!syncHealthCache || now - syncHealthCache.at > 5_000) {
      // The backlog figures read the outbox: a damaged store makes health say so, not fail.
      const running = sync;
      const value = failures.run('health.sync', () => running.health());
      if (!value) return undefined;
      syncHealthCache = { at: now, value };
    }
    return syncHealthCache.value;
  };
  const health = () => {
    const buses = [...hardware.buses.values()].map((b) => ({ id: b.id, connected: doors.busConnected(b.id), silentBoards: doors.silentBoards(b.id) }));
    const mqtt = syncHealth();
    // ok only when nothing takes service away: a lost bus, a silent board, a store that refuses writes.
    const faults = healthFaults(buses, storeCondition, { background: failures.healthFaults(), ...(stoppingSince !== undefined ? { stoppingSince } : {}) });
    return {
      ok: faults.length === 0,
      faults,
      lockerId: config.locker.id,
      bootId,
      version: packageVersion(),
      clockSynced: clockSynced(),
      buses,
      scanner: hardware.scanner ? (hardware.scanner.connected ? 'connected' : 'disconnected') : 'absent',
      ...(mqtt ? { mqtt } : {}),
    };
  };

  // The kiosk terminal proves itself with this key (deploy/kiosk hands it to the browser).
  const terminalKey = await loadOrCreateTerminalKey(config.dataDir, random);
  // The kiosk watchdog: a page that stops sending heartbeats gets its browser restarted.
  const watchdogConfig = config.kiosk.watchdog;
  const kioskWatchdog = watchdogConfig
    ? new KioskWatchdog({
        config: watchdogConfig,
        clock,
        logger: logger.child({ channel: 'kiosk-watchdog' }),
        alarm: (event) => locker.alarms.raise(event),
      })
    : undefined;
  const kiosk = new KioskServer({
    locker,
    credentials,
    config,
    clock,
    random,
    logger: logger.child({ channel: 'kiosk' }),
    publicDir: join(packageRoot(), 'src', 'kiosk', 'public'),
    sim: options.sim,
    terminalKey,
    codeLength: () => settings.get().codes.length,
    ...(options.kioskLimits ? { limits: options.kioskLimits } : {}),
    health: () => health(),
    ...(kioskWatchdog ? { onHeartbeat: () => kioskWatchdog.beat() } : {}),
  });

  let scannerLost = false;
  const offScanner = hardware.scanner?.on((e) => {
    // Scanned text never goes on a stream: the kiosk reads it for the screen in use.
    if (e.type === 'scan') void kiosk.scanned(e.text);
    else if (e.type === 'connected' || e.type === 'disconnected') {
      kiosk.push({ type: 'scanner', connected: e.type === 'connected' });
      if (e.type === 'disconnected') {
        scannerLost = true;
        locker.alarms.raise(Events.scannerDisconnected({ ...(e.message ? { message: e.message } : {}) }));
      } else if (scannerLost) {
        scannerLost = false;
        locker.alarms.raise(Events.scannerReconnected({}));
      }
    } else if (e.type === 'rejected') logger.debug({ code: e.code, length: e.length }, 'scanner input rejected');
  });
  await hardware.scanner?.start();

  let stopSimRoutes: (() => void) | undefined;
  if (options.sim && hardware.sim) {
    const { registerSimRoutes } = await import('../../sim/panel/simRoutes.js');
    stopSimRoutes = registerSimRoutes({
      router: kiosk.router,
      world: hardware.sim.world,
      locker,
      compartments: () => store.compartments().map((c) => ({ ...c, column: c.column, row: c.row })),
      openEventStream: (ctx, streams) => kiosk.openEventStream(ctx, streams),
      scannerNoise: hardware.sim.noise,
      ...(simClock ? { clock: simClock } : {}),
    });
    kiosk.serveStatic('/sim/', join(packageRoot(), 'sim', 'panel', 'public'));
  }

  if (config.mqtt && options.sync !== false) {
    // Loaded only when a broker is configured: the MQTT client is a good part of the footprint.
    const { startSync } = await import('../sync/startSync.js');
    sync = startSync({
      // The stored remote sync tunables (applied above) outrank the file.
      config: { ...config.mqtt, ...settings.get().sync },
      lockerId: config.locker.id,
      bootId,
      epoch: opened.identity.epoch,
      signer,
      outbox,
      onAppended: (listener) => recorder.onAppended(listener),
      db,
      clock,
      random,
      logger: logger.child({ channel: 'sync' }),
      issuers: remote,
      operations: remote,
      failures,
    });
    const running = sync;
    settings.view('sync').onChange((next) => {
      if (next) running.sync.publisher.configure(next);
    });
  }

  const url = await kiosk.listen(config.kiosk.host, options.port ?? config.kiosk.port);
  kioskWatchdog?.start();
  await metrics.start(options.metricsPort);
  logger.info({ url, lockerId: config.locker.id, bootId, startMs: Math.round(clock.monotonic() - started) }, 'lockerd ready');
  await updates?.start();

  let stopping: Promise<{ drained: boolean; leftInFlight: number }> | undefined;
  const drain = async (): Promise<{ drained: boolean; leftInFlight: number }> => {
    const deadline = clock.monotonic() + config.shutdown.drainMs;
    let inFlight = locker.sessionsInFlight();
    if (inFlight > 0) logger.info({ inFlight, drainMs: config.shutdown.drainMs }, 'stopping: waiting for the door sessions in flight to settle');
    while (inFlight > 0 && clock.monotonic() < deadline) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(50, Math.max(1, deadline - clock.monotonic()))));
      inFlight = locker.sessionsInFlight();
    }
    if (inFlight > 0) logger.warn({ inFlight, drainMs: config.shutdown.drainMs }, 'LOCKER_STOPPING: door sessions still in flight at the end of the drain; they are reconciled at the next start');
    return { drained: inFlight === 0, leftInFlight: inFlight };
  };
  const stopNow = async (): Promise<{ drained: boolean; leftInFlight: number }> => {
    stoppingSince = clock.now();
    locker.beginStop();
    const drained = await drain();
    updates?.stop();
    kioskWatchdog?.stop();
    await sync?.stop();
    stopSimRoutes?.();
    offScanner?.();
    locker.stop();
    offCue?.();
    await hardware.indicator?.close().catch((err: unknown) => logger.warn({ err }, 'indicator did not close'));
    retention.stop();
    clockMonitor?.stop();
    await kiosk.close();
    await hardware.scanner?.stop();
    doors.stop();
    await Promise.all([...hardware.buses.values()].map((b) => b.close().catch(() => undefined)));
    hardware.sim?.stop();
    await metrics.stop();
    await backups?.stop();
    failures.stop();
    db.close();
    opened.markStopped();
    return drained;
  };
  return {
    url,
    config,
    ...(hardware.sim ? { world: hardware.sim.world } : {}),
    locker,
    store,
    identity,
    bootId,
    hardware,
    db,
    databaseIdentity: opened.identity,
    outbox,
    settings,
    recorder,
    kiosk,
    ...(kioskWatchdog ? { kioskWatchdog } : {}),
    remote,
    ...(sync ? { sync } : {}),
    metrics,
    ...(updates ? { updates } : {}),
    publicKeysFile,
    failures,
    retention,
    stop() {
      stopping ??= stopNow();
      return stopping;
    },
  };
}
