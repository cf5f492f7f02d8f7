// A simulated bus on a ManualClock with its replies collected: board simulators are pure logic
// over time, so their tests move time by hand.
import { SimBus, type SimBusOptions, simPositions } from '../../sim/boards/simBus.js';
import { SimWorld } from '../../sim/world.js';
import { ManualClock } from '../../kernel/clock.js';
import { SerialBusConfig } from '../../src/config/schema.js';
import { type SerialBusConfigInput } from './simulatedBus.js';
import { toHex } from './hexBytes.js';

export function simBoardHarness(input: SerialBusConfigInput, options: Partial<Omit<SimBusOptions, 'config' | 'world' | 'clock'>> = {}) {
  const config = SerialBusConfig.parse(input);
  const clock = new ManualClock();
  const world = new SimWorld(clock, simPositions(config));
  const simBus = new SimBus({ config, world, clock, replyDelayMs: 2, ...options });
  const replies: Uint8Array[] = [];
  simBus.connect((bytes) => replies.push(bytes), simBus.baudRate);
  return {
    config,
    clock,
    world,
    simBus,
    replies,
    /** Replies so far as hex strings, then forgets them. */
    takeReplies(): string[] {
      return replies.splice(0).map(toHex);
    },
  };
}
