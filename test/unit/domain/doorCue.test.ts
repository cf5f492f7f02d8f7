// Issue 11, flow 1: the door that opens lights its LED and beeps through the HAL Indicator;
// the LED goes out when the session ends; a door that did not open beeps the error pattern.
// Driven by the real Locker over the byte-level board simulator (domain fixture, manual clock).
import { afterEach, expect, it } from 'vitest';
import { type Indicator } from '../../../hal/types.js';
import { DoorCue } from '../../../src/domain/doorCue.js';
import { silentLogger } from '../../../src/logger.js';
import { domainLocker, type DomainLocker } from '../../support/domainLocker.js';

let dl: DomainLocker | undefined;
afterEach(async () => {
  await dl?.stop();
  dl = undefined;
});

class RecordingIndicator implements Indicator {
  readonly calls: string[] = [];
  beep(pattern: 'ok' | 'error' | 'alarm'): Promise<void> {
    this.calls.push(`beep ${pattern}`);
    return Promise.resolve();
  }
  light(compartmentId: string, on: boolean): Promise<void> {
    this.calls.push(`light ${compartmentId} ${on ? 'on' : 'off'}`);
    return on ? Promise.resolve() : Promise.reject(new Error('LED line gone'));
  }
}

it('lights and beeps for the door a pickup opened, switches the LED off once it is closed, and survives a failing LED', async () => {
  dl = await domainLocker();
  const indicator = new RecordingIndicator();
  dl.locker.on(new DoorCue(indicator, silentLogger()).onEvent);
  const { code, compartment } = await dl.deposit('SP-CUE-1');
  // The deposit's own door cued too; start counting at the pickup.
  indicator.calls.length = 0;
  await dl.settle(dl.locker.pickup(code));
  expect(indicator.calls).toEqual([`light ${compartment} on`, 'beep ok']);
  dl.take(compartment);
  dl.close(compartment);
  await dl.until('the LED off', () => indicator.calls.includes(`light ${compartment} off`));
  expect(indicator.calls).toEqual([`light ${compartment} on`, 'beep ok', `light ${compartment} off`]);
});

it('beeps the error pattern when a door did not open', async () => {
  dl = await domainLocker();
  const indicator = new RecordingIndicator();
  dl.locker.on(new DoorCue(indicator, silentLogger()).onEvent);
  const { code, compartment } = await dl.deposit('SP-CUE-2');
  indicator.calls.length = 0;
  dl.world.setJammed(dl.position(compartment), true);
  await expect(dl.settle(dl.locker.pickup(code), 20_000)).rejects.toMatchObject({ code: 'LATCH_JAMMED' });
  expect(indicator.calls).toContain('beep error');
  expect(indicator.calls.filter((c) => c.startsWith('light'))).toEqual([]);
});
