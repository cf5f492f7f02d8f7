// GPIO lines through the Linux sysfs interface, using onoff (loaded only when this port is
// opened, so nothing else ever loads its native epoll module).
//
// sysfs numbers lines globally: on kernel 6.6+ the Raspberry Pi header chip no longer starts
// at 0, and BCM pin N is `base + N` (512 on a Pi 4, 571 on a Pi 5). The base is read from
// `<sysfsRoot>/gpiochip*/base` of the chip whose `label` names the SoC's pin controller;
// older kernels report base 0 there, so the same lookup works on both.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type Logger } from '../../kernel/log.js';
import { type GpioEdge, type GpioInput, type GpioOutput, type GpioPort, type GpioValue } from './gpioPort.js';

/** Labels of the pin controller that owns the 40-pin header, most specific first (Pi 5, Pi 4, Pi 3 and Zero). */
export const raspberryPiChipLabels = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export const defaultSysfsGpioRoot = '/sys/class/gpio';

export interface GpioChipInfo {
  /** Directory name, e.g. "gpiochip512". */
  chip: string;
  label: string;
  base: number;
  ngpio: number | undefined;
}

/** Lists the chips under a sysfs GPIO root; chips whose files cannot be read are skipped. */
export async function listGpioChips(sysfsRoot: string = defaultSysfsGpioRoot): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(sysfsRoot);
  } catch (e) {
    throw new LockerError(ErrorCodes.GPIO_ERROR, `cannot list ${sysfsRoot}: ${errorText(e)}`, { sysfsRoot }, { cause: e });
  }
  const chips: GpioChipInfo[] = [];
  for (const chip of entries.filter((name) => /^gpiochip\d+$/.test(name)).sort(byNumber)) {
    try {
      const label = (await readFile(join(sysfsRoot, chip, 'label'), 'utf8')).trim();
      const base = Number.parseInt((await readFile(join(sysfsRoot, chip, 'base'), 'utf8')).trim(), 10);
      if (!Number.isInteger(base) || base < 0) continue;
      const ngpio = Number.parseInt((await readFile(join(sysfsRoot, chip, 'ngpio'), 'utf8').catch(() => '')).trim(), 10);
      chips.push({ chip, label, base, ngpio: Number.isInteger(ngpio) && ngpio > 0 ? ngpio : undefined });
    } catch {
      // A chip being removed while we look, or one we may not read: not ours to judge.
    }
  }
  return chips;
}

/** Finds the header chip: the configured label, or the first known Raspberry Pi label present. */
export async function findGpioChip(options: { sysfsRoot?: string; chipLabel?: string } = {}): Promise<GpioChipInfo> {
  const sysfsRoot = options.sysfsRoot ?? defaultSysfsGpioRoot;
  const chips = await listGpioChips(sysfsRoot);
  const wanted = options.chipLabel !== undefined ? [options.chipLabel] : [...raspberryPiChipLabels];
  for (const label of wanted) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return chip;
  }
  const seen = chips.map((c) => `${c.chip}=${c.label}`).join(', ') || 'none';
  throw new LockerError(ErrorCodes.GPIO_ERROR, `no GPIO chip labelled ${wanted.join(' or ')} under ${sysfsRoot} (found: ${seen})`, {
    sysfsRoot,
    wanted,
  });
}

/** The part of onoff's Gpio class this port uses. */
export interface OnoffLine {
  read(): Promise<0 | 1>;
  write(value: 0 | 1): Promise<void>;
  watch(callback: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  unexport(): void;
}

export type OnoffGpioConstructor = new (
  gpio: number,
  direction: 'in' | 'out' | 'high' | 'low',
  edge?: GpioEdge,
  options?: { activeLow?: boolean },
) => OnoffLine;

export interface OnoffGpioOptions {
  logger: Logger;
  /** Label of the header chip; default: the known Raspberry Pi pin controllers. */
  chipLabel?: string;
  sysfsRoot?: string;
  /** Loads onoff's Gpio class; replaced in tests. */
  loadOnoff?: () => Promise<OnoffGpioConstructor>;
}

async function loadOnoffGpio(): Promise<OnoffGpioConstructor> {
  const mod = await import('onoff');
  return mod.Gpio;
}

export class OnoffGpio implements GpioPort {
  private readonly claimed = new Map<number, { close(): Promise<void> }>();

