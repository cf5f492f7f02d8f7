// Power cut in the middle of a deposit: lockerd runs as a child process and is killed (SIGKILL)
// after the door opened and the parcel went in; while it is down the courier shuts the door
// (the simulated world file is changed); at the next start the interrupted session is resolved
// from the sensors (src/domain/reconcile.ts): with item sensors the parcel is stored, without
// them the compartment is taken out of service for a person to look.
import { afterEach, describe, expect, it } from 'vitest';
import {
  apiCall,
  cu16Overrides,
  editWorldLock,
  fastDoors,
  openDbReadOnly,
  readWorldFile,
  seqGaps,
  childLockerds,
  waitFor,
  type ChildLockerd,
  type CompartmentJson,
  type DepositJson,
  type DbReader,
} from '../support/lockerHarness.js';
import { KioskClient } from '../support/kioskClient.js';
import { makeDemoLocker, type DemoLocker } from '../support/demoLocker.js';

const K1 = { bus: 'bus0', board: 0, lock: 1 };

describe('power cut mid deposit', { timeout: 60_000 }, () => {
  const pool = childLockerds();
  afterEach(() => pool.cleanup());
  const start = (demo: DemoLocker): Promise<ChildLockerd> => pool.start(demo.config);

  /** Starts a deposit into K1, puts the parcel in and pulls the plug with the door still open. */
  async function cutPowerWithParcelInOpenDoor(itemSensors: boolean): Promise<{ demo: DemoLocker; dataDir: string; depositId: string }> {
    const dataDir = await pool.dataDir();
    const demo = await makeDemoLocker(dataDir, { ...cu16Overrides({ itemSensors }), doors: fastDoors, logLevel: 'warn' });
    const first = await start(demo);
    const token = await new KioskClient(first.url, demo).courierLogin();
    const r = await apiCall<{ deposit: DepositJson }>(first.url, 'POST', '/api/courier/deposits', { waybill: 'SP-PC-1', size: 'S' }, token);
    expect(r.status).toBe(200);
    expect(r.body.deposit).toMatchObject({ state: 'open', compartment: { id: 'K1' } });
    expect((await apiCall(first.url, 'POST', '/sim/compartments/K1/put')).status).toBe(200);

    const inFlight = openDbReadOnly(dataDir);
    try {
      expect(inFlight.read.inFlightSessions().map((s) => [s.compartment_id, s.purpose])).toEqual([['K1', 'deposit']]);
    } finally {
      inFlight.close();
    }
    await first.kill();
    expect(first.process.signalCode).toBe('SIGKILL');

    const world = await readWorldFile(dataDir);
    expect(world.locks.find((l) => l.position.lock === 1)).toMatchObject({ doorOpen: true, latched: false, itemPresent: true });
    // While the controller is dead the courier shuts the door.
    await editWorldLock(dataDir, K1, { doorOpen: false, latched: true });
    return { demo, dataDir, depositId: r.body.deposit.id };
  }

  function expectConsistent(read: DbReader): void {
    expect(read.integrity()).toBe('ok');
    expect(read.foreignKeyProblems()).toEqual([]);
    expect(read.inFlightSessions()).toEqual([]);
    expect(seqGaps(read.outbox())).toEqual([]);
  }

  it('with item sensors the parcel seen inside is stored at restart (parcel.stored, reconciled)', async () => {
    const { demo, dataDir } = await cutPowerWithParcelInOpenDoor(true);
    const second = await start(demo);

    const db = openDbReadOnly(dataDir);
    try {
      const parcels = db.read.parcels();
      expect(parcels).toHaveLength(1);
      expect(parcels[0]).toMatchObject({ carrier: 'swiftpost', waybill: 'SP-PC-1', kind: 'delivery', state: 'stored', compartment_id: 'K1', size: 'S' });
      expect(parcels[0]?.code_digest).toMatch(/^[0-9a-f]{64}$/);
      expect(parcels[0]?.expires_at).toBeGreaterThan(Date.now());

      const events = db.read.outbox('c/swiftpost');
      expect(events.map((e) => e.type)).toEqual(['parcel.stored']);
      expect(events[0]?.data).toMatchObject({ parcelId: parcels[0]?.id, waybill: 'SP-PC-1', compartment: 'K1', reconciled: true });
      expect(events[0]?.data.codeJwe).toEqual(expect.any(String));
      expect(db.read.events('alarm.needs_inspection')).toEqual([]);

      const session = db.read.sessions().find((s) => s.compartment_id === 'K1');
      expect(session).toMatchObject({ purpose: 'deposit', outcome: 'stored' });
      expect(session?.state).not.toBe('in_flight');
      expectConsistent(db.read);
    } finally {
      db.close();
    }

    // The API agrees: K1 is occupied, in service, door closed; the next parcel goes elsewhere.
    const op = await new KioskClient(second.url, demo).operatorLogin();
    const list = await apiCall<{ compartments: CompartmentJson[] }>(second.url, 'GET', '/api/operator/compartments', undefined, op);
    expect(list.body.compartments.find((c) => c.id === 'K1')).toMatchObject({ state: 'occupied', door: 'closed' });
    const token = await new KioskClient(second.url, demo).courierLogin();
    const next = await apiCall<{ deposit: DepositJson }>(second.url, 'POST', '/api/courier/deposits', { waybill: 'SP-PC-2', size: 'S' }, token);
    expect(next.status).toBe(200);
    expect(next.body.deposit.compartment.id).toBe('K2');
    // The interrupted waybill is now a stored parcel: depositing it again is refused.
    const dup = await apiCall<{ error: { code: string } }>(second.url, 'POST', '/api/courier/deposits', { waybill: 'SP-PC-1', size: 'S' }, token);
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('WAYBILL_DUPLICATE');
  });

  it('without item sensors the compartment goes out of service NEEDS_INSPECTION with an alarm', async () => {
    const { demo, dataDir } = await cutPowerWithParcelInOpenDoor(false);
    const second = await start(demo);

    const db = openDbReadOnly(dataDir);
    try {
      // Nothing is guessed into existence.
      expect(db.read.parcels()).toEqual([]);
      expect(db.read.compartmentRow('K1')).toEqual({ in_service: 0, fault: 'NEEDS_INSPECTION' });
      const alarms = db.read.outbox('op');
      expect(alarms.map((e) => e.type)).toEqual(['alarm.needs_inspection']);
      expect(alarms[0]?.data).toMatchObject({ compartment: 'K1', purpose: 'deposit' });
      const carrier = db.read.outbox('c/swiftpost');
      expect(carrier.map((e) => e.type)).toEqual(['deposit.interrupted']);
      expect(carrier[0]?.data).toMatchObject({ waybill: 'SP-PC-1', compartment: 'K1' });
      expect(db.read.sessions().find((s) => s.compartment_id === 'K1')).toMatchObject({ state: 'uncertain', outcome: 'inspect' });
      expectConsistent(db.read);
    } finally {
      db.close();
    }

    const op = await new KioskClient(second.url, demo).operatorLogin();
    const list = await apiCall<{ compartments: CompartmentJson[] }>(second.url, 'GET', '/api/operator/compartments', undefined, op);
    expect(list.body.compartments.find((c) => c.id === 'K1')).toMatchObject({ state: 'out_of_service', fault: 'NEEDS_INSPECTION', door: 'closed' });
    const alarms = await apiCall<{ alarms: { type: string; compartment?: string }[] }>(second.url, 'GET', '/api/operator/alarms', undefined, op);
    expect(alarms.body.alarms.map((a) => [a.type, a.compartment])).toEqual([['alarm.needs_inspection', 'K1']]);

    // K1 is never offered until someone has looked.
    const token = await new KioskClient(second.url, demo).courierLogin();
    const next = await apiCall<{ deposit: DepositJson }>(second.url, 'POST', '/api/courier/deposits', { waybill: 'SP-PC-3', size: 'S' }, token);
    expect(next.status).toBe(200);
    expect(next.body.deposit.compartment.id).toBe('K2');
    await waitFor('K2 open in the world', async () => (await readWorldFile(dataDir)).locks.find((l) => l.position.lock === 2)?.doorOpen === true);
  });
});
