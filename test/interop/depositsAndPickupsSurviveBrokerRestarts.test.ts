// Couriers deposit and consumers collect at the kiosk of the real lockerd runtime (simulator)
// while the Mosquitto 2 broker in front of it is stopped and started again, several times,
// gracefully and by SIGKILL, without persistence (every restart loses sessions and whatever
// was queued). The carriers' consumers end with every event of their stream exactly once after
// dedupe, contiguous from seq 1 and in order: swiftpost runs `lockerctl watch`, parcelgo a
// plain MQTT.js subscriber written here that dedupes by id and asks {replayFrom} on gaps and
// on every reconnect.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockerctl, type Io } from '../../src/cli/lockerctl.js';
import type { WatchLine } from '../../src/cli/lockerctl/watch.js';
import { toPublicKey, type VerifyKey } from '../../src/sync/detachedSignature.js';
import { verifyEnvelope, type EventEnvelope } from '../../src/sync/envelope.js';
import { LockerHarness, sleep, waitFor } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { ackedUpTo, fastMqtt, KioskUser, lockerPublicKeys, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'demo-locker-1';
const users = { [LOCKER]: 'pw-locker', operator: 'pw-operator', swiftpost: 'pw-swiftpost', parcelgo: 'pw-parcelgo' };

/**
 * A carrier back end as an integrator might write it with MQTT.js alone: verifies each
 * envelope, drops what it has seen (by id) or what comes before its cursor, asks for a replay
 * from its cursor when a later seq shows a gap (again if nothing moves for a second) and after
 * every (re)connect, and acknowledges what it processed.
 */
class DedupingSubscriber {
  readonly events: EventEnvelope[] = [];
  readonly stats = { duplicates: 0, gaps: 0, replayRequests: 0, rejected: 0, connects: 0 };
  private readonly seen = new Set<string>();
  private expected = 1;
  private ackedUpTo = 0;
  private lastReplayAsk = { from: 0, at: 0 };
  private readonly client: MqttClient;
  private readonly timer: NodeJS.Timeout;

  constructor(
    url: string,
    private readonly carrier: string,
    password: string,
    private readonly lockerKey: VerifyKey,
  ) {
    const evt = `lk/v1/c/${carrier}/l/${LOCKER}/evt`;
    this.client = connect(url, { username: carrier, password, clean: true, reconnectPeriod: 200, connectTimeout: 2_000, queueQoSZero: false });
    this.client.on('connect', () => {
      this.stats.connects++;
      this.client.subscribe(evt, { qos: 1 }, () => this.askReplay(true));
    });
    this.client.on('message', (topic, payload) => {
      if (topic === evt) this.receive(payload);
    });
    this.client.on('error', () => undefined);
    this.timer = setInterval(() => {
      this.ack();
      // A replay that brought nothing within a second is asked for again.
      if (this.lastReplayAsk.from === this.expected && Date.now() - this.lastReplayAsk.at > 1_000) this.askReplay(true);
    }, 200);
  }

  private receive(payload: Buffer): void {
    const v = verifyEnvelope(payload, [this.lockerKey], LOCKER);
    if (!v.ok || v.envelope.carrier !== this.carrier) {
      this.stats.rejected++;
      return;
    }
    const env = v.envelope;
    if (this.seen.has(env.id) || env.seq < this.expected) {
      this.stats.duplicates++;
      return;
    }
    if (env.seq > this.expected) {
      this.stats.gaps++;
      this.askReplay(false);
      return;
    }
    this.seen.add(env.id);
    this.events.push(env);
    this.expected++;
    if (this.expected - 1 - this.ackedUpTo >= 20) this.ack();
  }

  private askReplay(force: boolean): void {
    if (!this.client.connected) return;
    const now = Date.now();
    if (!force && this.lastReplayAsk.from === this.expected && now - this.lastReplayAsk.at < 1_000) return;
    this.lastReplayAsk = { from: this.expected, at: now };
    this.stats.replayRequests++;
    this.client.publish(`lk/v1/c/${this.carrier}/l/${LOCKER}/ack`, JSON.stringify({ replayFrom: this.expected }), { qos: 1 });
  }

  private ack(): void {
    const upTo = this.expected - 1;
    if (upTo <= this.ackedUpTo || !this.client.connected) return;
    this.ackedUpTo = upTo;
    this.client.publish(`lk/v1/c/${this.carrier}/l/${LOCKER}/ack`, JSON.stringify({ upTo }), { qos: 1 });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client.endAsync(true).catch(() => undefined);
  }
}

describe('deposits and pickups survive broker restarts', () => {
  let dir: string;
  let broker: MosquittoBroker;
  let h: LockerHarness;
  let kiosk: KioskUser;
  let parcelgo: DedupingSubscriber | undefined;
  const watchLines: WatchLine[] = [];
  const watchErr: string[] = [];
  let stopWatch: () => void = () => undefined;
  let watchExit: Promise<number> | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-restarts-'));
    broker = await MosquittoBroker.start({ users });
    h = await LockerHarness.start({ overrides: { mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER], { inflightWindow: 8 }) } });
    kiosk = new KioskUser(h.running);
    await waitForSyncConnected(h.running);
    const lockerKey = toPublicKey((await lockerPublicKeys(h.running)).signingKey);

    const interrupted = new Promise<void>((resolve) => (stopWatch = resolve));
    const io: Io = { out: (l) => watchLines.push(JSON.parse(l) as WatchLine), err: (l) => watchErr.push(l), env: {}, interrupted };
    watchExit = lockerctl(
      ['watch', '--url', broker.url, '--password', users.swiftpost, '--carrier', 'swiftpost', '--locker', LOCKER, '--pub', h.running.publicKeysFile, '--from', '1', '--home', join(dir, 'home'), '--state', join(dir, 'swiftpost.cursor.json')],
      io,
    );
    parcelgo = new DedupingSubscriber(broker.url, 'parcelgo', users.parcelgo, lockerKey);
    await waitFor('parcelgo subscriber connected', () => parcelgo?.stats.connects === 1);
  });

  afterAll(async () => {
    stopWatch();
    await watchExit?.catch(() => undefined);
    await parcelgo?.close();
    await h?.cleanup();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('every event reaches its carrier exactly once, contiguous and in order', async () => {
    const sp = await kiosk.courierLogin(await h.demo.mintCourierBadge('swiftpost', 'sp-courier'));
    const pg = await kiosk.courierLogin(await h.demo.mintCourierBadge('parcelgo', 'pg-courier'));
    const stored: { carrier: string; code: string }[] = [];
    const done = { deposits: 0, pickups: 0 };
    const lastSeq = (): number => h.read.outbox('c/swiftpost').length + h.read.outbox('c/parcelgo').length;
    let failure: unknown;
    let producing = true;

    const producer = (async () => {
      for (let n = 1; producing; n++) {
        // parcelgo needs a reservation; swiftpost deposits ad hoc.
        await h.announce('parcelgo', { waybill: `PG-${n}`, size: 'S' });
        for (const [carrier, token, waybill] of [['swiftpost', sp, `SP-${n}`], ['parcelgo', pg, `PG-${n}`]] as const) {
          const d = await kiosk.deposit(token, waybill, 'S');
          stored.push({ carrier, code: d.pickupCode ?? '' });
          done.deposits++;
        }
        // Collect the oldest parcels, keeping a few in the locker.
        while (stored.length > 4) {
          const next = stored.shift();
          if (next) await kiosk.pickup(next.code);
          done.pickups++;
        }
      }
    })().catch((e: unknown) => {
      failure = e;
    });

    const plan: { downMs: number; signal: NodeJS.Signals }[] = [
      { downMs: 600, signal: 'SIGTERM' },
      { downMs: 200, signal: 'SIGKILL' },
      { downMs: 1_000, signal: 'SIGTERM' },
      { downMs: 0, signal: 'SIGKILL' },
      { downMs: 800, signal: 'SIGKILL' },
    ];
    let writtenWhileDown = 0;
    for (const step of plan) {
      await sleep(1_200);
      await broker.stop(step.signal);
      const before = lastSeq();
      await sleep(step.downMs);
      writtenWhileDown += lastSeq() - before;
      await broker.startProcess();
    }
    await sleep(1_000);
    producing = false;
    await producer;
    if (failure) throw failure;
    // Collect what is left, with the broker up.
    for (const s of stored.splice(0)) {
      await kiosk.pickup(s.code);
      done.pickups++;
    }
    expect(done.deposits).toBeGreaterThanOrEqual(6);
    expect(done.pickups).toBe(done.deposits);
    // Events were written while the broker was down (the outbox queued them).
    expect(writtenWhileDown).toBeGreaterThan(0);

    const sw = h.read.outbox('c/swiftpost');
    const pgRows = h.read.outbox('c/parcelgo');
    await waitFor('swiftpost watch complete', () => watchLines.length >= sw.length, 60_000, 100);
    await waitFor('parcelgo subscriber complete', () => (parcelgo?.events.length ?? 0) >= pgRows.length, 60_000, 100);
    await sleep(500);

    // swiftpost through lockerctl watch: each row once, in order, contiguous from 1.
    expect(watchLines.map((l) => l.id)).toEqual(sw.map((r) => r.id));
    expect(watchLines.map((l) => l.seq)).toEqual(sw.map((_, i) => i + 1));
    expect(watchLines.filter((l) => l.type === 'parcel.stored')).toHaveLength(done.deposits / 2);
    expect(watchLines.filter((l) => l.type === 'parcel.picked_up')).toHaveLength(done.pickups / 2);
    // parcelgo through its own subscriber: the same.
    const pgEvents = parcelgo?.events ?? [];
    expect(pgEvents.map((e) => e.id)).toEqual(pgRows.map((r) => r.id));
    expect(pgEvents.map((e) => e.seq)).toEqual(pgRows.map((_, i) => i + 1));
    expect(pgEvents.map((e) => e.type).filter((t) => t === 'parcel.announced')).toHaveLength(done.deposits / 2);
    expect(parcelgo?.stats.rejected).toBe(0);
    // Whether anything had to be replayed depends on when the restarts fell; whatever was
    // replayed must carry the flag and still have been delivered exactly once after dedupe.
    for (const e of [...watchLines, ...pgEvents]) expect(e.replay === undefined || e.replay === true).toBe(true);
    // Within each stream the waybills come in the order the parcels were handled.
    const storedOrder = pgEvents.filter((e) => e.type === 'parcel.stored').map((e) => Number(String(e.data.waybill).slice(3)));
    expect(storedOrder).toEqual([...storedOrder].sort((a, b) => a - b));

    // Both consumers' acknowledgements reached the locker for their own stream.
    await waitFor('swiftpost acknowledged everything', () => ackedUpTo(h.running, 'c/swiftpost') === sw.length, 10_000);
    await waitFor('parcelgo acknowledged everything', () => ackedUpTo(h.running, 'c/parcelgo') === pgRows.length, 10_000);
    // The locker reconnected after every restart.
    expect(h.running.sync?.health().connects).toBeGreaterThanOrEqual(plan.length + 1);

    stopWatch();
    expect(await watchExit).toBe(0);
    const stats = JSON.parse(watchErr.at(-1) ?? '{}') as { stats?: { delivered: number; rejected: number } };
    expect(stats.stats).toMatchObject({ delivered: sw.length, rejected: 0 });
  });
});
