// Runs one step of the release switch in its own process and cuts the power (SIGKILL to itself)
// at the named failpoint, for the power-cut tests of src/update/bootGuard.ts.
// Run: node --import tsx test/support/switchDriver.ts ROOT (switch|rollback) FAILPOINT VERSION NOW
import { beginTrial, rollback } from '../../src/update/bootGuard.js';

const [root = '', op = '', failAt = '', version = '', nowArg = '0'] = process.argv.slice(2);
const now = Number(nowArg);
const failpoint = (step: string): void => {
  if (step === failAt) process.kill(process.pid, 'SIGKILL');
};
if (op === 'switch') beginTrial(root, { id: 'upd-1', version, now, windowMs: 60_000, maxBoots: 3 }, failpoint);
else if (op === 'rollback') rollback(root, 'boot_limit', now, failpoint);
else throw new Error(`unknown op ${op}`);
process.stdout.write('completed\n');
