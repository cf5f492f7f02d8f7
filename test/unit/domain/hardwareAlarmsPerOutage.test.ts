// Issue 9, findings 2 and 10: one alarm.bus_disconnected per outage, not per start (the open
// outage is stored, so a new process during the same outage stays quiet), and a board whose
// doors all read open at start is an alarm (polarity).
import { describe, expect, it } from 'vitest';
import { HardwareAlarms } from '../../../src/domain/hardwareAlarms.js';
import { type AlarmEvent } from '../../../src/domain/events.js';
import { silentLogger } from '../../../src/logger.js';

function fakeStore() {
  const settings = new Map<string, string>();
  return { parcelsIn: () => [], setting: (k: string) => settings.get(k), putSetting: (k: string, v: string) => void settings.set(k, v) };
}

function alarmsOn(store: ReturnType<typeof fakeStore>) {
  const raised: string[] = [];
  let reconciles = 0;
  const h = new HardwareAlarms({
    store,
    alarms: { raise: (a: AlarmEvent) => void raised.push(a.type) },
    views: { one: () => { throw new Error('not used'); } },
    notify: () => undefined,
    logger: silentLogger(),
    reconcile: async () => {
      reconciles++;
      return undefined;
    },
  });
  return { h, raised, reconciles: () => reconciles };
}

describe('hardware alarms', () => {
  it('one bus_disconnected per outage across restarts, one bus_reconnected when it ends', () => {
    const store = fakeStore();
    const first = alarmsOn(store);
    first.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: false, message: 'ENOENT' });
    expect(first.raised).toEqual(['alarm.bus_disconnected']);
    // The process restarts during the same outage: the bus fails to open again.
    const second = alarmsOn(store);
    second.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: false, message: 'ENOENT' });
    second.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: false, message: 'ENOENT' });
    expect(second.raised).toEqual([]);
    second.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: true });
    expect(second.raised).toEqual(['alarm.bus_reconnected']);
    expect(second.reconciles()).toBe(1);
    // A plain connect at the next start is not news; a new loss is a new outage.
    const third = alarmsOn(store);
    third.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: true });
    third.h.onDoorEvent({ type: 'transport', bus: 'bus0', connected: false });
    expect(third.raised).toEqual(['alarm.bus_disconnected']);
  });

  it('every door of a board open at start raises alarm.board_all_open', () => {
    const a = alarmsOn(fakeStore());
    a.h.onDoorEvent({ type: 'all_doors_open', bus: 'bus0', board: 0, compartments: ['A1', 'A2'] });
    expect(a.raised).toEqual(['alarm.board_all_open']);
  });
});
