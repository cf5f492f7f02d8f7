// An operator brings a freshly installed locker into service with lockerctl only, over a real
// Mosquitto 2 with the shipped ACL, against the real lockerd runtime on the simulator:
// keygen, enrol the key the locker wrote at first start, provision carriers, layout and config
// as signed operator commands. The carrier then reserves with `lockerctl send`, a courier with
// a `lockerctl badge` deposits at the kiosk, `lockerctl watch` verifies the stored event and
// decrypts the pickup code, and the consumer collects with exactly that code. A code the
// carrier chose itself (encrypted to the locker's key) opens the door as well.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockerctl, type Io } from '../../src/cli/lockerctl.js';
import type { WatchLine } from '../../src/cli/lockerctl/watch.js';
import { loadPublicKeys, type PublicKeys } from '../../src/cli/lockerctl/keyFiles.js';
import { closeMqttSession, openMqttSession } from '../../src/cli/lockerctl/mqttSession.js';
import { startLockerd, type RunningLockerd } from '../../src/composition/startLockerd.js';
import { parseConfig } from '../../src/config/loadConfig.js';
import { generateSigningKeyPair } from '../../src/crypto/keys.js';
import { verifyEnvelope } from '../../src/sync/envelope.js';
import { demoConfigInput } from '../support/demoLocker.js';
import { fastDemoHardware, fastDoors, waitFor, type DepositJson } from '../support/lockerHarness.js';
import { MosquittoBroker } from '../support/mosquittoBroker.js';
import { ackedUpTo, fastMqtt, KioskUser, lockerPublicKeys, waitForSyncConnected } from '../support/runtimeOverMqtt.js';

const LOCKER = 'locker-0001';
const users = { [LOCKER]: 'pw-locker', acme: 'pw-acme', operator: 'pw-operator' };
/** The stream epoch the watcher's state file held after the first watch (the same after a clean restart). */
let savedEpoch: string | undefined;

interface CliRun {
  out: string[];
  err: string[];
  io: Io;
}

function cliIo(interrupted?: Promise<void>): CliRun {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, ...(interrupted ? { interrupted } : {}) } };
}

/** Runs lockerctl in-process and insists on the exit status, showing what it printed otherwise. */
async function ctl(argv: string[], expected = 0): Promise<CliRun> {
  const run = cliIo();
  const code = await lockerctl(argv, run.io);
  if (code !== expected) throw new Error(`lockerctl ${argv[0] ?? ''} exited ${code}, expected ${expected}\n${[...run.out, ...run.err].join('\n')}`);
  return run;
}

