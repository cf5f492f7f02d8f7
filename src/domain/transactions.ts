// Locker transactions as pure state machines on top of door sessions.
//
// Placement (courier deposit, consumer drop-off): commits when the door is closed again with
// the parcel inside (item sensor, where present). A jam moves the parcel to another
// compartment of the same size; "wrong size" moves it to a larger one; cancel ends empty.
//
// Retrieval (consumer pickup, courier collection, remote open): commits when the door is seen
// open. A jam never consumes the code: the transaction fails and the parcel stays where it is.
//
// An uncertain door (an unlock went out, then the line was lost; see doorSession.ts) is decided
// from the sensors the way boot reconciliation decides (reconcile.ts); where they cannot tell,
// the compartment goes to inspection and the transaction ends with the line's error.
import { type ErrorCode, ErrorCodes } from '../../kernel/errors.js';
import { type SizeClass } from '../config/schema.js';

export type PlacementState =
  | { tag: 'opening'; compartment: string; size: SizeClass; releasing?: string; reassignedFrom?: string }
  | { tag: 'open'; compartment: string; size: SizeClass; releasing?: string; reassignedFrom?: string }
  | { tag: 'closed_empty'; compartment: string; size: SizeClass; releasing?: string }
  /** cause: what made the door fail (LATCH_JAMMED, BUS_DISCONNECTED, ...), reported if no other compartment opens. */
  | { tag: 'reallocating'; from: string; size: SizeClass; reason: 'jam' | 'wrong_size'; releasing?: string; cause?: ErrorCode }
  | { tag: 'cancelling'; compartment: string; size: SizeClass; releasing?: string }
  | { tag: 'stored'; compartment: string; size: SizeClass; releasing?: string }
  /** inspection: the compartment the cancel could not prove empty (sent to inspection). */
  | { tag: 'cancelled'; inspection?: string }
  | { tag: 'failed'; code: ErrorCode };

/** What a door session reports to either machine (see doorOutcomes.ts). */
export type DoorInput =
  | { type: 'door_opened'; compartment: string }
  | { type: 'door_closed'; compartment: string; itemPresent?: boolean }
  | { type: 'door_jammed'; compartment: string }
  | { type: 'door_failed'; compartment: string; code: ErrorCode }
  /** The session ended unresolved: door shut after the line returned ('closed'), or never seen again ('unknown'). */
  | { type: 'door_uncertain'; compartment: string; door: 'closed' | 'unknown'; itemPresent?: boolean; cause: ErrorCode };

export type TransactionKind = 'deposit' | 'dropoff' | 'pickup' | 'collect';

/** A transaction whose outcome the sensors cannot tell (recorded by inspections.ts). */
export interface UncertainOutcome {
  sessionId: string;
  compartment: string;
  kind: TransactionKind;
  parcelId: string;
  carrier: string | undefined;
  waybill: string;
  door: 'closed' | 'unknown';
  cause: ErrorCode | 'POWER_CUT';
}

/** What the sensors say about an unresolved door: the same rules as boot reconciliation. */
export function uncertainVerdict(input: { door: 'closed' | 'unknown'; itemPresent?: boolean }): 'item_present' | 'empty' | 'inspect' {
  if (input.door !== 'closed' || input.itemPresent === undefined) return 'inspect';
  return input.itemPresent ? 'item_present' : 'empty';
}

export type PlacementInput =
  | DoorInput
  | { type: 'allocated'; compartment?: { id: string; size: SizeClass } }
  | { type: 'wrong_size'; size: SizeClass }
  | { type: 'reopen' }
  | { type: 'cancel' };

export type PlacementEffect =
  | { type: 'open_door'; compartment: string }
  | { type: 'allocate'; size: SizeClass; largerThan?: SizeClass; exclude: string[] }
  | { type: 'out_of_service'; compartment: string; fault: ErrorCode }
  | { type: 'release'; compartment: string }
  | { type: 'commit_stored'; compartment: string; size: SizeClass }
  | { type: 'inspect'; compartment: string; itemPresent: boolean | undefined }
  /** The outcome cannot be told from the sensors: inspection, and the carrier is told (parcel.outcome_uncertain). */
  | { type: 'uncertain'; compartment: string; door: 'closed' | 'unknown'; cause: ErrorCode }
  | { type: 'commit_cancelled'; inspection?: string }
  | { type: 'rejected'; code: ErrorCode; message: string }
  | { type: 'failed'; code: ErrorCode; message?: string };

export interface PlacementTransition {
  state: PlacementState;
  effects: PlacementEffect[];
}

export function startPlacement(compartment: string, size: SizeClass): PlacementTransition {
  return { state: { tag: 'opening', compartment, size }, effects: [{ type: 'open_door', compartment }] };
}

function releaseIfClosed(state: PlacementState, input: PlacementInput): PlacementTransition | undefined {
  if (input.type !== 'door_closed' || !('releasing' in state) || state.releasing !== input.compartment) return undefined;
  const { releasing, ...rest } = state;
  return { state: rest as PlacementState, effects: [{ type: 'release', compartment: releasing }] };
}

