// What to do at boot with a door session that was in flight when the power went (pure).
// The sensors are the only witness: the hook (door open or closed) and, where fitted, the
// item sensor. When they cannot tell, the compartment is taken out of service for a person to
// look, and the operator is told: a parcel is never guessed into or out of existence.
import { type DoorState } from './doorController.js';

export type ReconcileDecision =
  /** The door is (or was) open: the consumer or courier took the parcel. */
  | 'commit_retrieval'
  /** The door never opened: the code or collection stays valid. */
  | 'not_consumed'
  /** The parcel is inside and the door is shut: the placement is committed. */
  | 'commit_placement'
  /** The door is shut and the compartment is empty: nothing was placed. */
  | 'empty'
  /** Cannot tell (no item sensor, or the door still stands open mid placement). */
  | 'inspect'
  /** Sessions that own no parcel (remote open, tests): just close the record. */
  | 'close';

export function decideReconciliation(purpose: string, door: DoorState): ReconcileDecision {
  switch (purpose) {
    case 'pickup':
    case 'collect':
      if (door.open === true || door.itemPresent === false) return 'commit_retrieval';
      return 'not_consumed';
    case 'deposit':
    case 'dropoff':
      if (door.open === true) return 'inspect';
      if (door.itemPresent === true) return 'commit_placement';
      if (door.itemPresent === false) return 'empty';
      return 'inspect';
    default:
      return 'close';
  }
}
