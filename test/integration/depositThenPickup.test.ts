// A courier deposits parcels and consumers collect them, by typed code and by a scanned QR code,
// on the whole runtime over HTTP with the simulated locker.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, LockerHarness, seqGaps, waitFor, type CompartmentJson, type DepositJson } from '../support/lockerHarness.js';

describe('deposit then pickup', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('stores a parcel behind a closed door with a code, and the typed code opens it again', async () => {
    const token = await h.courierLogin('swiftpost', 'courier-7');
    const opened = await h.startDeposit(token, 'SP-1001', 'S');
    expect(opened.status).toBe(200);
    const deposit = opened.body.deposit;
    expect(deposit).toMatchObject({ waybill: 'SP-1001', carrier: 'swiftpost', state: 'open', compartment: { id: 'A1', size: 'S' } });
    expect(h.simLock('A1').doorOpen).toBe(true);
    expect(deposit.pickupCode).toBeUndefined();

    h.put('A1');
    h.close('A1');
    const stored = await h.waitForDeposit(token, deposit.id, 'stored');
    expect(stored.pickupCode).toMatch(/^[0-9]{8}$/);
    expect(stored.expiresAt).toBeGreaterThan(Date.now() + 71 * 3_600_000);
    const code = stored.pickupCode ?? '';

    const parcel = h.read.parcelByWaybill('SP-1001');
    expect(parcel).toMatchObject({ carrier: 'swiftpost', kind: 'delivery', state: 'stored', compartment_id: 'A1', size: 'S' });
    expect(parcel?.code_digest).toMatch(/^[0-9a-f]{64}$/);
    const storedEvents = h.read.events('parcel.stored');
    expect(storedEvents).toHaveLength(1);
    expect(storedEvents[0]).toMatchObject({ stream: 'c/swiftpost', carrier: 'swiftpost', data: { parcelId: parcel?.id, waybill: 'SP-1001', compartment: 'A1', courier: 'courier-7', codeChosenByCarrier: false } });
    expect(storedEvents[0]?.data.codeJwe).toMatch(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*){4}$/);

    // The plaintext code is nowhere in the database: not in a table, not in the files.
    expect(h.read.allText()).not.toContain(code);
    h.running.db.pragma('wal_checkpoint(PASSIVE)');
    for (const f of readdirSync(h.dataDir).filter((n) => n.startsWith('lockerd.db'))) expect(readFileSync(join(h.dataDir, f)).includes(Buffer.from(code))).toBe(false);

    const compartmentBefore = await h.operatorCompartment(await h.operatorLogin(), 'A1');
    expect(compartmentBefore).toMatchObject({ state: 'occupied', door: 'closed' });

    const pickup = await h.pickup(code);
    expect(pickup.status).toBe(200);
    expect(pickup.body).toMatchObject({ compartment: { id: 'A1' }, parcel: { kind: 'parcel' } });
    expect(h.simLock('A1').doorOpen).toBe(true);
    expect(h.read.parcel(parcel?.id ?? '')?.state).toBe('picked_up');
    h.take('A1');
    h.close('A1');
    await h.waitForDoor('A1', 'closed');

    const events = h.read.outbox('c/swiftpost');
    expect(events.map((e) => e.type)).toEqual(['parcel.stored', 'parcel.picked_up']);
    expect(events[1]).toMatchObject({ carrier: 'swiftpost', data: { parcelId: parcel?.id, waybill: 'SP-1001', compartment: 'A1' } });
    expect(seqGaps(h.read.outbox())).toEqual([]);

    // Free again, and the code is spent.
    const op = await h.operatorLogin();
    expect(await h.operatorCompartment(op, 'A1')).toMatchObject({ state: 'free', door: 'closed' });
    const again = await h.pickup(code);
    expect(again.status).toBe(404);
    expect(errorCode(again)).toBe('CODE_UNKNOWN');
    expect(h.read.inFlightSessions()).toEqual([]);
    expect(h.read.allText()).not.toContain(code);
  });

  it('a QR code read by the scanner is redeemed by the kiosk for the screen in use and opens the door', async () => {
    const token = await h.courierLogin();
    const { compartment, code, deposit } = await h.deposit(token, 'SP-2001', 'M');
    expect(compartment).toBe('A3');

    const sse = await h.events();
    const terminal = await h.terminal();
    try {
      await terminal.show('home');
      h.world.scan(`LK1:${code}`);
      const result = await terminal.waitFor('pickup by scan', (e) => e.type === 'scan-result' && e.action === 'pickup' && e.state === 'ok');
      expect((result.opened as { compartment: { id: string } }).compartment.id).toBe('A3');
      // The door opening is pushed to every screen; the scanned text to none.
      await sse.waitFor('door A3 open', (e) => e.type === 'door' && e.compartment === 'A3' && e.door === 'open');
      expect(JSON.stringify(sse.events)).not.toContain(code);
      expect(JSON.stringify(terminal.events)).not.toContain(code);
    } finally {
      sse.close();
      terminal.close();
    }
    h.take('A3');
    h.close('A3');
    await h.waitForDoor('A3', 'closed');
    const parcel = h.read.parcelByWaybill('SP-2001');
    expect(parcel?.state).toBe('picked_up');
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.picked_up']);
    expect(h.read.events('parcel.picked_up')[0]?.data.parcelId).toBe(parcel?.id);
    expect(deposit.state).toBe('stored');
  });

  it('several parcels in a row go into different compartments and come out by their own codes', async () => {
    const token = await h.courierLogin();
    const sizes = ['S', 'S', 'M', 'XS', 'L'];
    const stored: { compartment: string; code: string; deposit: DepositJson }[] = [];
    for (const [i, size] of sizes.entries()) stored.push(await h.deposit(token, `SP-30${i}`, size));

    expect(stored.map((s) => s.compartment)).toEqual(['A1', 'A2', 'A3', 'B1', 'A5']);
    expect(new Set(stored.map((s) => s.code)).size).toBe(sizes.length);
    const text = h.read.allText();
    for (const s of stored) expect(text).not.toContain(s.code);

    // Collected in a different order than deposited.
    for (const s of [...stored].reverse()) {
      const r = await h.pickup(s.code);
      expect(r.status).toBe(200);
      expect(r.body.compartment.id).toBe(s.compartment);
      h.take(s.compartment);
      h.close(s.compartment);
      await h.waitForDoor(s.compartment, 'closed');
    }

    const events = h.read.outbox('c/swiftpost');
    expect(events.map((e) => e.type)).toEqual([...sizes.map(() => 'parcel.stored'), ...sizes.map(() => 'parcel.picked_up')]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.slice(sizes.length).map((e) => e.data.waybill)).toEqual([...stored].reverse().map((s) => s.deposit.waybill));
    expect(h.read.parcels().every((p) => p.state === 'picked_up')).toBe(true);

    const compartments = await waitFor('all compartments free', async () => {
      const list: CompartmentJson[] = await h.operatorCompartments(await h.operatorLogin());
      return list.every((c) => c.state === 'free') ? list : undefined;
    });
    expect(compartments).toHaveLength(24);
  });
});
