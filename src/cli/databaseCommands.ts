// `lockerd init` and `lockerd db check | backup | restore` (docs/operations.md, "Database
// identity, backup and restore"). Each answers in a few lines for a person at a terminal.
import { secureDataDir } from '../composition/dataDir.js';
import { type LockerConfig } from '../config/schema.js';
import { SystemClock } from '../../kernel/clock.js';
import { LockerError } from '../../kernel/errors.js';
import { cryptoRandom } from '../../kernel/random.js';
import { loadOrCreateLockerIdentity } from '../crypto/lockerIdentity.js';
import { createLogger, resolveLogLevel, type Logger } from '../logger.js';
import { backupDatabase, checkDatabaseFile, restoreDatabase } from '../store/backup.js';
import { databasePathOf, inspectDataFolder, openLockerDatabase, runningLockerd } from '../store/databaseIdentity.js';

function toolLogger(): Logger {
  return createLogger({ level: process.env.LOCKERD_LOG_LEVEL ? resolveLogLevel(undefined, process.env) : 'warn', format: 'pretty', destination: process.stderr });
}

/** The explicit first boot: creates the database (new epoch) and the locker identity, then stops. */
export async function initialiseDataFolder(config: LockerConfig): Promise<string[]> {
  const logger = toolLogger();
  await secureDataDir(config.dataDir, logger);
  const before = inspectDataFolder(config.dataDir);
  if (before.hadDatabase && before.file === 'present') {
    const check = checkDatabaseFile(before.databasePath);
    return [`${config.dataDir} is initialised already (locker ${check.identity?.lockerId ?? config.locker.id}, epoch ${check.identity?.epoch ?? '-'}): nothing done`];
  }
  const clock = new SystemClock();
  const random = cryptoRandom();
  const opened = openLockerDatabase({ dataDir: config.dataDir, lockerId: config.locker.id, firstBoot: true, clock, random, logger });
  try {
    await loadOrCreateLockerIdentity(config.dataDir, { random, logger });
  } finally {
    opened.db.close();
    opened.markStopped();
  }
  return [`initialised ${config.dataDir}: database ${opened.databasePath}, epoch ${opened.identity.epoch}`, 'start it with: lockerd start --config <file>'];
}

export interface CommandResult {
  code: number;
  lines: string[];
}

export async function runDatabaseCommand(config: LockerConfig, args: string[], o: { full: boolean }): Promise<CommandResult> {
  const [sub, path] = args;
  const dbPath = databasePathOf(config.dataDir);
  switch (sub) {
    case 'check': {
      const st = inspectDataFolder(config.dataDir);
      if (st.file !== 'present') return { code: 1, lines: [`${dbPath}: ${st.file}${st.sizes ? ` (${st.sizes.actual} bytes, the header needs ${st.sizes.expected})` : ''}`, 'FAIL'] };
      const r = checkDatabaseFile(dbPath, o.full);
      const lines = [
        `${dbPath}: ${o.full ? 'integrity_check' : 'quick_check'} ${r.ok ? 'ok' : 'FAILED'}`,
        ...(r.ok ? [] : r.problems.slice(0, 20).map((p) => `  ${p}`)),
        `schema ${r.userVersion}, locker ${r.identity?.lockerId ?? '-'}, epoch ${r.identity?.epoch ?? '-'} (${r.identity?.epochReason ?? 'no identity yet'})`,
      ];
      if (st.copy && r.identity && st.copy.epoch !== r.identity.epoch) lines.push(`the data folder's epoch is ${st.copy.epoch}: this database was replaced by hand (lockerd start refuses it)`);
      if (st.marker && !st.walPresent && runningLockerd(config.dataDir) === undefined) lines.push('lockerd did not stop cleanly and the -wal file is gone: its last transactions are lost (the next start begins a new epoch)');
      return { code: r.ok ? 0 : 1, lines };
    }
    case 'backup': {
      if (!path) throw new LockerError('USAGE_INVALID', 'lockerd db backup PATH --config FILE: PATH is required');
      const r = await backupDatabase(dbPath, path);
      return { code: 0, lines: [`backed up ${dbPath} to ${r.path} (${r.bytes} bytes, checked; epoch ${r.identity?.epoch ?? '-'})`] };
    }
    case 'restore': {
      if (!path) throw new LockerError('USAGE_INVALID', 'lockerd db restore PATH --config FILE: PATH is required');
      const r = await restoreDatabase({ dataDir: config.dataDir, lockerId: config.locker.id, from: path, clock: new SystemClock(), random: cryptoRandom(), logger: toolLogger() });
      return {
        code: 0,
        lines: [
          `restored ${path} into ${dbPath}`,
          `new stream epoch ${r.identity.epoch} (was ${r.previousEpoch ?? '-'}): every stream restarts at seq 1; consumers see the new epoch`,
          ...(r.keptAs ? [`the database it replaced is kept as ${r.keptAs}`] : []),
          'parcels stored after the backup are not in it: check the compartments before opening the locker to the public',
        ],
      };
    }
    default:
      throw new LockerError('USAGE_INVALID', sub ? `unknown db command "${sub.slice(0, 40)}" (check, backup, restore)` : 'lockerd db needs a command: check, backup or restore');
  }
}
