// The layering is enforced by the linter (eslint.config.js), in every direction: each case is
// an import the rules must refuse, linted as if it were written in that folder.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';

const eslint = new ESLint({ cwd: packageRoot() });

async function restricted(filePath: string, code: string): Promise<boolean> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

const refused: [string, string, string][] = [
  ['domain imports sync', 'src/domain/probe.ts', "import { type SyncClient } from '../sync/syncClient.js';\nexport type X = SyncClient;\n"],
  ['domain imports the kiosk', 'src/domain/probe.ts', "import { type KioskServer } from '../kiosk/server.js';\nexport type X = KioskServer;\n"],
  ['hal imports src', 'hal/buses/probe.ts', "import { type LockerConfig } from '../../src/config/schema.js';\nexport type X = LockerConfig;\n"],
  ['hal imports the store', 'hal/probe.ts', "import { type Db } from '../src/store/database.js';\nexport type X = Db;\n"],
  ['the hardware simulator imports the store', 'sim/boards/probe.ts', "import { type LockerStore } from '../../src/store/lockerStore.js';\nexport type X = LockerStore;\n"],
  ['the hardware simulator imports sync', 'sim/probe.ts', "import { type SyncClient } from '../src/sync/syncClient.js';\nexport type X = SyncClient;\n"],
  ['the kernel imports src', 'kernel/probe.ts', "import { type Logger } from '../src/logger.js';\nexport type X = Logger;\n"],
  ['the fleet simulator imports hal', 'fleet/probe.ts', "import { type LockBus } from '../hal/types.js';\nexport type X = LockBus;\n"],
  ['the kiosk imports a driver', 'src/kiosk/probe.ts', "import { type SerialLockBus } from '../../hal/buses/serialLockBus.js';\nexport type X = SerialLockBus;\n"],
];

const allowed: [string, string, string][] = [
  ['hal imports the kernel', 'hal/buses/probe.ts', "import { type Clock } from '../../kernel/clock.js';\nexport type X = Clock;\n"],
  ['sim imports hal', 'sim/boards/probe.ts', "import { type BoardOptions } from '../../hal/options.js';\nexport type X = BoardOptions;\n"],
  ['sync imports the domain contract', 'src/sync/probe.ts', "import { type LockerOperations } from '../domain/lockerOperations.js';\nexport type X = LockerOperations;\n"],
  ['the fleet simulator imports sync', 'fleet/probe.ts', "import { type SyncClient } from '../src/sync/syncClient.js';\nexport type X = SyncClient;\n"],
];

describe('layer boundaries in the linter', () => {
  it.each(refused)('refuses: %s', async (_what, file, code) => {
    expect(await restricted(file, code)).toBe(true);
  });
  it.each(allowed)('allows: %s', async (_what, file, code) => {
    expect(await restricted(file, code)).toBe(false);
  });
});
