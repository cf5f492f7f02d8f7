// Attack (issue 7, finding 15, credentials): the demo broker of `lockerd start --sim` took any
// password for any principal, the operator's included, so any local process could send
// operator traffic or pose as the locker. Now every principal gets its own password at the
// first start, kept in the data folder (0600) and printed at start; a wrong one is refused.
// The whole lockerd process runs here (tsx, the simulator), as `npm start` runs it.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_BROKER_CREDENTIALS_FILE } from '../../src/broker/demoBrokerCredentials.js';
import { makeDemoLocker } from '../support/demoLocker.js';
import { freePort } from '../support/freePort.js';
import { childLockerds, type ChildLockerd } from '../support/lockerHarness.js';

/** "  name / password" lines of the start banner. */
function printedPasswords(output: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of output.matchAll(/^ {2}([A-Za-z0-9][A-Za-z0-9_.-]*) \/ (\S+)/gm)) if (m[1] && m[2]) out[m[1]] = m[2];
  return out;
}

async function refused(url: string, username: string, password: string | undefined, clientId = username): Promise<boolean> {
  try {
    const c = await connectAsync(url, { username, clientId, ...(password !== undefined ? { password } : {}), reconnectPeriod: 0, connectTimeout: 3_000 });
    await c.endAsync(true);
    return false;
  } catch {
    return true;
  }
}

describe('the demo broker takes only each principal\'s own password', () => {
  const lockerds = childLockerds();
  let child: ChildLockerd;
  let dataDir: string;
  let mqttUrl: string;
  let lockerId: string;

  beforeAll(async () => {
    dataDir = await lockerds.dataDir();
    const port = await freePort();
    const demo = await makeDemoLocker(dataDir, { mqtt: { url: `mqtt://127.0.0.1:${port}` } });
    lockerId = demo.config.locker.id;
    child = await lockerds.start(demo.config);
    const m = /MQTT:\s+(mqtt:\/\/\S+)/.exec(child.output());
    if (!m?.[1]) throw new Error(`no MQTT url in the start banner:\n${child.output()}`);
    mqttUrl = m[1];
  });

  afterAll(() => lockerds.cleanup());

  it('refuses a wrong or missing password for the operator, a carrier and the locker', async () => {
    for (const principal of ['operator', 'swiftpost', lockerId]) {
      expect(await refused(mqttUrl, principal, 'guess')).toBe(true);
      expect(await refused(mqttUrl, principal, undefined)).toBe(true);
      expect(await refused(mqttUrl, principal, '')).toBe(true);
    }
    expect(await refused(mqttUrl, 'nobody', 'guess')).toBe(true);
  });

  it('prints one password per principal at start, and those passwords work', async () => {
    const printed = printedPasswords(child.output());
    expect(Object.keys(printed).sort()).toEqual(expect.arrayContaining(['operator', 'swiftpost', lockerId]));
    const distinct = new Set(Object.values(printed));
    expect(distinct.size).toBe(Object.keys(printed).length);
    for (const pw of distinct) expect(pw.length).toBeGreaterThanOrEqual(20);
    expect(await refused(mqttUrl, 'operator', printed.operator, 'operator:test')).toBe(false);
    // One principal's password is no use for another.
    expect(await refused(mqttUrl, 'operator', printed.swiftpost, 'operator:test')).toBe(true);
  });

  it('keeps the passwords in the data folder, readable by the owner only', () => {
    const mode = statSync(join(dataDir, DEMO_BROKER_CREDENTIALS_FILE)).mode & 0o777;
    expect(mode).toBe(0o600);
  });
});
