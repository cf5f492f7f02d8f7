// Issue 11, flow 7: a scan to confirm each parcel a courier takes back. The collection counts
// when the door is seen open (as before); the courier then scans or types the parcel's waybill,
// which lockerd checks against the parcel of that door, or skips with a reason. The carrier gets
// parcel.collection_confirmed saying which. Every refusal has its own code.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorCode, errorContext, LockerHarness, type CompartmentJson, type DepositJson } from '../support/lockerHarness.js';
import { OffsetClock } from '../support/offsetClock.js';

interface DropoffOpened {
  dropoffId: string;
  secret: string;
  compartment: CompartmentJson;
  deposit: DepositJson;
}

describe('a scan to confirm each collected parcel', () => {
  let h: LockerHarness;
  let clock: OffsetClock;
  beforeEach(async () => {
    clock = new OffsetClock();
    h = await LockerHarness.start({ clock });
  });
  afterEach(async () => {
    await h.cleanup();
  });

  /** A consumer drop-off for parcelgo, dropped off and waiting for its courier. */
  async function droppedOff(waybill: string): Promise<{ parcelId: string; compartment: string }> {
    const announced = await h.announce('parcelgo', { waybill, size: 'M', kind: 'dropoff' });
    const opened = await h.api<DropoffOpened>('POST', '/api/dropoff', { code: announced.code });
    expect(opened.status).toBe(200);
    const compartment = opened.body.compartment.id;
    h.put(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');
    await waitForState(h, announced.parcelId, 'dropped_off');
    return { parcelId: announced.parcelId, compartment };
  }

  const confirm = (token: string, parcelId: string, body: unknown) => h.api<{ confirmation: Record<string, unknown> }>('POST', `/api/courier/collections/${parcelId}/confirm`, body, token);

  it('typed: a wrong waybill is refused with tries left, the door stays open, the right one confirms once', async () => {
    const { parcelId, compartment } = await droppedOff('PG-CONF-1');
    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');

    // Nothing to confirm before the door opened.
    const early = await confirm(pg, parcelId, { waybill: 'PG-CONF-1' });
    expect(early.status).toBe(404);
    expect(errorCode(early)).toBe('NOT_FOUND');

    const opened = await h.api('POST', `/api/courier/collections/${parcelId}/open`, {}, pg);
    expect(opened.status).toBe(200);
    // Collected when the door is seen open, scan or no scan.
    expect(h.read.parcel(parcelId)?.state).toBe('collected');

    const wrong = await confirm(pg, parcelId, { waybill: 'PG-OTHER-9' });
    expect(wrong.status).toBe(409);
    expect(errorCode(wrong)).toBe('WAYBILL_MISMATCH');
    expect(errorContext(wrong)).toMatchObject({ triesLeft: 4, compartment });
    // The refusal does not echo what was typed.
    expect(JSON.stringify(wrong.body)).not.toContain('PG-OTHER-9');
    expect(h.simLock(compartment).doorOpen).toBe(true);

    // Bad input is a coded 400 and costs no try.
    for (const body of [{ waybill: 'PG CONF 1' }, { waybill: 'x'.repeat(65) }, { waybill: '' }, { skip: 'bored' }, { waybill: 'PG-CONF-1', skip: 'no_label' }, {}]) {
      const bad = await confirm(pg, parcelId, body);
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect(errorCode(bad)).toBe('INPUT_INVALID');
    }

    // Another carrier's courier cannot see it.
    const sp = await h.courierLogin('swiftpost', 'sp-courier-1');
    const foreign = await confirm(sp, parcelId, { waybill: 'PG-CONF-1' });
    expect(foreign.status).toBe(404);
    expect(errorCode(foreign)).toBe('NOT_FOUND');

    // Typed in lower case from the keyboard: the same label.
    const right = await confirm(pg, parcelId, { waybill: 'pg-conf-1' });
    expect(right.status).toBe(200);
    expect(right.body.confirmation).toMatchObject({ parcelId, by: 'typed', compartment });
    const again = await confirm(pg, parcelId, { waybill: 'PG-CONF-1' });
    expect(again.status).toBe(409);
    expect(errorCode(again)).toBe('TRANSACTION_STATE');
    expect(errorContext(again)).toMatchObject({ reason: 'confirmed' });

    h.take(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');
    const types = h.read.eventTypes('c/parcelgo');
    expect(types).toEqual(['dropoff.announced', 'dropoff.dropped_off', 'dropoff.collected', 'parcel.collection_confirmed']);
    const [event] = h.read.events('parcel.collection_confirmed');
    expect(event?.data).toMatchObject({ parcelId, waybill: 'PG-CONF-1', compartment, kind: 'dropoff', courier: 'pg-courier-1', confirmation: 'typed', wrongTries: 1 });
    expect(event?.data).not.toHaveProperty('reason');
    expect(h.read.allText()).not.toContain('PG-OTHER-9');
  });

  it('tries are bounded; then the courier skips with a reason; an expired parcel is confirmed the same way', async () => {
    const announced = await h.announce('parcelgo', { waybill: 'PG-CONF-2', size: 'S', kind: 'parcel', dwellHours: 0.001 });
    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');
    const { compartment, deposit } = await h.deposit(pg, 'PG-CONF-2', 'S');
    clock.jump(Math.max(0, (deposit.expiresAt ?? 0) - clock.now()) + 50);
    expect(h.running.locker.expireDue()).toBe(1);
    expect((await h.api('POST', `/api/courier/collections/${announced.parcelId}/open`, {}, pg)).status).toBe(200);
    expect(h.read.parcel(announced.parcelId)?.state).toBe('retrieved');

    for (let left = 4; left >= 0; left--) {
      const wrong = await confirm(pg, announced.parcelId, { waybill: `PG-WRONG-${left}` });
      expect(errorCode(wrong)).toBe('WAYBILL_MISMATCH');
      expect(errorContext(wrong)).toMatchObject({ triesLeft: left });
    }
    // The right one no longer counts once the tries are spent: only "could not scan" is left.
    const spent = await confirm(pg, announced.parcelId, { waybill: 'PG-CONF-2' });
    expect(spent.status).toBe(409);
    expect(errorCode(spent)).toBe('CONFIRM_TRIES_SPENT');
    const skipped = await confirm(pg, announced.parcelId, { skip: 'label_unreadable' });
    expect(skipped.status).toBe(200);
    expect(skipped.body.confirmation).toMatchObject({ by: 'skipped', reason: 'label_unreadable' });

    const [event] = h.read.events('parcel.collection_confirmed');
    expect(event?.data).toMatchObject({ parcelId: announced.parcelId, waybill: 'PG-CONF-2', compartment, kind: 'expired', confirmation: 'skipped', reason: 'label_unreadable', wrongTries: 5 });
    h.take(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');
  });

  it('scanned: lockerd reads the scan for the collection screen and checks it itself', async () => {
    const { parcelId, compartment } = await droppedOff('PG-CONF-3');
    const pg = await h.courierLogin('parcelgo', 'pg-courier-1');
    expect((await h.api('POST', `/api/courier/collections/${parcelId}/open`, {}, pg)).status).toBe(200);
    const terminal = await h.terminal();
    try {
      const show = (body: unknown, token?: string) =>
        fetch(`${h.url}/api/kiosk/screen`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: terminal.cookie, ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      // The collection screen needs the courier's session and the parcel it confirms.
      expect((await show({ screen: 'collect', parcel: parcelId })).status).toBe(401);
      expect((await show({ screen: 'collect' }, pg)).status).toBe(400);
      expect((await show({ screen: 'collect', parcel: parcelId }, pg)).status).toBe(200);

      h.world.scan('PG-NOT-THIS');
      const refused = await terminal.waitFor('a wrong waybill scanned', (e) => e.type === 'scan-result' && e.action === 'confirm' && e.state === 'failed');
      expect(refused.error).toMatchObject({ code: 'WAYBILL_MISMATCH', context: { triesLeft: 4 } });
      expect(JSON.stringify(terminal.events)).not.toContain('PG-NOT-THIS');

      // Something that is no waybill (a link with a space) is refused and costs no try.
      expect((await show({ screen: 'collect', parcel: parcelId }, pg)).status).toBe(200);
      h.world.scan('https://x.example/a b');
      const invalid = await terminal.waitFor('no waybill scanned', (e) => e.type === 'scan-result' && e.action === 'confirm' && (e.error as { code?: string } | undefined)?.code === 'INPUT_INVALID');
      expect(invalid.state).toBe('failed');

      expect((await show({ screen: 'collect', parcel: parcelId }, pg)).status).toBe(200);
      h.world.scan('PG-CONF-3');
      const ok = await terminal.waitFor('the right waybill scanned', (e) => e.type === 'scan-result' && e.action === 'confirm' && e.state === 'ok');
      expect(ok.confirmation).toMatchObject({ parcelId, by: 'scanned', compartment });
    } finally {
      terminal.close();
    }
    const [event] = h.read.events('parcel.collection_confirmed');
    expect(event?.data).toMatchObject({ parcelId, confirmation: 'scanned', wrongTries: 1, kind: 'dropoff' });
    // The list tells what is still to confirm: nothing now.
    const list = await h.api<{ items: unknown[]; unconfirmed: unknown[] }>('GET', '/api/courier/collections', undefined, pg);
    expect(list.body.unconfirmed).toEqual([]);
    h.take(compartment);
    h.close(compartment);
    await h.waitForDoor(compartment, 'closed');
  });
});

async function waitForState(h: LockerHarness, parcelId: string, state: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (h.read.parcel(parcelId)?.state !== state) {
    if (Date.now() > deadline) throw new Error(`parcel ${parcelId} did not reach ${state}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
