// Issue 11, flow 1: the buzzer and compartment LEDs of `hardware.indicator`, built the way a
// controller builds them (src/composition/indicator.ts: OnoffGpio over sysfs, then GpioIndicator)
// with onoff and the sysfs tree injected: the lines claimed (base + BCM pin, active-low ones
// starting inactive), the beep patterns on the manual clock, LEDs on and off, the lines released
// at close. An indicator that cannot be opened leaves lockerd without a cue, not without doors;
// a buzzer line that hangs drops beeps beyond a small queue and does not hold up close().
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type OnoffGpioConstructor, type OnoffLine } from '../../../hal/gpio/onoffGpio.js';
import { CLOSE_WAIT_MS, MAX_QUEUED_BEEPS } from '../../../hal/indicator/gpioIndicator.js';
import { ManualClock } from '../../../kernel/clock.js';
import { openIndicator } from '../../../src/composition/indicator.js';
import { IndicatorConfig } from '../../../src/config/schema.js';
import { silentLogger } from '../../../src/logger.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'lockerd-indicator-'));
  const dir = join(root, 'gpiochip512');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'label'), 'pinctrl-bcm2711\n');
  await writeFile(join(dir, 'base'), '512\n');
  await writeFile(join(dir, 'ngpio'), '58\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

interface Line {
  line: number;
  direction: string;
  activeLow: boolean | undefined;
  writes: number[];
  unexported: boolean;
}

/** An onoff Gpio class that records each line; `hang` makes writes on a line never settle, `refuse` makes claiming one throw. */
function fakeOnoff(lines: Line[], o: { hang?: number; refuse?: number } = {}): OnoffGpioConstructor {
  return class implements OnoffLine {
    private readonly rec: Line;
    constructor(line: number, direction: 'in' | 'out' | 'high' | 'low', _edge?: string, options?: { activeLow?: boolean }) {
      if (line === o.refuse) throw new Error('EBUSY');
      this.rec = { line, direction, activeLow: options?.activeLow, writes: [], unexported: false };
      lines.push(this.rec);
    }
    async read(): Promise<0 | 1> {
      return 0;
    }
    write(v: 0 | 1): Promise<void> {
      this.rec.writes.push(v);
      return this.rec.line === o.hang ? new Promise<void>(() => undefined) : Promise.resolve();
    }
    watch(): void {}
    unwatchAll(): void {}
    unexport(): void {
      this.rec.unexported = true;
    }
  };
}

const config = IndicatorConfig.parse({ transport: { kind: 'gpio' }, buzzer: { pin: 12 }, leds: [{ compartment: 'A1', pin: 20, activeLow: true }, { compartment: 'B2', pin: 21 }] });

describe('the indicator on the controller header (onoff injected)', () => {
  it('claims the lines at base + pin, plays the patterns on the clock, switches LEDs, releases the lines', async () => {
    const clock = new ManualClock();
    const lines: Line[] = [];
    const indicator = await openIndicator(config, { clock, logger: silentLogger(), onoff: { sysfsRoot: root, loadOnoff: async () => fakeOnoff(lines) } });
    if (!indicator) throw new Error('the indicator did not open');
    expect(lines.map((l) => [l.line, l.direction, l.activeLow])).toEqual([
      [524, 'low', false],
      [532, 'high', true], // active low: claimed at the raw level that means "off"
      [533, 'low', false],
    ]);
    const [buzzer, a1, b2] = lines;

    const error = indicator.beep('error');
    const ok = indicator.beep('ok');
    await clock.advance(1);
    expect(buzzer?.writes).toEqual([1]);
    await clock.advance(150);
    expect(buzzer?.writes).toEqual([1, 0]);
    await clock.advance(2_000);
    await Promise.all([error, ok]);
    // error: on off on off on, then off; ok: on, then off.
    expect(buzzer?.writes).toEqual([1, 0, 1, 0, 1, 0, 1, 0]);

    await indicator.light('A1', true);
    await indicator.light('B2', true);
    await indicator.light('A1', false);
    await indicator.light('no-led-here', true);
    expect(a1?.writes).toEqual([1, 0]);
    expect(b2?.writes).toEqual([1]);

    await indicator.close();
    expect(lines.every((l) => l.unexported)).toBe(true);
    expect(b2?.writes.at(-1)).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('an indicator that cannot be opened is left out, and what it claimed is released', async () => {
    const clock = new ManualClock();
    const lines: Line[] = [];
    const refused = await openIndicator(config, { clock, logger: silentLogger(), onoff: { sysfsRoot: root, loadOnoff: async () => fakeOnoff(lines, { refuse: 533 }) } });
    expect(refused).toBeUndefined();
    expect(lines.map((l) => [l.line, l.unexported])).toEqual([
      [524, true],
      [532, true],
    ]);
    // No header chip at all (a PC, a container): no indicator either.
    const noChip = await openIndicator(IndicatorConfig.parse({ transport: { kind: 'gpio', chipLabel: 'pinctrl-none' }, buzzer: { pin: 12 } }), { clock, logger: silentLogger(), onoff: { sysfsRoot: root, loadOnoff: async () => fakeOnoff([]) } });
    expect(noChip).toBeUndefined();
  });

  it('a buzzer line that hangs drops the beeps beyond the queue and does not hold up close', async () => {
    const clock = new ManualClock();
    const lines: Line[] = [];
    const indicator = await openIndicator(config, { clock, logger: silentLogger(), onoff: { sysfsRoot: root, loadOnoff: async () => fakeOnoff(lines, { hang: 524 }) } });
    if (!indicator) throw new Error('the indicator did not open');
    const beeps = Array.from({ length: MAX_QUEUED_BEEPS + 3 }, () => indicator.beep('ok'));
    const settled: boolean[] = beeps.map(() => false);
    beeps.forEach((b, i) => void b.then(() => (settled[i] = true)));
    await clock.advance(10);
    // The first is stuck on the line, the queue holds the next ones, the rest return at once.
    expect(settled).toEqual([...Array<boolean>(MAX_QUEUED_BEEPS).fill(false), true, true, true]);
    expect(lines[0]?.writes).toEqual([1]);
    // LEDs are their own lines: still switched.
    await indicator.light('B2', true);
    expect(lines[2]?.writes).toEqual([1]);
    let closed = false;
    const closing = indicator.close().then(() => (closed = true));
    await clock.advance(CLOSE_WAIT_MS - 1);
    expect(closed).toBe(false);
    // The pattern is given up; then the lines close, the stuck buzzer line waited for once more.
    await clock.advance(1);
    await clock.advance(CLOSE_WAIT_MS);
    await closing;
    expect(lines.slice(1).every((l) => l.unexported)).toBe(true);
  });
});

describe('hardware.indicator in the configuration', () => {
  it('needs a buzzer or LEDs, one line per pin and one LED per compartment', () => {
    const issues = (input: unknown): string[] => {
      const r = IndicatorConfig.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({ transport: { kind: 'sim' } })).toEqual([': give a buzzer, leds or both']);
    expect(issues({ transport: { kind: 'sim' }, buzzer: { pin: 64 } })[0]).toMatch(/^buzzer\.pin: /);
    expect(issues({ transport: { kind: 'sim' }, buzzer: { pin: 5 }, leds: [{ compartment: 'A1', pin: 5 }] })).toEqual(['leds.0.pin: pin 5 is already the buzzer']);
    expect(issues({ transport: { kind: 'sim' }, leds: [{ compartment: 'A1', pin: 6 }, { compartment: 'A1', pin: 7 }] })).toEqual(['leds.1.compartment: compartment "A1" has an LED already']);
    expect(issues({ transport: { kind: 'usb' }, buzzer: { pin: 5 } })).toHaveLength(1);
    expect(IndicatorConfig.parse({ transport: { kind: 'gpio' }, buzzer: { pin: 5 } }).buzzer).toEqual({ pin: 5, activeLow: false });
  });
});
