// The hardware side of "find the door at a glance" (issue 11, flow 1): where the locker has an
// Indicator (buzzer, compartment LEDs; hal/indicator), a door that opens for someone lights its
// LED and beeps once, the LED goes out when the session ends, and a door that did not open
// beeps the error pattern. Cues never hold up a door: a failing indicator is logged and skipped.
import { type Indicator } from '../../hal/types.js';
import { type Logger } from '../logger.js';
import { type LockerEvent } from './lockerEvents.js';

const ENDED = new Set(['closed', 'did_not_open', 'failed']);

export class DoorCue {
  /** Compartments whose LED this cue switched on. */
  private readonly lit = new Set<string>();

  constructor(
    private readonly indicator: Indicator,
    private readonly logger: Logger,
  ) {}

  /** Feed it the locker's events (locker.on(cue.onEvent)). */
  readonly onEvent = (e: LockerEvent): void => {
    if (e.type !== 'session') return;
    if (e.state === 'opened') {
      this.lit.add(e.compartment);
      this.run(this.indicator.light(e.compartment, true));
      this.run(this.indicator.beep('ok'));
    } else if (ENDED.has(e.state)) {
      if (e.state !== 'closed') this.run(this.indicator.beep('error'));
      if (this.lit.delete(e.compartment)) this.run(this.indicator.light(e.compartment, false));
    }
  };

  private run(p: Promise<void>): void {
    p.catch((err: unknown) => this.logger.warn({ err }, 'indicator cue failed'));
  }
}