describe('lockerctl provisions a fresh locker end to end', () => {
  let dir: string;
  let keys: string;
  let operatorHome: string;
  let carrierHome: string;
  let broker: MosquittoBroker;
  let running: RunningLockerd;
  let kiosk: KioskUser;
  let lockerKeys: PublicKeys;
  let acmePub: PublicKeys;
  const watchLines: WatchLine[] = [];
  const watchErr: string[] = [];
  let stopWatch: () => void = () => undefined;
  let watchExit: Promise<number> | undefined;
  const raw: { acme: { topic: string; payload: string }[]; operator: { topic: string; payload: string }[] } = { acme: [], operator: [] };
  const spies: MqttClient[] = [];
  let mqtt: string[];
  /** The installer's configuration file, as written once (the runtime mutates its parsed copy). */
  let freshConfigInput: Record<string, unknown>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-provision-'));
    keys = join(dir, 'keys');
    operatorHome = join(dir, 'operator-home');
    carrierHome = join(dir, 'acme-home');
    broker = await MosquittoBroker.start({ users });
    mqtt = ['--url', broker.url];
  });

  afterAll(async () => {
    stopWatch();
    await watchExit?.catch(() => undefined);
    for (const c of spies) await closeMqttSession(c);
    await running?.stop();
    await broker?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('keygen makes the operator and carrier keys; the fresh locker starts with only the operator key', async () => {
    const op = JSON.parse((await ctl(['keygen', '--out', keys, '--name', 'operator'])).out[0] ?? '{}') as { publicKeys: PublicKeys };
    await ctl(['keygen', '--out', keys, '--name', 'acme']);
    acmePub = await loadPublicKeys(join(keys, 'acme.pub.json'));
    expect(op.publicKeys.signingKey.crv).toBe('Ed25519');

    // What an installer writes: id, hardware, broker, the operator's public key; one placeholder
    // compartment because a layout is mandatory; no carriers at all.
    const { mqtt: _mqtt, carriers: _carriers, operator: _operator, layout: _layout, ...base } = demoConfigInput();
    freshConfigInput = {
      ...base,
      locker: { id: LOCKER, name: 'Fresh install' },
      dataDir: join(dir, 'locker-data'),
      logLevel: 'silent',
      kiosk: { port: 0 },
      demo: { revealCodes: false },
      hardware: fastDemoHardware(),
      doors: fastDoors,
      layout: { version: 1, compartments: [{ id: 'X1', size: 'S', bus: 'bus0', board: 0, lock: 1 }] },
      operator: { id: 'operator', signingKeys: [op.publicKeys.signingKey] },
      mqtt: fastMqtt(broker.url, LOCKER, users[LOCKER]),
    };
    running = await startLockerd({ config: parseConfig(freshConfigInput, { unknownKeys: 'ignore' }), sim: true, port: 0 });
    kiosk = new KioskUser(running);
    await waitForSyncConnected(running);
    expect(running.store.carriers()).toEqual([]);
    expect(running.store.compartments().map((c) => c.id)).toEqual(['X1']);

    lockerKeys = await lockerPublicKeys(running);
    expect(lockerKeys).toMatchObject({ id: LOCKER, signingKey: { crv: 'Ed25519' }, encryptionKey: { crv: 'X25519' } });
    expect(JSON.stringify(lockerKeys)).not.toContain('"d"');
  });

  it('enrol and provision push carriers, layout and config as signed operator commands the locker applies', async () => {
    // The operator's spy on everything it may read: no pickup code must ever show up there.
    const opSpy = await openMqttSession({ url: broker.url, username: 'operator', password: users.operator });
    spies.push(opSpy);
    opSpy.on('message', (topic, payload) => raw.operator.push({ topic, payload: payload.toString('utf8') }));
    await opSpy.subscribeAsync('lk/v1/op/#', { qos: 1 });

    const enrolled = JSON.parse((await ctl(['enrol', '--locker', LOCKER, '--pub', running.publicKeysFile, '--home', operatorHome])).out[0] ?? '{}') as { enrolled: string };
    expect(enrolled.enrolled).toBe(LOCKER);

    const fullLayout = { ...(demoConfigInput().layout as { compartments: unknown[] }), version: 2 };
    const plan = {
      locker: LOCKER,
      lockerKeys: { signingKey: lockerKeys.signingKey, encryptionKey: lockerKeys.encryptionKey },
      carriers: [{ id: 'acme', name: 'Acme Parcels', signingKeys: [acmePub.signingKey], encryptionKey: acmePub.encryptionKey, dwellHours: 48, adHocDeposit: false }],
      layout: fullLayout,
      config: { version: 1, desired: { codes: { length: 9, refillPerHour: 30 } } },
    };
    const planFile = join(dir, `${LOCKER}.plan.json`);
    await writeFile(planFile, JSON.stringify(plan, null, 2));
    const provisioned = await ctl(['provision', ...mqtt, '--password', users.operator, '--plan', planFile, '--key', join(keys, 'operator.sign.jwk'), '--home', operatorHome]);
    const steps = provisioned.out.map((l) => JSON.parse(l) as { step: string; ok: boolean; reply?: { ok: boolean; result?: Record<string, unknown> } });
    expect(steps.map((s) => [s.step, s.ok])).toEqual([
      ['enrol', true],
      ['carrier acme', true],
      ['layout v2', true],
      ['config v1', true],
    ]);
    expect(steps[1]?.reply?.result).toEqual({ carrier: 'acme', created: true });
    expect(steps[2]?.reply?.result).toEqual({ version: 2, compartments: 24 });

    // Applied by the runtime itself.
    expect(running.store.carriers().map((c) => [c.id, c.dwellHours, c.adHocDeposit])).toEqual([['acme', 48, false]]);
    expect(running.store.compartments()).toHaveLength(24);
    expect(running.locker.compartments().map((c) => c.id)).toContain('D6');
    expect(running.settings.get().codes.length).toBe(9);
    // The reported configuration, retained on cfg, signed by the locker.
    await waitFor('reported config on cfg', () => raw.operator.find((m) => m.topic === `lk/v1/op/l/${LOCKER}/cfg` && m.payload.includes('"version":1')));

    // Running the same plan again changes nothing and still succeeds.
    const again = await ctl(['provision', ...mqtt, '--password', users.operator, '--plan', planFile, '--key', join(keys, 'operator.sign.jwk'), '--home', operatorHome]);
    expect(again.out.map((l) => (JSON.parse(l) as { ok: boolean }).ok)).toEqual([true, true, true, true]);

    // The operator asks the locker what it has now.
    const inv = await ctl(['send', ...mqtt, '--password', users.operator, '--key', join(keys, 'operator.sign.jwk'), '--issuer', 'operator', '--operator', '--locker', LOCKER, '--cmd', 'inventory', '--home', operatorHome]);
    expect(JSON.parse(inv.out[0] ?? '{}')).toMatchObject({ ok: true, cmd: 'inventory', result: { layoutVersion: 2 } });
  });

  it('the carrier watches, reserves, a courier deposits, watch decrypts the code and the consumer collects with it', async () => {
    // The carrier integrator enrols the locker in its own home, then follows its events.
    await ctl(['enrol', '--locker', LOCKER, '--pub', running.publicKeysFile, '--home', carrierHome]);
    const acmeSpy = await openMqttSession({ url: broker.url, username: 'acme', password: users.acme });
    spies.push(acmeSpy);
    acmeSpy.on('message', (topic, payload) => raw.acme.push({ topic, payload: payload.toString('utf8') }));
    await acmeSpy.subscribeAsync('lk/v1/c/acme/#', { qos: 1 });

    const interrupted = new Promise<void>((resolve) => (stopWatch = resolve));
    const watchIo: Io = {
      out: (l) => watchLines.push(JSON.parse(l) as WatchLine),
      err: (l) => watchErr.push(l),
      env: { LOCKERCTL_PASSWORD: users.acme },
      interrupted,
    };
    const stateFile = join(dir, 'acme.cursor.json');
    watchExit = lockerctl(
      ['watch', ...mqtt, '--carrier', 'acme', '--locker', LOCKER, '--from', '1', '--home', carrierHome, '--decrypt-key', join(keys, 'acme.enc.jwk'), '--state', stateFile],
      watchIo,
    );

    // A reservation, signed by the carrier.
    const sent = await ctl(['send', ...mqtt, '--password', users.acme, '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--locker', LOCKER, '--home', carrierHome, '--cmd', 'createReservation', '--args', '{"waybill":"WB-1","size":"M","kind":"delivery"}']);
    const reservation = JSON.parse(sent.out[0] ?? '{}') as { ok: boolean; result: { parcelId: string; state: string; carrierCode: boolean } };
    expect(reservation).toMatchObject({ ok: true, cmd: 'createReservation', result: { waybill: 'WB-1', kind: 'delivery', state: 'announced', carrierCode: false } });
    const parcelId = reservation.result.parcelId;

    // A courier with a badge the carrier minted.
    const badge = (await ctl(['badge', '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--subject', 'courier-9', '--perms', 'deposit'])).out[0] ?? '';
    const token = await kiosk.courierLogin(badge);
    // acme needs reservations: an unknown waybill is refused at the kiosk.
    const adHoc = await fetch(`${running.url}/api/courier/deposits`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ waybill: 'WB-unknown', size: 'S' }) });
    expect(adHoc.status).toBeGreaterThanOrEqual(400);
    const stored: DepositJson = await kiosk.deposit(token, 'WB-1', 'M');
    expect(stored).toMatchObject({ waybill: 'WB-1', carrier: 'acme', state: 'stored' });
    // Not a demo: the kiosk never shows the code; only the carrier's watch can read it.
    expect(stored.pickupCode).toBeUndefined();
    const compartment = stored.compartment.id;
    expect(running.store.parcel(parcelId)).toMatchObject({ state: 'stored', compartmentId: compartment });

    const storedLine = await waitFor('watch prints parcel.stored', () => watchLines.find((l) => l.type === 'parcel.stored' && l.data.waybill === 'WB-1'), 10_000);
    expect(storedLine).toMatchObject({ locker: LOCKER, carrier: 'acme', seq: 2, data: { parcelId, compartment, codeChosenByCarrier: false } });
    // The dwell time provisioned for acme is the one in force.
    expect(Number(storedLine.data.expiresAt) - Number(storedLine.data.storedAt)).toBe(48 * 3_600_000);
    const code = storedLine.code ?? '';
    expect(code).toMatch(/^[0-9]{9}$/);
    expect(storedLine.codeError).toBeUndefined();

    // The same event as it crossed the broker: signed by the enrolled locker key, code only as a JWE.
    const wire = raw.acme.find((m) => m.topic === `lk/v1/c/acme/l/${LOCKER}/evt` && m.payload.includes('"parcel.stored"'));
    if (!wire) throw new Error('the acme spy did not see parcel.stored');
    const verdict = verifyEnvelope(wire.payload, [lockerKeys.signingKey], LOCKER);
    expect(verdict.ok && verdict.envelope.id).toBe(storedLine.id);
    expect(verifyEnvelope(wire.payload, [(await generateSigningKeyPair()).publicJwk], LOCKER).ok).toBe(false);
    const tampered = JSON.stringify({ ...(JSON.parse(wire.payload) as Record<string, unknown>), seq: 99 });
    expect(verifyEnvelope(tampered, [lockerKeys.signingKey], LOCKER).ok).toBe(false);
    expect(wire.payload).not.toContain(code);

    // The consumer types the code watch decrypted: exactly that door opens.
    const opened = await kiosk.pickupRequest(code);
    expect(opened.status).toBe(200);
    expect(opened.body.compartment.id).toBe(compartment);
    expect(kiosk.world.lock(kiosk.position(compartment)).doorOpen).toBe(true);
    kiosk.world.takeParcel(kiosk.position(compartment));
    kiosk.world.closeDoor(kiosk.position(compartment));
    await kiosk.waitForDoor(compartment, 'closed');
    expect(running.store.parcel(parcelId)?.state).toBe('picked_up');

    const picked = await waitFor('watch prints parcel.picked_up', () => watchLines.find((l) => l.type === 'parcel.picked_up' && l.data.waybill === 'WB-1'), 10_000);
    expect(picked).toMatchObject({ seq: 3, data: { parcelId } });
    expect(watchLines.slice(0, 3).map((l) => [l.seq, l.type])).toEqual([
      [1, 'parcel.announced'],
      [2, 'parcel.stored'],
      [3, 'parcel.picked_up'],
    ]);
    // watch acknowledged what it printed.
    await waitFor('acme acknowledged up to 3', () => ackedUpTo(running, 'c/acme') >= 3, 10_000);

    // Nobody but the carrier's watch ever had the plaintext code.
    expect([...raw.acme, ...raw.operator].some((m) => m.payload.includes(code))).toBe(false);
  });

  it('a code the carrier chose, sent encrypted to the locker key, opens the door', async () => {
    const chosen = '482913576';
    const sent = await ctl([
      'send', ...mqtt, '--password', users.acme, '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--locker', LOCKER, '--home', carrierHome,
      '--cmd', 'createReservation', '--args', '{"waybill":"WB-2","size":"S","kind":"delivery"}', '--code', chosen,
    ]);
    const reply = JSON.parse(sent.out[0] ?? '{}') as { ok: boolean; result: { parcelId: string; carrierCode: boolean } };
    expect(reply).toMatchObject({ ok: true, result: { waybill: 'WB-2', carrierCode: true } });
    const commandOnWire = raw.acme.filter((m) => m.topic.endsWith('/cmd'));
    expect(commandOnWire.length).toBeGreaterThan(0);
    expect(commandOnWire.some((m) => m.payload.includes(chosen) || Buffer.from(m.payload.split('.')[1] ?? '', 'base64url').toString('utf8').includes(chosen))).toBe(false);

    const badge = (await ctl(['badge', '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--subject', 'courier-9'])).out[0] ?? '';
    const token = await kiosk.courierLogin(badge);
    const stored = await kiosk.deposit(token, 'WB-2', 'S');
    const storedLine = await waitFor('watch prints WB-2 stored', () => watchLines.find((l) => l.type === 'parcel.stored' && l.data.waybill === 'WB-2'), 10_000);
    // The carrier knows its code: the event carries none, only the parcel's pickup QR token (encrypted).
    expect(storedLine.data).toMatchObject({ codeChosenByCarrier: true });
    expect(typeof storedLine.data.codeJwe).toBe('string');
    expect(storedLine.code).toBeUndefined();
    expect(storedLine.pickupToken).toMatch(/^LK2:[A-Za-z0-9_-]{22}$/);

    // A wrong code opens nothing; the chosen one opens the parcel's door.
    expect((await kiosk.pickupRequest('111111111')).status).toBe(404);
    expect(await kiosk.pickup(chosen)).toBe(stored.compartment.id);
    expect(running.store.parcel(reply.result.parcelId)?.state).toBe('picked_up');
    await waitFor('watch prints WB-2 picked up', () => watchLines.find((l) => l.type === 'parcel.picked_up' && l.data.waybill === 'WB-2'), 10_000);

    // Everything exactly once, in order; acknowledged; the cursor is kept for the next run.
    expect(watchLines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(watchLines.map((l) => l.type)).toEqual(['parcel.announced', 'parcel.stored', 'parcel.picked_up', 'parcel.announced', 'parcel.stored', 'parcel.picked_up']);
    await waitFor('acme acknowledged up to 6', () => ackedUpTo(running, 'c/acme') === 6, 10_000);
    stopWatch();
    expect(await watchExit).toBe(0);
    expect(watchErr.filter((l) => !l.startsWith('{"stats"') && !l.startsWith('{"watching"'))).toEqual([]);
    expect(JSON.parse(watchErr.at(-1) ?? '{}')).toMatchObject({ stats: { delivered: 6, rejected: 0 } });
    // The state file keeps the cursor and the stream epoch (the locker's database's).
    const saved = JSON.parse(await readFile(join(dir, 'acme.cursor.json'), 'utf8')) as { cursors: Record<string, number>; epochs: Record<string, string> };
    expect(saved).toEqual({ cursors: { [LOCKER]: 7 }, epochs: { [LOCKER]: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown as string } });
    savedEpoch = saved.epochs[LOCKER];
  });
  it('after a restart the locker keeps what was provisioned, and watch resumes from its saved cursor', async () => {
    const before = await lockerPublicKeys(running);
    await running.stop();
    // The same installer configuration file as at first start: the provisioned state outranks it.
    running = await startLockerd({ config: parseConfig(freshConfigInput, { unknownKeys: 'ignore' }), sim: true, port: 0 });
    kiosk = new KioskUser(running);
    await waitForSyncConnected(running);
    expect(await lockerPublicKeys(running)).toEqual(before);
    expect(running.store.carriers().map((c) => c.id)).toEqual(['acme']);
    expect(running.store.compartments()).toHaveLength(24);
    expect(running.settings.get().codes.length).toBe(9);

    const lines: WatchLine[] = [];
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const exit = lockerctl(
      ['watch', ...mqtt, '--password', users.acme, '--carrier', 'acme', '--locker', LOCKER, '--home', carrierHome, '--decrypt-key', join(keys, 'acme.enc.jwk'), '--state', join(dir, 'acme.cursor.json')],
      { out: (l) => lines.push(JSON.parse(l) as WatchLine), err: () => undefined, env: {}, interrupted },
    );
    try {
      await ctl(['send', ...mqtt, '--password', users.acme, '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--locker', LOCKER, '--home', carrierHome, '--cmd', 'createReservation', '--args', '{"waybill":"WB-3","size":"L","kind":"delivery"}']);
      const badge = (await ctl(['badge', '--key', join(keys, 'acme.sign.jwk'), '--issuer', 'acme', '--subject', 'courier-9'])).out[0] ?? '';
      const stored = await kiosk.deposit(await kiosk.courierLogin(badge), 'WB-3', 'L');
      const line = await waitFor('watch prints WB-3 stored', () => lines.find((l) => l.type === 'parcel.stored' && l.data.waybill === 'WB-3'), 10_000);
      expect(line.code).toMatch(/^[0-9]{9}$/);
      expect(await kiosk.pickup(line.code ?? '')).toBe(stored.compartment.id);
      await waitFor('watch prints WB-3 picked up', () => lines.find((l) => l.type === 'parcel.picked_up' && l.data.waybill === 'WB-3'), 10_000);
      // Only what came after the cursor of the first run; nothing printed twice.
      expect(lines.map((l) => [l.seq, l.type])).toEqual([
        [7, 'parcel.announced'],
        [8, 'parcel.stored'],
        [9, 'parcel.picked_up'],
      ]);
    } finally {
      stop();
    }
    expect(await exit).toBe(0);
    // A clean restart keeps the database, so the same epoch.
    expect(JSON.parse(await readFile(join(dir, 'acme.cursor.json'), 'utf8'))).toEqual({ cursors: { [LOCKER]: 10 }, epochs: { [LOCKER]: savedEpoch } });
  });
});