export function stepPlacement(state: PlacementState, input: PlacementInput): PlacementTransition {
  const same: PlacementTransition = { state, effects: [] };
  const released = releaseIfClosed(state, input);
  if (released) return released;
  const notNow = (what: string): PlacementTransition => ({
    state,
    effects: [{ type: 'rejected', code: ErrorCodes.TRANSACTION_STATE, message: `cannot ${what} while ${state.tag}` }],
  });

  switch (state.tag) {
    case 'opening':
      if (input.type === 'door_opened' && input.compartment === state.compartment) return { state: { ...state, tag: 'open' }, effects: [] };
      if (input.type === 'door_uncertain' && input.compartment === state.compartment) {
        const verdict = uncertainVerdict(input);
        // Shut with the parcel inside: committed, as reconciliation would commit it.
        if (verdict === 'item_present') return { state: { tag: 'stored', compartment: state.compartment, size: state.size }, effects: [{ type: 'commit_stored', compartment: state.compartment, size: state.size }] };
        // Shut and seen empty: the courier may reopen, change size or cancel.
        if (verdict === 'empty') return { state: { tag: 'closed_empty', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [] };
        return {
          state: { tag: 'failed', code: input.cause },
          effects: [
            { type: 'uncertain', compartment: state.compartment, door: input.door, cause: input.cause },
            ...(state.releasing ? [{ type: 'release', compartment: state.releasing } as const] : []),
            {
              type: 'failed',
              code: input.cause,
              message: `the connection to the lock boards was lost after compartment ${state.compartment} was unlocked; it is held for an operator to check (a parcel put in is safe)`,
            },
          ],
        };
      }
      if ((input.type === 'door_jammed' || input.type === 'door_failed') && input.compartment === state.compartment) {
        const fault = input.type === 'door_jammed' ? ErrorCodes.LATCH_JAMMED : input.code;
        return {
          state: { tag: 'reallocating', from: state.compartment, size: state.size, reason: 'jam', releasing: state.releasing, cause: fault },
          effects: [
            // A silent board is already unavailable; only a jam takes the compartment out of service.
            input.type === 'door_jammed' ? { type: 'out_of_service', compartment: state.compartment, fault } : { type: 'release', compartment: state.compartment },
            { type: 'allocate', size: state.size, exclude: [state.compartment] },
          ],
        };
      }
      if (input.type === 'cancel') return { state: { tag: 'cancelling', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [] };
      if (input.type === 'wrong_size' || input.type === 'reopen') return notNow(input.type);
      return same;

    case 'open':
      if (input.type === 'door_closed' && input.compartment === state.compartment) {
        if (input.itemPresent === false) return { state: { tag: 'closed_empty', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [] };
        return { state: { tag: 'stored', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [{ type: 'commit_stored', compartment: state.compartment, size: state.size }] };
      }
      if (input.type === 'wrong_size') return resize(state.compartment, state.size, input.size, state.releasing);
      if (input.type === 'cancel') return { state: { tag: 'cancelling', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [] };
      return same;

    case 'closed_empty':
      if (input.type === 'reopen') return { state: { tag: 'opening', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [{ type: 'open_door', compartment: state.compartment }] };
      if (input.type === 'wrong_size') return resize(state.compartment, state.size, input.size, state.releasing);
      if (input.type === 'cancel') return { state: { tag: 'cancelled' }, effects: [{ type: 'release', compartment: state.compartment }, { type: 'commit_cancelled' }] };
      if (input.type === 'door_opened' && input.compartment === state.compartment) return { state: { tag: 'open', compartment: state.compartment, size: state.size, releasing: state.releasing }, effects: [] };
      return same;

    case 'reallocating':
      if (input.type === 'allocated') {
        if (!input.compartment) {
          if (state.reason === 'wrong_size')
            return {
              state: { tag: 'open', compartment: state.from, size: state.size, releasing: state.releasing },
              effects: [{ type: 'rejected', code: ErrorCodes.NO_COMPARTMENT_FREE, message: 'no larger compartment is free' }],
            };
          // The error names what made the door fail, not always a jam (a lost bus, a silent board).
          const code = state.cause ?? ErrorCodes.LATCH_JAMMED;
          return { state: { tag: 'failed', code }, effects: [{ type: 'failed', code }] };
        }
        const next = input.compartment;
        return {
          state:
            state.reason === 'jam'
              ? { tag: 'opening', compartment: next.id, size: next.size, reassignedFrom: state.from, releasing: state.releasing }
              : { tag: 'opening', compartment: next.id, size: next.size, releasing: state.from },
          effects: [{ type: 'open_door', compartment: next.id }],
        };
      }
      return same;

    case 'cancelling':
      // Only a door that closed with the item sensor reporting it empty proves the cancel; with
      // something inside, or no sensor to tell, the compartment goes to inspection.
      if (input.type === 'door_closed' && input.compartment === state.compartment) {
        if (input.itemPresent === false) return { state: { tag: 'cancelled' }, effects: [{ type: 'release', compartment: state.compartment }, { type: 'commit_cancelled' }] };
        return {
          state: { tag: 'cancelled', inspection: state.compartment },
          effects: [{ type: 'inspect', compartment: state.compartment, itemPresent: input.itemPresent }, { type: 'release', compartment: state.compartment }, { type: 'commit_cancelled', inspection: state.compartment }],
        };
      }
      if (input.type === 'door_uncertain' && input.compartment === state.compartment) {
        if (uncertainVerdict(input) === 'empty') return { state: { tag: 'cancelled' }, effects: [{ type: 'release', compartment: state.compartment }, { type: 'commit_cancelled' }] };
        return {
          state: { tag: 'cancelled', inspection: state.compartment },
          effects: [{ type: 'uncertain', compartment: state.compartment, door: input.door, cause: input.cause }, { type: 'release', compartment: state.compartment }, { type: 'commit_cancelled', inspection: state.compartment }],
        };
      }
      if ((input.type === 'door_jammed' || input.type === 'door_failed') && input.compartment === state.compartment)
        return { state: { tag: 'cancelled' }, effects: [{ type: 'release', compartment: state.compartment }, { type: 'commit_cancelled' }] };
      return same;

    case 'stored':
    case 'cancelled':
    case 'failed':
      if (input.type === 'wrong_size' || input.type === 'reopen' || input.type === 'cancel') return notNow(input.type);
      return same;
  }
}

function resize(from: string, current: SizeClass, wanted: SizeClass, releasing: string | undefined): PlacementTransition {
  return {
    state: { tag: 'reallocating', from, size: current, reason: 'wrong_size', releasing },
    effects: [{ type: 'allocate', size: wanted, largerThan: current, exclude: [from] }],
  };
}

// ---- retrieval ----

export type RetrievalState =
  | { tag: 'opening'; compartment: string }
  | { tag: 'committed'; compartment: string }
  | { tag: 'done'; compartment: string }
  | { tag: 'failed'; compartment: string; code: ErrorCode }
  /** The sensors could not tell whether the parcel was taken: the compartment is in inspection. */
  | { tag: 'uncertain'; compartment: string; code: ErrorCode };

/** A DoorInput fits here too: a retrieval has one compartment, so it ignores which. */
export type RetrievalInput =
  | { type: 'door_opened' }
  | { type: 'door_closed' }
  | { type: 'door_jammed' }
  | { type: 'door_failed'; code: ErrorCode }
  | { type: 'door_uncertain'; door: 'closed' | 'unknown'; itemPresent?: boolean; cause: ErrorCode };

export type RetrievalEffect =
  | { type: 'commit' }
  | { type: 'uncertain'; door: 'closed' | 'unknown'; cause: ErrorCode }
  | { type: 'finished' }
  | { type: 'out_of_service'; fault: ErrorCode }
  | { type: 'failed'; code: ErrorCode };

export function stepRetrieval(state: RetrievalState, input: RetrievalInput): { state: RetrievalState; effects: RetrievalEffect[] } {
  switch (state.tag) {
    case 'opening':
      if (input.type === 'door_opened') return { state: { tag: 'committed', compartment: state.compartment }, effects: [{ type: 'commit' }] };
      if (input.type === 'door_jammed')
        return {
          state: { tag: 'failed', compartment: state.compartment, code: ErrorCodes.LATCH_JAMMED },
          effects: [{ type: 'out_of_service', fault: ErrorCodes.LATCH_JAMMED }, { type: 'failed', code: ErrorCodes.LATCH_JAMMED }],
        };
      if (input.type === 'door_failed') return { state: { tag: 'failed', compartment: state.compartment, code: input.code }, effects: [{ type: 'failed', code: input.code }] };
      if (input.type === 'door_uncertain') {
        const verdict = uncertainVerdict(input);
        // Shut and empty: the parcel was taken while the line was down.
        if (verdict === 'empty') return { state: { tag: 'done', compartment: state.compartment }, effects: [{ type: 'commit' }, { type: 'finished' }] };
        // Shut with the parcel inside: nothing was taken, the code stays valid.
        if (verdict === 'item_present') return { state: { tag: 'failed', compartment: state.compartment, code: input.cause }, effects: [{ type: 'failed', code: input.cause }] };
        return { state: { tag: 'uncertain', compartment: state.compartment, code: input.cause }, effects: [{ type: 'uncertain', door: input.door, cause: input.cause }] };
      }
      return { state, effects: [] };
    case 'committed':
      if (input.type === 'door_closed') return { state: { tag: 'done', compartment: state.compartment }, effects: [{ type: 'finished' }] };
      return { state, effects: [] };
    case 'done':
    case 'failed':
    case 'uncertain':
      return { state, effects: [] };
  }
}
