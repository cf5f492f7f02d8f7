// Builds the door cue's Indicator (issue 11, flow 1) from `hardware.indicator`: a GpioIndicator
// (hal/indicator/gpioIndicator.ts) on the controller's header through onoff, or on the
// simulator's lines. An indicator that cannot be opened (no chip, a line claimed by something
// else) is logged and left out: lockerd runs, and every door opens, without the cue.
import type { GpioPort } from '../../hal/gpio/gpioPort.js';
import type { OnoffGpioOptions } from '../../hal/gpio/onoffGpio.js';
import type { GpioIndicator } from '../../hal/indicator/gpioIndicator.js';
import { type Clock } from '../../kernel/clock.js';
import { isLockerError } from '../../kernel/errors.js';
import { type IndicatorConfig } from '../config/schema.js';
import { type Logger } from '../logger.js';

export interface IndicatorOptions {
  clock: Clock;
  logger: Logger;
  /** The simulator's lines for a `sim` transport. */
  simGpio?: GpioPort;
  /** Replaced in tests of the production path: the sysfs root and the onoff class. */
  onoff?: Pick<OnoffGpioOptions, 'sysfsRoot' | 'loadOnoff'>;
}

/** Opens the configured indicator; undefined (logged) when it cannot be opened. */
export async function openIndicator(config: IndicatorConfig, o: IndicatorOptions): Promise<GpioIndicator | undefined> {
  const logger = o.logger.child({ channel: 'indicator' });
  try {
    let gpio: GpioPort;
    if (config.transport.kind === 'sim') {
      if (!o.simGpio) throw new Error('the simulated indicator needs the simulator');
      gpio = o.simGpio;
    } else {
      const { OnoffGpio } = await import('../../hal/gpio/onoffGpio.js');
      gpio = await OnoffGpio.open({ logger, ...(config.transport.chipLabel !== undefined ? { chipLabel: config.transport.chipLabel } : {}), ...(o.onoff ?? {}) });
    }
    const { GpioIndicator } = await import('../../hal/indicator/gpioIndicator.js');
    const indicator = await GpioIndicator.open({
      gpio,
      clock: o.clock,
      logger,
      ...(config.buzzer ? { buzzer: { pin: config.buzzer.pin, activeLow: config.buzzer.activeLow } } : {}),
      leds: Object.fromEntries(config.leds.map((l) => [l.compartment, { pin: l.pin, activeLow: l.activeLow }])),
    });
    logger.info({ buzzer: config.buzzer?.pin ?? null, leds: config.leds.length }, 'indicator ready');
    return indicator;
  } catch (err) {
    logger.error({ code: isLockerError(err) ? err.code : undefined, err }, 'the indicator did not open: doors work without the buzzer and LED cue');
    return undefined;
  }
}
