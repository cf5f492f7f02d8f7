// The one translation from a door session's outcome (doorRunner.ts) to the input of a
// transaction machine (transactions.ts), shared by the placement and the retrieval runner.
import { type DoorOutcome } from './doorRunner.js';
import { type DoorInput } from './transactions.js';

/** The machine input for an outcome; 'left_open' is an alarm and no input; undefined: nothing to do. */
export function doorInputOf(outcome: DoorOutcome, compartment: string): DoorInput | { type: 'left_open' } | undefined {
  switch (outcome.type) {
    case 'opened':
      return { type: 'door_opened', compartment };
    case 'closed':
      return { type: 'door_closed', compartment, itemPresent: outcome.itemPresent };
    case 'did_not_open':
      return { type: 'door_jammed', compartment };
    case 'failed':
      return { type: 'door_failed', compartment, code: outcome.code };
    case 'uncertain':
      return { type: 'door_uncertain', compartment, door: outcome.door, ...(outcome.itemPresent !== undefined ? { itemPresent: outcome.itemPresent } : {}), cause: outcome.cause };
    case 'left_open_alarm':
      return { type: 'left_open' };
    default:
      return undefined;
  }
}
