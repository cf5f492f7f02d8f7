// Two carriers share the real lockerd runtime (simulator) behind a real Mosquitto 2 with the
// shipped ACL. Each carrier is the independent Debian client mosquitto_sub, logged in as that
// carrier and subscribed to everything it can ask for ('#' and the other carrier's subtree):
// it receives exactly its own events, signed, in seq order, and none of the other's. A
// carrier's listParcels lists only its parcels; it cannot cancel the other's reservation, nor
// acknowledge, replay or command on the other's topics.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { CryptoKey } from 'jose';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { sendCommand } from '../../src/cli/lockerctl/sendCommand.js';
import { importSigningKey } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { cryptoRandom } from '../../kernel/random.js';
import type { SignedCommandReply } from '../../src/sync/commandReply.js';
import { toPublicKey } from '../../src/sync/detachedSignature.js';
import { verifyEnvelope, type EventEnvelope } from '../../src/sync/envelope.js';
import { streamOf } from '../../src/store/outbox.js';
import { carrierTenant } from '../../src/sync/topics.js';
import { LockerHarness, sleep, waitFor } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { ackedUpTo, fastMqtt, KioskUser, lockerPublicKeys, MosquittoSub, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const run = promisify(execFile);
const LOCKER = 'demo-locker-1';
const CARRIERS = ['swiftpost', 'parcelgo'] as const;
type Carrier = (typeof CARRIERS)[number];
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator', swiftpost: 'pw-swiftpost', parcelgo: 'pw-parcelgo' };
const other = (c: Carrier): Carrier => (c === 'swiftpost' ? 'parcelgo' : 'swiftpost');

describe('a carrier sees only its own events and parcels', () => {
  let broker: MosquittoBroker;
  let h: LockerHarness;
  let kiosk: KioskUser;
  let lockerKey: ReturnType<typeof toPublicKey>;
  const subs: Partial<Record<Carrier, MosquittoSub>> = {};
  const clients: Partial<Record<Carrier, MqttClient>> = {};
  const keys: Partial<Record<Carrier, CryptoKey>> = {};
  const clock = new SystemClock();
  const ids = createIdFactory(clock, cryptoRandom());

  const pub = (as: Carrier, topic: string, message: string) =>
    run('/usr/bin/mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-u', as, '-P', users[as], '-q', '1', '-t', topic, '-m', message]);

  async function command(as: Carrier, cmd: string, args: Record<string, unknown> = {}): Promise<SignedCommandReply> {
    const client = clients[as];
    const key = keys[as];
    if (!client || !key) throw new Error(`no client or key for ${as}`);
    const token = await signCommand({ key, issuer: as, locker: LOCKER, cmd, args, ttlS: 120, clock, ids });
    return sendCommand({ client, clock, tenant: carrierTenant(as), locker: LOCKER, command: token, timeoutMs: 15_000, lockerKeys: [lockerKey] });
  }

  /** The events a carrier's mosquitto_sub printed, each verified with the locker's key. */
  function received(c: Carrier): { topic: string; env: EventEnvelope }[] {
    return (subs[c]?.lines ?? [])
      .filter((l) => l.topic.endsWith('/evt'))
      .map((l) => {
        const v = verifyEnvelope(l.payload, [lockerKey], LOCKER);
        if (!v.ok) throw new Error(`${c} received an envelope that does not verify: ${v.reason}`);
        return { topic: l.topic, env: v.envelope };
      });
  }

  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users });
    h = await LockerHarness.start({ overrides: { mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER]) } });
    kiosk = new KioskUser(h.running);
    await waitForSyncConnected(h.running);
    lockerKey = toPublicKey((await lockerPublicKeys(h.running)).signingKey);
    for (const c of CARRIERS) {
      const k = h.demo.keys.carriers[c];
      if (!k) throw new Error(`no demo key for ${c}`);
      keys[c] = await importSigningKey(k.signing);
      clients[c] = await openMqttSession({ url: broker.url, username: c, password: users[c] });
      // Everything it may ask for, and the other carrier's subtree on top.
      subs[c] = MosquittoSub.start({ port: broker.port, username: c, password: users[c], topics: ['#', `lk/v1/c/${other(c)}/#`] });
    }
    // mosquitto_sub has subscribed once it prints a probe published on its own subtree.
    for (const c of CARRIERS) {
      for (let i = 0; i < 50 && !subs[c]?.lines.some((l) => l.topic === `lk/v1/c/${c}/probe`); i++) {
        await pub(c, `lk/v1/c/${c}/probe`, 'hello');
        await sleep(100);
      }
      expect({ carrier: c, subscribed: subs[c]?.lines.some((l) => l.topic === `lk/v1/c/${c}/probe`), errors: subs[c]?.errors }).toEqual({ carrier: c, subscribed: true, errors: '' });
    }
  });

  afterAll(async () => {
    for (const s of Object.values(subs)) await s?.stop();
    for (const c of Object.values(clients)) if (c) await closeMqttSession(c);
    await h?.cleanup();
    await broker?.dispose();
  });

  it('deposits and pickups for both carriers reach each carrier\'s mosquitto_sub, its own only, in seq order', async () => {
    // parcelgo takes reservations only; swiftpost also deposits ad hoc and keeps one open reservation.
    for (const wb of ['PG-1', 'PG-2', 'PG-3']) expect(await command('parcelgo', 'createReservation', { waybill: wb, size: 'S', kind: 'delivery' })).toMatchObject({ ok: true });
    expect(await command('swiftpost', 'createReservation', { waybill: 'SP-R', size: 'M', kind: 'delivery' })).toMatchObject({ ok: true });

    const sp = await kiosk.courierLogin(await h.demo.mintCourierBadge('swiftpost', 'sp-courier'));
    const pg = await kiosk.courierLogin(await h.demo.mintCourierBadge('parcelgo', 'pg-courier'));
    const codes: Record<string, string> = {};
    for (const [token, wb] of [[sp, 'SP-1'], [pg, 'PG-1'], [sp, 'SP-2'], [pg, 'PG-2']] as const) {
      const d = await kiosk.deposit(token, wb, 'S');
      codes[wb] = d.pickupCode ?? '';
    }
    await kiosk.pickup(codes['PG-1'] ?? '');
    await kiosk.pickup(codes['SP-1'] ?? '');

    for (const c of CARRIERS) {
      const stream = streamOf(c);
      const outbox = h.read.outbox(stream);
      expect(outbox.length).toBeGreaterThanOrEqual(4);
      await waitFor(`${c} received all its events`, () => received(c).length >= outbox.length, 10_000);
      await sleep(300);
      const got = received(c);
      // Exactly the rows of its own stream, each once, in seq order, on its own topic.
      expect(got.map((g) => g.env.id)).toEqual(outbox.map((r) => r.id));
      expect(got.map((g) => g.env.seq)).toEqual(outbox.map((_, i) => i + 1));
      expect(new Set(got.map((g) => g.topic))).toEqual(new Set([`lk/v1/c/${c}/l/${LOCKER}/evt`]));
      expect(got.every((g) => g.env.carrier === c && g.env.locker === LOCKER)).toBe(true);
      // Nothing of the other carrier on any topic it received: no topic, no waybill, no parcel id.
      const theirs = h.read.outbox(streamOf(other(c)));
      const seen = subs[c]?.lines ?? [];
      expect(seen.filter((l) => l.topic.startsWith(`lk/v1/c/${other(c)}/`) || l.topic.startsWith('lk/v1/op/'))).toEqual([]);
      for (const r of theirs) {
        expect(seen.some((l) => l.payload.includes(r.id) || l.payload.includes(String(r.data.parcelId)))).toBe(false);
      }
      const prefix = c === 'swiftpost' ? 'SP-' : 'PG-';
      expect(got.every((g) => String(g.env.data.waybill).startsWith(prefix))).toBe(true);
    }
    expect(received('swiftpost').map((g) => [g.env.type, g.env.data.waybill])).toEqual([
      ['parcel.announced', 'SP-R'],
      ['parcel.stored', 'SP-1'],
      ['parcel.stored', 'SP-2'],
      ['parcel.picked_up', 'SP-1'],
    ]);
    expect(received('parcelgo').map((g) => [g.env.type, g.env.data.waybill])).toEqual([
      ['parcel.announced', 'PG-1'],
      ['parcel.announced', 'PG-2'],
      ['parcel.announced', 'PG-3'],
      ['parcel.stored', 'PG-1'],
      ['parcel.stored', 'PG-2'],
      ['parcel.picked_up', 'PG-1'],
    ]);
  });

  it('listParcels lists only the issuing carrier\'s parcels', async () => {
    // The parcels still at the locker (reserved or stored); collected ones have left.
    const live = { swiftpost: [['SP-2', 'stored'], ['SP-R', 'announced']], parcelgo: [['PG-2', 'stored'], ['PG-3', 'announced']] };
    for (const c of CARRIERS) {
      const reply = await command(c, 'listParcels');
      expect(reply.ok).toBe(true);
      const parcels = (reply.result as { parcels: { carrier: string; waybill: string; state: string }[] }).parcels;
      expect(parcels.every((p) => p.carrier === c)).toBe(true);
      expect(parcels.map((p) => [p.waybill, p.state]).sort()).toEqual(live[c]);
      const theirs = new Set(h.read.parcels().filter((p) => p.carrier !== c).map((p) => p.id));
      expect(JSON.stringify(reply)).not.toMatch(new RegExp([...theirs].join('|')));
    }
    // And a carrier's replies went to that carrier only.
    const pgReplies = subs.parcelgo?.on('/res') ?? [];
    expect(pgReplies.length).toBeGreaterThan(0);
    expect(pgReplies.every((l) => l.topic === `lk/v1/c/parcelgo/l/${LOCKER}/res`)).toBe(true);
    expect((subs.swiftpost?.lines ?? []).some((l) => l.topic.includes('/parcelgo/'))).toBe(false);
  });

  it('a carrier cannot cancel, acknowledge, replay or command for the other carrier', async () => {
    // Through the locker: cancelling the other carrier's open reservation is "unknown".
    const cancel = await command('swiftpost', 'cancelReservation', { waybill: 'PG-3' });
    expect(cancel).toMatchObject({ ok: false, error: { code: 'RESERVATION_UNKNOWN' } });
    expect(h.read.parcelByWaybill('PG-3')?.state).toBe('announced');

    // Around the locker, on the other carrier's topics: the broker drops every publish.
    const pgAckedBefore = ackedUpTo(h.running, 'c/parcelgo');
    const pgEventsBefore = subs.parcelgo?.on('/evt').length ?? 0;
    const key = keys.swiftpost;
    if (!key) throw new Error('no swiftpost key');
    const sneaky = await signCommand({ key, issuer: 'swiftpost', locker: LOCKER, cmd: 'cancelReservation', args: { waybill: 'PG-3' }, ttlS: 120, clock, ids });
    await pub('swiftpost', `lk/v1/c/parcelgo/l/${LOCKER}/cmd`, sneaky.token);
    await pub('swiftpost', `lk/v1/c/parcelgo/l/${LOCKER}/ack`, '{"replayFrom":1}');
    await pub('swiftpost', `lk/v1/c/parcelgo/l/${LOCKER}/ack`, '{"upTo":1000}');
    await sleep(1_000);
    expect(h.read.parcelByWaybill('PG-3')?.state).toBe('announced');
    expect(ackedUpTo(h.running, 'c/parcelgo')).toBe(pgAckedBefore);
    // No replay of parcelgo's stream was triggered, and no reply to the sneaky command exists anywhere.
    expect(subs.parcelgo?.on('/evt').length).toBe(pgEventsBefore);
    expect(received('parcelgo').some((g) => g.env.replay === true)).toBe(false);
    for (const c of CARRIERS) expect((subs[c]?.lines ?? []).some((l) => l.topic.endsWith('/res') && l.payload.includes(sneaky.jti))).toBe(false);
    expect(h.read.auditActions()).not.toContain('parcel.cancelled');

    // The owner can cancel it, and the owner's acknowledgement counts for its own stream only.
    expect(await command('parcelgo', 'cancelReservation', { waybill: 'PG-3' })).toMatchObject({ ok: true, result: { waybill: 'PG-3', state: 'cancelled' } });
    await waitFor('parcelgo sees its cancellation', () => received('parcelgo').find((g) => g.env.type === 'parcel.cancelled'), 10_000);
    expect(received('swiftpost').some((g) => g.env.type === 'parcel.cancelled')).toBe(false);
    const spAckedBefore = ackedUpTo(h.running, 'c/swiftpost');
    await pub('parcelgo', `lk/v1/c/parcelgo/l/${LOCKER}/ack`, '{"upTo":2}');
    await waitFor('parcelgo acknowledged', () => ackedUpTo(h.running, 'c/parcelgo') >= 2, 5_000);
    expect(ackedUpTo(h.running, 'c/swiftpost')).toBe(spAckedBefore);
  });
});
