// Issue 11, flow 1 through the running lockerd on the simulator: `hardware.indicator` on
// simulated GPIO lines, built and wired at start (GpioIndicator + DoorCue). A door that opens
// for a pickup lights its LED and beeps; closing it turns the LED off; a door that did not open
// beeps the error pattern. What the buzzer and LEDs do is in the simulated world and on
// GET /sim/state. An indicator whose lines fail never holds up a door.
import { afterEach, expect, it } from 'vitest';
import { type SimIndicatorState } from '../../sim/world.js';
import { fastDemoHardware, LockerHarness } from '../support/lockerHarness.js';
import { waitFor } from '../support/polling.js';

const compartments = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'D1', 'D2', 'D3', 'D4', 'D5', 'D6'];
const ledPin = (c: string): number => 16 + compartments.indexOf(c);
const BUZZER = 12;

let h: LockerHarness | undefined;
afterEach(async () => {
  await h?.cleanup();
  h = undefined;
});

async function start(): Promise<LockerHarness> {
  const indicator = { transport: { kind: 'sim' }, buzzer: { pin: BUZZER }, leds: compartments.map((c) => ({ compartment: c, pin: ledPin(c) })) };
  return LockerHarness.start({ overrides: { hardware: { ...fastDemoHardware(), indicator } } });
}

async function simIndicator(l: LockerHarness): Promise<SimIndicatorState> {
  const r = await l.api<{ indicator: SimIndicatorState }>('GET', '/sim/state');
  return r.body.indicator;
}

it('a pickup lights the door LED and beeps; closing the door turns it off', async () => {
  const l = (h = await start());
  expect(l.running.hardware.indicator).toBeDefined();
  const token = await l.courierLogin();
  const { code, compartment } = await l.deposit(token, 'SP-CUE-1');
  // The deposit's door cued too, and is dark again once closed.
  await waitFor('the deposit LED off', () => l.world.indicator().leds[compartment] === false);
  const before = l.world.indicator().beeps;
  expect(before).toBeGreaterThanOrEqual(1);

  const r = await l.pickup(code);
  expect(r.status).toBe(200);
  await waitFor('the LED on', () => l.world.indicator().leds[compartment] === true);
  await waitFor('one beep, done', () => l.world.indicator().beeps === before + 1 && !l.world.indicator().buzzer);
  const seen = await simIndicator(l);
  expect(seen.leds[compartment]).toBe(true);
  expect(Object.entries(seen.leds).filter(([, on]) => on)).toEqual([[compartment, true]]);

  l.take(compartment);
  l.close(compartment);
  await waitFor('the LED off', () => l.world.indicator().leds[compartment] === false);
  expect((await simIndicator(l)).leds[compartment]).toBe(false);
  expect(l.world.indicator().beeps).toBe(before + 1);
});

it('a door that did not open beeps the error pattern and lights nothing', async () => {
  const l = (h = await start());
  const token = await l.courierLogin();
  const { code, compartment } = await l.deposit(token, 'SP-CUE-2');
  await waitFor('the deposit LED off', () => l.world.indicator().leds[compartment] === false);
  const before = l.world.indicator().beeps;
  l.world.setJammed(l.position(compartment), true);
  const r = await l.pickup(code);
  expect(r.status).not.toBe(200);
  // The error pattern sounds three times.
  await waitFor('the error pattern', () => l.world.indicator().beeps === before + 3 && !l.world.indicator().buzzer, 5_000);
  expect(l.world.indicator().leds[compartment]).toBe(false);
});

it('an indicator whose lines fail never holds up a door', async () => {
  const l = (h = await start());
  const lines = l.running.hardware.sim?.indicator?.gpio;
  if (!lines) throw new Error('no simulated indicator');
  const token = await l.courierLogin();
  const { code, compartment } = await l.deposit(token, 'SP-CUE-3');
  await waitFor('the deposit LED off and its beep done', () => l.world.indicator().leds[compartment] === false && !l.world.indicator().buzzer);
  const before = l.world.indicator().beeps;
  // A loose ribbon cable: every write to the buzzer and the LEDs fails.
  lines.setFault(BUZZER, 'write');
  for (const c of compartments) lines.setFault(ledPin(c), 'write');

  const r = await l.pickup(code);
  expect(r.status).toBe(200);
  await l.waitForDoor(compartment, 'open');
  l.take(compartment);
  l.close(compartment);
  await l.waitForDoor(compartment, 'closed');
  await waitFor('the parcel picked up', () => l.read.events('parcel.picked_up').some((e) => e.data.waybill === 'SP-CUE-3'));
  expect(l.world.indicator()).toMatchObject({ buzzer: false, beeps: before });
  expect(l.world.indicator().leds[compartment]).toBe(false);

  // The next door works with the cue again once the cable is back.
  lines.setFault(BUZZER, undefined);
  for (const c of compartments) lines.setFault(ledPin(c), undefined);
  const next = await l.deposit(token, 'SP-CUE-4');
  expect(next.compartment).toBeDefined();
  await waitFor('a beep again', () => l.world.indicator().beeps > before);
});
