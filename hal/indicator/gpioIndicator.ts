// Buzzer and per-compartment LEDs on GPIO outputs. Beeps play one at a time (a new pattern
// waits for the one playing); compartments without an LED are quietly skipped, since LEDs are
// often fitted to a few doors only. The queue is bounded (MAX_QUEUED_BEEPS): a buzzer line that
// hangs drops later beeps instead of growing a queue, and close() waits for it (and for each
// line to close) at most CLOSE_WAIT_MS. Nothing here is awaited by a door (src/domain/doorCue.ts).
import { type Clock } from '../../kernel/clock.js';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import { type Logger } from '../../kernel/log.js';
import { type Indicator } from '../types.js';
import { type GpioOutput, type GpioPort } from '../gpio/gpioPort.js';

export type BeepPattern = 'ok' | 'error' | 'alarm';

/** On/off durations in ms, starting with "on". */
export const beepPatterns: Record<BeepPattern, readonly number[]> = {
  ok: [120],
  error: [150, 100, 150, 100, 150],
  alarm: [600, 200, 600, 200, 600, 200, 600],
};

/** Patterns waiting or playing at most; more are dropped (and logged). */
export const MAX_QUEUED_BEEPS = 4;
/** How long close() waits for a pattern still playing before it releases the lines anyway. */
export const CLOSE_WAIT_MS = 2_000;

export interface GpioLine {
  pin: number;
  activeLow?: boolean;
}

export interface GpioIndicatorOptions {
  gpio: GpioPort;
  clock: Clock;
  logger: Logger;
  buzzer?: GpioLine;
  /** Compartment id -> LED line. */
  leds?: Record<string, GpioLine>;
}

export class GpioIndicator implements Indicator {
  private playing: Promise<void> = Promise.resolve();
  private queued = 0;

  private constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly buzzer: GpioOutput | undefined,
    private readonly leds: Map<string, GpioOutput>,
  ) {}

  /** Claims the configured lines; rejects with GPIO_ERROR (after releasing them) if one cannot be claimed. */
  static async open(options: GpioIndicatorOptions): Promise<GpioIndicator> {
    const claimed: GpioOutput[] = [];
    try {
      const buzzer = options.buzzer ? await options.gpio.openOutput(options.buzzer.pin, options.buzzer.activeLow ?? false) : undefined;
      if (buzzer) claimed.push(buzzer);
      const leds = new Map<string, GpioOutput>();
      for (const [id, line] of Object.entries(options.leds ?? {})) {
        const out = await options.gpio.openOutput(line.pin, line.activeLow ?? false);
        claimed.push(out);
        leds.set(id, out);
      }
      return new GpioIndicator(options.clock, options.logger.child({ channel: 'indicator' }), buzzer, leds);
    } catch (e) {
      for (const out of claimed) await out.close().catch(() => undefined);
      throw e instanceof LockerError ? e : new LockerError(ErrorCodes.GPIO_ERROR, `cannot claim indicator lines: ${String(e)}`, {}, { cause: e });
    }
  }

  beep(pattern: BeepPattern): Promise<void> {
    const buzzer = this.buzzer;
    if (!buzzer) return Promise.resolve();
    if (this.queued >= MAX_QUEUED_BEEPS) {
      this.log.warn({ pattern, queued: this.queued }, 'buzzer busy: beep dropped');
      return Promise.resolve();
    }
    this.queued += 1;
    const run = this.playing.then(() => this.play(buzzer, beepPatterns[pattern])).finally(() => {
      this.queued -= 1;
    });
    // The queue must survive a failed pattern; the caller still sees the failure.
    this.playing = run.catch(() => undefined);
    return run;
  }

  async light(compartmentId: string, on: boolean): Promise<void> {
    await this.leds.get(compartmentId)?.write(on ? 1 : 0);
  }

  /** Waits for the pattern playing, then releases the lines; each step waits at most CLOSE_WAIT_MS (a hung line is left behind). */
  async close(): Promise<void> {
    await this.within(this.playing);
    const lines = [this.buzzer, ...this.leds.values()].flatMap((out) => (out ? [out] : []));
    await this.within(
      Promise.all(lines.map((out) => out.close().catch((e: unknown) => this.log.warn({ err: e }, 'indicator line did not close')))).then(() => undefined),
    );
  }

  private within(p: Promise<void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.log.warn({ waitedMs: CLOSE_WAIT_MS }, 'indicator line still busy at close; left behind');
        resolve();
      }, CLOSE_WAIT_MS);
      void p.then(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  private async play(buzzer: GpioOutput, steps: readonly number[]): Promise<void> {
    try {
      for (let i = 0; i < steps.length; i++) {
        await buzzer.write(i % 2 === 0 ? 1 : 0);
        await this.clock.sleep(steps[i] ?? 0);
      }
    } finally {
      // Never leave the buzzer sounding, whatever failed above.
      await buzzer.write(0).catch((e: unknown) => this.log.error({ err: e }, 'buzzer did not switch off'));
    }
  }
}
