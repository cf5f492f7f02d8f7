// The barcode scanner is unplugged: health says so, the operator hears about it, keypad
// pickups keep working; plugged back in, scans reach the kiosk again.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockerHarness, seqGaps, sleep, waitFor } from '../support/lockerHarness.js';

interface Health {
  ok: boolean;
  scanner: string;
}

describe('scanner unplugged and replugged', () => {
  let h: LockerHarness;
  beforeEach(async () => {
    h = await LockerHarness.start();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('keeps the keypad working while unplugged and delivers scans again once replugged', async () => {
    const token = await h.courierLogin();
    const first = await h.deposit(token, 'SP-SC-1', 'S');
    const second = await h.deposit(token, 'SP-SC-2', 'S');
    expect((await h.api<Health>('GET', '/api/health')).body.scanner).toBe('connected');

    const sse = await h.events();
    const terminal = await h.terminal();
    try {
      h.world.setScannerPlugged(false);
      await sse.waitFor('scanner disconnected', (e) => e.type === 'scanner' && e.connected === false);
      const health = await waitFor('health reports the scanner gone', async () => {
        const r = await h.api<Health>('GET', '/api/health');
        return r.body.scanner === 'disconnected' ? r : undefined;
      });
      // A missing scanner does not make the locker unhealthy: the keypad still works.
      expect(health.status).toBe(200);
      expect(health.body.ok).toBe(true);
      expect(h.read.events('alarm.scanner_disconnected')).toHaveLength(1);
      expect(h.read.events('alarm.scanner_disconnected')[0]?.stream).toBe('op');

      // Nothing scanned while unplugged reaches the kiosk.
      await terminal.show('pickup');
      h.world.scan(`LK1:${first.code}`);
      await sleep(300);
      expect(terminal.events.filter((e) => e.type === 'scan-result')).toEqual([]);

      // Keypad pickup works.
      const typed = await h.pickup(first.code);
      expect(typed.status).toBe(200);
      expect(typed.body.compartment.id).toBe(first.compartment);
      h.take(first.compartment);
      h.close(first.compartment);
      await h.waitForDoor(first.compartment, 'closed');
      expect(h.read.parcelByWaybill('SP-SC-1')?.state).toBe('picked_up');

      h.world.setScannerPlugged(true);
      await sse.waitFor('scanner connected', (e) => e.type === 'scanner' && e.connected === true);
      expect((await h.api<Health>('GET', '/api/health')).body.scanner).toBe('connected');
      expect(h.read.events('alarm.scanner_reconnected')).toHaveLength(1);

      await terminal.show('pickup');
      h.world.scan(`LK1:${second.code}`);
      const scan = await terminal.waitFor('scan after replug', (e) => e.type === 'scan-result' && e.action === 'pickup' && e.state === 'ok');
      expect((scan.opened as { compartment: { id: string } }).compartment.id).toBe(second.compartment);
    } finally {
      sse.close();
      terminal.close();
    }
    expect(h.read.eventTypes('op')).toEqual(['alarm.scanner_disconnected', 'alarm.scanner_reconnected']);
    expect(h.read.eventTypes('c/swiftpost')).toEqual(['parcel.stored', 'parcel.stored', 'parcel.picked_up', 'parcel.picked_up']);
    expect(seqGaps(h.read.outbox())).toEqual([]);
  });

  it('survives being unplugged and replugged several times in a row', async () => {
    const terminal = await h.terminal();
    try {
      for (let i = 0; i < 3; i++) {
        h.world.setScannerPlugged(false);
        await waitFor('scanner gone', async () => (await h.api<Health>('GET', '/api/health')).body.scanner === 'disconnected');
        h.world.setScannerPlugged(true);
        await waitFor('scanner back', async () => (await h.api<Health>('GET', '/api/health')).body.scanner === 'connected');
      }
      const token = await h.courierLogin();
      await terminal.show('waybill', token);
      h.world.scan('WAYBILL-XYZ-1');
      const scan = await terminal.waitFor('scan', (e) => e.type === 'scan-result' && e.action === 'waybill');
      expect(scan.waybill).toBe('WAYBILL-XYZ-1');
      await sleep(200);
      expect(terminal.events.filter((e) => e.type === 'scan-result')).toHaveLength(1);
    } finally {
      terminal.close();
    }
    expect(h.read.eventTypes('op')).toEqual(Array.from({ length: 3 }, () => ['alarm.scanner_disconnected', 'alarm.scanner_reconnected']).flat());
  });
});
