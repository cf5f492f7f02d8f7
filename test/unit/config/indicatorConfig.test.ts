// Issue 11, flow 1: `hardware.indicator` is checked with the rest of the file, every problem at
// once with its path (CONFIG_INVALID): an LED for a compartment the layout does not have, and a
// pin a GPIO bus on the same header already uses for a relay or a door switch. The shipped
// examples carry one (simulated lines in lockerd.sim.json, header pins in lockerd.gpio.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigIssue } from '../../../src/config/configIssue.js';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { LockerError } from '../../../kernel/errors.js';
import { packageRoot } from '../../../src/packageRoot.js';

const example = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(packageRoot(), 'deploy', 'examples', name), 'utf8')) as Record<string, unknown>;

function issuesOf(input: unknown): ConfigIssue[] {
  try {
    parseConfig(input, { sim: true });
  } catch (e) {
    if (e instanceof LockerError && e.code === 'CONFIG_INVALID') return e.context.issues as ConfigIssue[];
    throw e;
  }
  throw new Error('expected CONFIG_INVALID');
}

function withIndicator(name: string, indicator: unknown): Record<string, unknown> {
  const input = example(name);
  const hardware = input.hardware as Record<string, unknown>;
  return { ...input, hardware: { ...hardware, indicator } };
}

describe('hardware.indicator', () => {
  it('the shipped examples have one and load', () => {
    expect(parseConfig(example('lockerd.sim.json'), { sim: true }).hardware.indicator).toMatchObject({ transport: { kind: 'sim' }, buzzer: { pin: 12, activeLow: false } });
    const gpio = parseConfig(example('lockerd.gpio.json'), { sim: true }).hardware.indicator;
    expect(gpio?.leds).toEqual([
      { compartment: '1', pin: 20, activeLow: true },
      { compartment: '2', pin: 21, activeLow: true },
    ]);
  });

  it('names an LED of an unknown compartment and pins the GPIO bus already uses, with their paths', () => {
    const issues = issuesOf(
      withIndicator('lockerd.gpio.json', {
        transport: { kind: 'gpio' },
        buzzer: { pin: 17 },
        leds: [
          { compartment: '9', pin: 20 },
          { compartment: '1', pin: 5 },
        ],
      }),
    );
    expect(issues).toEqual([
      { path: 'hardware.indicator.buzzer.pin', message: 'pin 17 is already the relay of lock 1 on bus "gpio0"' },
      { path: 'hardware.indicator.leds.0.compartment', message: 'no compartment "9" in the layout' },
      { path: 'hardware.indicator.leds.1.pin', message: 'pin 5 is already the door switch of lock 1 on bus "gpio0"' },
    ]);
  });

  it('names what is wrong inside the section: no line at all, a pin twice, a pin off the header', () => {
    expect(issuesOf(withIndicator('lockerd.sim.json', { transport: { kind: 'sim' } }))).toEqual([{ path: 'hardware.indicator', message: 'give a buzzer, leds or both' }]);
    expect(issuesOf(withIndicator('lockerd.sim.json', { transport: { kind: 'sim' }, buzzer: { pin: 12 }, leds: [{ compartment: 'A1', pin: 12 }] }))).toEqual([
      { path: 'hardware.indicator.leds.0.pin', message: 'pin 12 is already the buzzer' },
    ]);
    expect(issuesOf(withIndicator('lockerd.sim.json', { transport: { kind: 'sim' }, buzzer: { pin: 99 } })).map((i) => i.path)).toEqual(['hardware.indicator.buzzer.pin']);
  });
});
