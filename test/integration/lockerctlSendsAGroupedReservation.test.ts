// Issue 11, flow 2 from the carrier's tool: `lockerctl send --cmd createReservation --group ID`
// against the real lockerd runtime (simulator) over an MQTT broker. Two reservations sent with
// the same --group become one group at the locker: after both deposits, the one code of the
// first parcel.stored opens both doors in turn. Mistakes are refused by lockerctl before
// anything is signed or sent (exit 1); what only the locker can judge comes back refused (exit 2).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/broker/embeddedBroker.js';
import { lockerctl } from '../../src/cli/lockerctl.js';
import { decryptCodeJwe } from '../../src/crypto/codeJwe.js';
import { silentLogger } from '../../src/logger.js';
import { ParcelGroupStore } from '../../src/store/parcelGroups.js';
import { LockerHarness, waitFor } from '../support/lockerHarness.js';
import { fastMqtt, lockerPublicKeys, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'demo-locker-1';
const passwords = { [LOCKER]: 'pw-locker', swiftpost: 'pw-swiftpost' };

function cli() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} } };
}

describe('lockerctl send --group', () => {
  let broker: EmbeddedBroker;
  let h: LockerHarness;
  let base: string[];

  beforeAll(async () => {
    broker = await startEmbeddedBroker({ logger: silentLogger(), passwords });
    h = await LockerHarness.start({ overrides: { mqtt: fastMqtt(broker.url, LOCKER, passwords[LOCKER]) } });
    await waitForSyncConnected(h.running);
    const key = h.demo.keys.carriers.swiftpost?.signing;
    if (!key) throw new Error('no demo key for swiftpost');
    const keyFile = join(h.dataDir, 'swiftpost.sign.jwk');
    const pubFile = join(h.dataDir, 'locker.pub.json');
    await writeFile(keyFile, JSON.stringify(key), { mode: 0o600 });
    await writeFile(pubFile, JSON.stringify(await lockerPublicKeys(h.running)));
    base = ['send', '--url', broker.url, '--password', passwords.swiftpost, '--key', keyFile, '--issuer', 'swiftpost', '--locker', LOCKER, '--pub', pubFile, '--timeout', '10'];
  });

  afterAll(async () => {
    await h?.cleanup();
    await broker?.close();
  });

  const reserve = (waybill: string, extra: string[], kind = 'delivery') => ['--cmd', 'createReservation', '--args', JSON.stringify({ waybill, size: 'S', kind }), ...extra];

  it('groups the reservations it sends; the one code opens both doors in turn', async () => {
    for (const waybill of ['SP-CLI-G1', 'SP-CLI-G2']) {
      const r = cli();
      expect(await lockerctl([...base, ...reserve(waybill, ['--group', 'rcpt-42'])], r.io), r.err.join('\n')).toBe(0);
      expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ ok: true, cmd: 'createReservation', result: { waybill, state: 'announced', carrierCode: false } });
    }
    const groups = new ParcelGroupStore(h.running.db);
    const members = ['SP-CLI-G1', 'SP-CLI-G2'].map((w) => h.running.store.liveParcelByWaybill('swiftpost', w));
    expect(members.map((p) => p && groups.groupOf(p.id))).toEqual([
      { carrier: 'swiftpost', group: 'rcpt-42' },
      { carrier: 'swiftpost', group: 'rcpt-42' },
    ]);

    const token = await h.courierLogin('swiftpost', 'sp-courier-1');
    const doors: string[] = [];
    for (const waybill of ['SP-CLI-G1', 'SP-CLI-G2']) {
      const started = await h.startDeposit(token, waybill, 'S');
      const compartment = started.body.deposit.compartment.id;
      h.put(compartment);
      h.close(compartment);
      await h.waitForDeposit(token, started.body.deposit.id, 'stored');
      doors.push(compartment);
    }
    const key = h.demo.keys.carriers.swiftpost?.encryption;
    if (!key) throw new Error('no demo key for swiftpost');
    const stored = await waitFor('both parcel.stored events', () => {
      const e = h.read.events('parcel.stored').filter((x) => String(x.data.waybill).startsWith('SP-CLI-G'));
      return e.length === 2 ? e : undefined;
    }, 5_000);
    expect(stored.map((e) => e.data.group)).toEqual(['rcpt-42', 'rcpt-42']);
    const code = (await decryptCodeJwe(stored[0]?.data.codeJwe, key)).code ?? '';
    expect(code).toMatch(/^\d+$/);
    for (const door of doors) {
      const r = await h.pickup(code);
      expect(r.status).toBe(200);
      expect(r.body.compartment.id).toBe(door);
      h.take(door);
      h.close(door);
      await h.waitForDoor(door, 'closed');
    }
  });

  it('refuses a malformed or misplaced --group before sending anything (exit 1)', async () => {
    const cases: [string[], string][] = [
      [reserve('SP-CLI-B1', ['--group', 'no spaces']), '--group: letters, digits'],
      [reserve('SP-CLI-B2', ['--group', 'x'.repeat(65)]), '--group: letters, digits'],
      [['--cmd', 'listParcels', '--group', 'rcpt-1'], '--group is an option of --cmd createReservation'],
      [reserve('SP-CLI-B3', ['--group', 'rcpt-1'], 'dropoff'), '--group is for deliveries'],
      [reserve('SP-CLI-B4', ['--group', 'rcpt-1', '--code', '12345678']), 'leave out --code'],
      [['--cmd', 'createReservation', '--args', JSON.stringify({ waybill: 'SP-CLI-B5', size: 'S', kind: 'delivery', group: 'other' }), '--group', 'rcpt-1'], 'name different groups'],
    ];
    for (const [argv, message] of cases) {
      const r = cli();
      expect(await lockerctl([...base, ...argv], r.io)).toBe(1);
      expect(r.err.join('\n')).toContain(message);
      expect(r.out).toEqual([]);
    }
    for (const w of ['SP-CLI-B1', 'SP-CLI-B2', 'SP-CLI-B3', 'SP-CLI-B4', 'SP-CLI-B5']) expect(h.running.store.liveParcelByWaybill('swiftpost', w)).toBeUndefined();
  });

  it("prints the locker's refusal of a group it cannot take (exit 2)", async () => {
    // A group holds at most 20 parcels (src/store/parcelGroups.ts); the locker says so.
    for (let i = 1; i <= 20; i++) {
      const r = cli();
      expect(await lockerctl([...base, ...reserve(`SP-CLI-F${i}`, ['--group', 'rcpt-full'])], r.io), r.err.join('\n')).toBe(0);
    }
    const r = cli();
    expect(await lockerctl([...base, ...reserve('SP-CLI-F21', ['--group', 'rcpt-full'])], r.io)).toBe(2);
    expect(JSON.parse(r.out[0] ?? '{}')).toMatchObject({ ok: false, error: { code: 'INPUT_INVALID' } });
  });
});