  private constructor(
    readonly chip: GpioChipInfo,
    private readonly Gpio: OnoffGpioConstructor,
    private readonly log: Logger,
  ) {}

  /** Finds the header chip and loads onoff. Rejects with GPIO_ERROR when either is missing. */
  static async open(options: OnoffGpioOptions): Promise<OnoffGpio> {
    const chip = await findGpioChip(options);
    let Gpio: OnoffGpioConstructor;
    try {
      Gpio = await (options.loadOnoff ?? loadOnoffGpio)();
    } catch (e) {
      throw new LockerError(ErrorCodes.GPIO_ERROR, `onoff is not available: ${errorText(e)}`, {}, { cause: e });
    }
    const log = options.logger.child({ channel: 'gpio' });
    log.info({ chip: chip.chip, label: chip.label, base: chip.base }, 'gpio chip found');
    return new OnoffGpio(chip, Gpio, log);
  }

  /** The sysfs line number of a BCM pin. */
  lineOf(pin: number): number {
    return this.chip.base + pin;
  }

  async openOutput(pin: number, activeLow: boolean): Promise<GpioOutput> {
    // sysfs applies "high"/"low" to the raw level, before active_low: ask for the raw level
    // that means inactive so a relay never clicks while the line is being claimed.
    const line = this.claim(pin, (n) => new this.Gpio(n, activeLow ? 'high' : 'low', undefined, { activeLow }));
    const output: GpioOutput = {
      pin,
      read: () => this.guard(pin, 'read', () => line.read()),
      write: (value) => this.guard(pin, 'write', () => line.write(value)),
      close: async () => {
        if (!this.claimed.has(pin)) return;
        this.claimed.delete(pin);
        await this.guard(pin, 'write', () => line.write(0)).catch((e: unknown) => this.log.error({ pin, err: e }, 'could not drive output inactive'));
        this.release(pin, line);
      },
    };
    this.claimed.set(pin, output);
    return output;
  }

  async openInput(pin: number, edge: GpioEdge): Promise<GpioInput> {
    const line = this.claim(pin, (n) => new this.Gpio(n, 'in', edge));
    const callbacks = new Set<(value: GpioValue) => void>();
    line.watch((err, value) => {
      if (err) {
        this.log.warn({ pin, err }, 'gpio watch error');
        return;
      }
      for (const cb of callbacks) cb(value);
    });
    const input: GpioInput = {
      pin,
      read: () => this.guard(pin, 'read', () => line.read()),
      watch: (cb) => {
        callbacks.add(cb);
        return () => callbacks.delete(cb);
      },
      close: async () => {
        if (!this.claimed.has(pin)) return;
        this.claimed.delete(pin);
        callbacks.clear();
        this.release(pin, line);
      },
    };
    this.claimed.set(pin, input);
    return input;
  }

  /** Releases every line this port claimed. */
  async close(): Promise<void> {
    for (const line of [...this.claimed.values()]) await line.close();
  }

  private claim(pin: number, create: (line: number) => OnoffLine): OnoffLine {
    if (!Number.isInteger(pin) || pin < 0 || (this.chip.ngpio !== undefined && pin >= this.chip.ngpio)) {
      throw new LockerError(ErrorCodes.GPIO_ERROR, `pin ${pin} is not on ${this.chip.label}`, { pin, chip: this.chip.chip });
    }
    if (this.claimed.has(pin)) throw new LockerError(ErrorCodes.GPIO_ERROR, `pin ${pin} is already in use`, { pin });
    try {
      return create(this.lineOf(pin));
    } catch (e) {
      throw new LockerError(ErrorCodes.GPIO_ERROR, `cannot claim pin ${pin} (line ${this.lineOf(pin)}): ${errorText(e)}`, { pin }, { cause: e });
    }
  }

  private release(pin: number, line: OnoffLine): void {
    try {
      line.unwatchAll();
      line.unexport();
    } catch (e) {
      this.log.warn({ pin, err: e }, 'could not release gpio line');
    }
  }

  private async guard<T>(pin: number, op: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new LockerError(ErrorCodes.GPIO_ERROR, `${op} pin ${pin} failed: ${errorText(e)}`, { pin, op }, { cause: e });
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function byNumber(a: string, b: string): number {
  return Number.parseInt(a.replace(/\D/g, ''), 10) - Number.parseInt(b.replace(/\D/g, ''), 10);
}
