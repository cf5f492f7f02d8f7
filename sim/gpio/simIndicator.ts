// The simulated indicator: the buzzer and compartment LEDs of `hardware.indicator` on plain
// simulated GPIO lines. lockerd drives them with the real driver (hal/indicator/gpioIndicator.ts)
// as on a controller; this module only watches the lines and shows what they do in the
// simulated world (SimWorld.indicator(): buzzer on, beeps so far, LEDs lit), which the simulator
// panel and GET /sim/state read, and /sim/events streams.
import { type Clock } from '../../kernel/clock.js';
import { type SimWorld } from '../world.js';
import { SimGpio } from './simGpio.js';

export interface SimIndicatorLines {
  buzzerPin?: number | undefined;
  leds: readonly { compartment: string; pin: number }[];
}

export interface SimIndicator {
  /** The lines lockerd opens its GpioIndicator on; a test can make them fail (setFault). */
  gpio: SimGpio;
  stop(): void;
}

export function createSimIndicator(world: SimWorld, clock: Clock, lines: SimIndicatorLines): SimIndicator {
  const gpio = new SimGpio(world, clock);
  const ledOf = new Map(lines.leds.map((l) => [l.pin, l.compartment]));
  for (const l of lines.leds) world.fitLed(l.compartment);
  const off = gpio.onOutput((pin, value) => {
    if (pin === lines.buzzerPin) world.setBuzzer(value === 1);
    const compartment = ledOf.get(pin);
    if (compartment !== undefined) world.setLed(compartment, value === 1);
  });
  return {
    gpio,
    stop: () => {
      off();
      gpio.dispose();
    },
  };
}
