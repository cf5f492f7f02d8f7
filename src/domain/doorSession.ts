// The door session of one compartment as a pure state machine:
//   (state, input) -> { state, effects }
// No timers, no I/O: the runner (doorRunner.ts) executes the effects and feeds back inputs.
//
//   unlocking -> awaiting_open -> open -> closed
//                      |            \-> left_open (alarm, keep waiting) -> closed
//                      \-> (timeout) retry once -> did_not_open (jam)
//   unlocking -> failed (the bus refused the first unlock: nothing was energised)
//
// Once an unlock frame has been written, the session never fails for a lost line: it becomes
// uncertain (the latch may have released, a person may stand at the open door) and waits,
// bounded by transportReturnTimeoutMs, for the bus to return. Then it reads the door:
//   uncertain -> open (seen open: the session still owns the door and goes on as usual)
//             (seen shut while the latch may still be releasing: looks again at its open_timeout)
//             -> unresolved (seen shut, or never seen): the transaction decides from the
//                sensors as boot reconciliation does, or sends the compartment to inspection.
import { type ErrorCode, ErrorCodes } from '../../kernel/errors.js';

/** What the door sensors say, already reduced to what a session needs. */
export interface DoorReading {
  open: boolean;
  itemPresent?: boolean;
}

export type DoorSessionState =
  /** lineDown: the line was lost while the unlock frame was being written. */
  | { tag: 'unlocking'; attempt: number; lineDown?: true }
  | { tag: 'awaiting_open'; attempt: number }
  /**
   * An unlock frame went out, then the line (or the board) was lost. openWindow: the
   * open_timeout of the last unlock still runs (a shut door may still spring open).
   */
  | { tag: 'uncertain'; attempt: number; cause: ErrorCode; lineDown: boolean; openWindow: boolean }
  | { tag: 'open'; itemPresent?: boolean }
  | { tag: 'left_open'; itemPresent?: boolean }
  | { tag: 'closed'; itemPresent?: boolean }
  | { tag: 'did_not_open'; attempts: number }
  | { tag: 'failed'; code: ErrorCode; message: string }
  /** Final: the door was found shut after the line returned (door 'closed'), or the line never returned in time ('unknown'). */
  | { tag: 'unresolved'; door: 'closed' | 'unknown'; itemPresent?: boolean; cause: ErrorCode };

export type DoorSessionInput =
  | { type: 'unlock_sent' }
  | { type: 'unlock_failed'; code: ErrorCode; message: string }
  | { type: 'reading'; reading: DoorReading }
  | { type: 'timeout'; timer: DoorTimer }
  /** Someone wants the door again (courier "reopen"): only meaningful once closed. */
  | { type: 'reopen' }
  /** The bus of this door lost its line (or the door's board went silent). */
  | { type: 'transport_lost' }
  /** The line (or the board) is back. */
  | { type: 'transport_back' }
  /** The answer to a read_door effect. */
  | { type: 'door_read'; reading: DoorReading }
  | { type: 'door_read_failed' };

export type DoorTimer = 'open_timeout' | 'left_open' | 'transport_return';

export type DoorSessionEffect =
  | { type: 'unlock' }
  | { type: 'start_timer'; timer: DoorTimer; ms: number }
  | { type: 'cancel_timer'; timer: DoorTimer }
  | { type: 'opened'; itemPresent?: boolean }
  | { type: 'closed'; itemPresent?: boolean }
  | { type: 'left_open_alarm' }
  | { type: 'retrying'; attempt: number }
  | { type: 'did_not_open'; attempts: number }
  | { type: 'failed'; code: ErrorCode; message: string }
  /** Asks the board for the door now; the runner answers door_read or door_read_failed. */
  | { type: 'read_door' }
  /** Final outcome of an unresolved session (see DoorSessionState 'unresolved'). */
  | { type: 'uncertain'; door: 'closed' | 'unknown'; itemPresent?: boolean; cause: ErrorCode };

export interface DoorSessionSettings {
  openTimeoutMs: number;
  leftOpenAlarmMs: number;
  /** Unlock attempts after the first before giving up (DESIGN: retry once). */
  jamRetries: number;
  /** How long an uncertain session waits for a lost line to return (default 30 s). */
  transportReturnTimeoutMs?: number;
}

export const DEFAULT_TRANSPORT_RETURN_TIMEOUT_MS = 30_000;

/** A lost line (or a board that stopped answering) is named as such: the cause is the bus, not the latch. */
export function lineCause(code: ErrorCode): ErrorCode {
  return code === ErrorCodes.TRANSPORT_ERROR ? ErrorCodes.BUS_DISCONNECTED : code;
}

export interface Transition {
  state: DoorSessionState;
  effects: DoorSessionEffect[];
}

export function startDoorSession(): Transition {
  return { state: { tag: 'unlocking', attempt: 1 }, effects: [{ type: 'unlock' }] };
}

export function isTerminal(state: DoorSessionState): boolean {
  return state.tag === 'closed' || state.tag === 'did_not_open' || state.tag === 'failed' || state.tag === 'unresolved';
}

function becomeUncertain(attempt: number, cause: ErrorCode, lineDown: boolean, openWindow: boolean, s: DoorSessionSettings, extra: DoorSessionEffect[] = []): Transition {
  return {
    state: { tag: 'uncertain', attempt, cause, lineDown, openWindow },
    effects: [...extra, { type: 'start_timer', timer: 'transport_return', ms: s.transportReturnTimeoutMs ?? DEFAULT_TRANSPORT_RETURN_TIMEOUT_MS }, ...(lineDown ? [] : [{ type: 'read_door' } as const])],
  };
}

