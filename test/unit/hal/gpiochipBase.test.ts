// Finding the header chip's sysfs base on Raspberry Pi 4 and Pi 5 sysfs trees (kernel 6.6+
// numbering), built in a temp directory; OnoffGpio maps BCM pins onto base + pin.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findGpioChip, listGpioChips, OnoffGpio, type OnoffGpioConstructor, type OnoffLine } from '../../../hal/gpio/onoffGpio.js';
import { isLockerError } from '../../../kernel/errors.js';
import { silentLogger } from '../../../src/logger.js';

let root: string;

async function chip(name: string, label: string, base: number, ngpio: number): Promise<void> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'label'), `${label}\n`);
  await writeFile(join(dir, 'base'), `${base}\n`);
  await writeFile(join(dir, 'ngpio'), `${ngpio}\n`);
}

async function pi4(): Promise<void> {
  await chip('gpiochip512', 'pinctrl-bcm2711', 512, 58);
  await chip('gpiochip570', 'raspberrypi-exp-gpio', 570, 8);
  await writeFile(join(root, 'export'), '');
  await writeFile(join(root, 'unexport'), '');
}

async function pi5(): Promise<void> {
  await chip('gpiochip512', 'gpio-brcmstb@107d508500', 512, 32);
  await chip('gpiochip544', 'gpio-brcmstb@107d517c00', 544, 15);
  await chip('gpiochip559', 'gpio-brcmstb@107d508500', 559, 12);
  await chip('gpiochip571', 'pinctrl-rp1', 571, 54);
  await mkdir(join(root, 'gpio580'));
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockerd-sysfs-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('gpiochip base', () => {
  it('Pi 4: pinctrl-bcm2711 at 512', async () => {
    await pi4();
    expect(await findGpioChip({ sysfsRoot: root })).toEqual({ chip: 'gpiochip512', label: 'pinctrl-bcm2711', base: 512, ngpio: 58 });
  });

  it('Pi 5: pinctrl-rp1 at 571 among the other brcmstb chips', async () => {
    await pi5();
    const found = await findGpioChip({ sysfsRoot: root });
    expect(found.label).toBe('pinctrl-rp1');
    expect(found.base).toBe(571);
  });

  it('Pi 3 on an older kernel: pinctrl-bcm2835 at 0', async () => {
    await chip('gpiochip0', 'pinctrl-bcm2835', 0, 54);
    expect((await findGpioChip({ sysfsRoot: root })).base).toBe(0);
  });

  it('a configured label wins over the known ones', async () => {
    await pi4();
    await chip('gpiochip600', 'custom-hat', 600, 16);
    expect((await findGpioChip({ sysfsRoot: root, chipLabel: 'custom-hat' })).base).toBe(600);
  });

  it('lists chips in number order and skips unreadable ones', async () => {
    await pi5();
    await mkdir(join(root, 'gpiochip9'));
    expect((await listGpioChips(root)).map((c) => c.chip)).toEqual(['gpiochip512', 'gpiochip544', 'gpiochip559', 'gpiochip571']);
  });

  it('no matching label is a GPIO_ERROR naming what was found', async () => {
    await chip('gpiochip0', 'something-else', 0, 8);
    const err = await findGpioChip({ sysfsRoot: root }).catch((e: unknown) => e);
    expect(isLockerError(err, 'GPIO_ERROR')).toBe(true);
    expect(String(err)).toContain('gpiochip0=something-else');
  });

  it('a missing sysfs root is a GPIO_ERROR', async () => {
    const err = await findGpioChip({ sysfsRoot: join(root, 'nope') }).catch((e: unknown) => e);
    expect(isLockerError(err, 'GPIO_ERROR')).toBe(true);
  });
});

/** Records how onoff would have been asked to claim lines. */
function fakeOnoff(calls: Array<{ line: number; direction: string; edge?: string; activeLow?: boolean }>): OnoffGpioConstructor {
  return class implements OnoffLine {
    value: 0 | 1 = 0;
    constructor(line: number, direction: 'in' | 'out' | 'high' | 'low', edge?: string, options?: { activeLow?: boolean }) {
      if (line > 600) throw new Error('EINVAL: invalid argument, write');
      calls.push({ line, direction, edge, activeLow: options?.activeLow });
    }
    async read(): Promise<0 | 1> {
      return this.value;
    }
    async write(v: 0 | 1): Promise<void> {
      this.value = v;
    }
    watch(): void {}
    unwatchAll(): void {}
    unexport(): void {}
  };
}

describe('OnoffGpio pin mapping', () => {
  it('claims base + BCM pin, active-low outputs start high (inactive)', async () => {
    await pi5();
    const calls: Array<{ line: number; direction: string; edge?: string; activeLow?: boolean }> = [];
    const gpio = await OnoffGpio.open({ logger: silentLogger(), sysfsRoot: root, loadOnoff: async () => fakeOnoff(calls) });
    expect(gpio.lineOf(17)).toBe(588);
    const relay = await gpio.openOutput(17, true);
    const plain = await gpio.openOutput(27, false);
    await gpio.openInput(4, 'both');
    expect(calls).toEqual([
      { line: 588, direction: 'high', edge: undefined, activeLow: true },
      { line: 598, direction: 'low', edge: undefined, activeLow: false },
      { line: 575, direction: 'in', edge: 'both', activeLow: undefined },
    ]);
    await relay.write(1);
    expect(await relay.read()).toBe(1);
    await plain.close();
    await gpio.close();
  });

  it('rejects a pin twice, pins off the chip, and kernel refusals as GPIO_ERROR', async () => {
    await pi5();
    const gpio = await OnoffGpio.open({ logger: silentLogger(), sysfsRoot: root, loadOnoff: async () => fakeOnoff([]) });
    await gpio.openOutput(5, false);
    await expect(gpio.openOutput(5, false)).rejects.toMatchObject({ code: 'GPIO_ERROR' });
    await expect(gpio.openInput(54, 'both')).rejects.toMatchObject({ code: 'GPIO_ERROR' });
    await expect(gpio.openInput(30, 'both')).rejects.toMatchObject({ code: 'GPIO_ERROR', message: expect.stringContaining('EINVAL') });
    await gpio.close();
  });

  it('a missing onoff module is a GPIO_ERROR', async () => {
    await pi4();
    const err = await OnoffGpio.open({
      logger: silentLogger(),
      sysfsRoot: root,
      loadOnoff: async () => {
        throw new Error("Cannot find module 'onoff'");
      },
    }).catch((e: unknown) => e);
    expect(isLockerError(err, 'GPIO_ERROR')).toBe(true);
  });
});