function unresolved(door: 'closed' | 'unknown', itemPresent: boolean | undefined, cause: ErrorCode): Transition {
  return {
    state: { tag: 'unresolved', door, ...(itemPresent !== undefined ? { itemPresent } : {}), cause },
    effects: [{ type: 'uncertain', door, ...(itemPresent !== undefined ? { itemPresent } : {}), cause }],
  };
}

export function stepDoorSession(state: DoorSessionState, input: DoorSessionInput, s: DoorSessionSettings): Transition {
  const same: Transition = { state, effects: [] };
  switch (state.tag) {
    case 'unlocking':
      if (input.type === 'unlock_sent') {
        const timer = { type: 'start_timer', timer: 'open_timeout', ms: s.openTimeoutMs } as const;
        // Written, but the line went while it was being written: the latch may be releasing.
        if (state.lineDown) return becomeUncertain(state.attempt, ErrorCodes.BUS_DISCONNECTED, true, true, s, [timer]);
        return { state: { tag: 'awaiting_open', attempt: state.attempt }, effects: [timer] };
      }
      if (input.type === 'unlock_failed') {
        // A retry that cannot be sent follows an unlock that was: the door may be open.
        if (state.attempt > 1) return becomeUncertain(state.attempt, lineCause(input.code), state.lineDown === true || input.code === ErrorCodes.TRANSPORT_ERROR || input.code === ErrorCodes.BUS_DISCONNECTED, false, s);
        const code = lineCause(input.code);
        return { state: { tag: 'failed', code, message: input.message }, effects: [{ type: 'failed', code, message: input.message }] };
      }
      if (input.type === 'transport_lost') return { state: { ...state, lineDown: true }, effects: [] };
      if (input.type === 'transport_back') {
        const { lineDown: _gone, ...rest } = state;
        return { state: rest, effects: [] };
      }
      // A fast board can report the door open before the write callback came back.
      if (input.type === 'reading' && input.reading.open) return opened(input.reading, s, false);
      return same;
    case 'awaiting_open':
      if (input.type === 'reading' && input.reading.open) return opened(input.reading, s, true);
      if (input.type === 'transport_lost') return becomeUncertain(state.attempt, ErrorCodes.BUS_DISCONNECTED, true, true, s);
      if (input.type === 'timeout' && input.timer === 'open_timeout') {
        if (state.attempt <= s.jamRetries)
          return {
            state: { tag: 'unlocking', attempt: state.attempt + 1 },
            effects: [{ type: 'retrying', attempt: state.attempt + 1 }, { type: 'unlock' }],
          };
        return { state: { tag: 'did_not_open', attempts: state.attempt }, effects: [{ type: 'did_not_open', attempts: state.attempt }] };
      }
      return same;
    case 'uncertain': {
      const leave: DoorSessionEffect[] = [{ type: 'cancel_timer', timer: 'transport_return' }, ...(state.openWindow ? [{ type: 'cancel_timer', timer: 'open_timeout' } as const] : [])];
      const seenOpen = (reading: DoorReading): Transition => {
        const t = opened(reading, s, false);
        return { state: t.state, effects: [...leave, ...t.effects] };
      };
      if (input.type === 'reading' && input.reading.open) return seenOpen(input.reading);
      if (input.type === 'door_read') {
        if (input.reading.open) return seenOpen(input.reading);
        // Shut, but the latch of the last unlock may still be releasing: look again when its
        // open_timeout ends. Never energised again: a retry could pop a door on a parcel put in.
        if (state.openWindow) return same;
        const t = unresolved('closed', input.reading.itemPresent, state.cause);
        return { state: t.state, effects: [...leave, ...t.effects] };
      }
      if (input.type === 'transport_lost') return { state: { ...state, lineDown: true }, effects: [] };
      if (input.type === 'transport_back') return { state: { ...state, lineDown: false }, effects: [{ type: 'read_door' }] };
      if (input.type === 'timeout' && input.timer === 'open_timeout') return { state: { ...state, openWindow: false }, effects: state.lineDown ? [] : [{ type: 'read_door' }] };
      if (input.type === 'timeout' && input.timer === 'transport_return') {
        const t = unresolved('unknown', undefined, state.cause);
        return { state: t.state, effects: [...(state.openWindow ? [{ type: 'cancel_timer', timer: 'open_timeout' } as const] : []), ...t.effects] };
      }
      // door_read_failed: keep waiting for the line (the timer bounds it).
      return same;
    }
    case 'open':
    case 'left_open':
      if (input.type === 'reading') {
        if (!input.reading.open) {
          const itemPresent = input.reading.itemPresent ?? state.itemPresent;
          return {
            state: { tag: 'closed', itemPresent },
            effects: [
              ...(state.tag === 'open' ? [{ type: 'cancel_timer', timer: 'left_open' } as const] : []),
              { type: 'closed', itemPresent },
            ],
          };
        }
        return { state: { ...state, itemPresent: input.reading.itemPresent ?? state.itemPresent }, effects: [] };
      }
      if (input.type === 'timeout' && input.timer === 'left_open' && state.tag === 'open')
        return { state: { tag: 'left_open', itemPresent: state.itemPresent }, effects: [{ type: 'left_open_alarm' }] };
      return same;
    case 'closed':
      if (input.type === 'reopen') return startDoorSession();
      return same;
    case 'did_not_open':
    case 'failed':
    case 'unresolved':
      return same;
  }
}

function opened(reading: DoorReading, s: DoorSessionSettings, timerRunning: boolean): Transition {
  return {
    state: { tag: 'open', itemPresent: reading.itemPresent },
    effects: [
      ...(timerRunning ? [{ type: 'cancel_timer', timer: 'open_timeout' } as const] : []),
      { type: 'start_timer', timer: 'left_open', ms: s.leftOpenAlarmMs },
      { type: 'opened', itemPresent: reading.itemPresent },
    ],
  };
}
