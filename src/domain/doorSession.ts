// The door session of one compartment as a pure state machine:
//   (state, input) -> { state, effects }
// No timers, no I/O: the runner (doorRunner.ts) executes the effects and feeds back inputs.
//
//   unlocking -> awaiting_open -> open -> closed
//                      |            \-> left_open (alarm, keep waiting) -> closed
//                      \-> (timeout) retry once -> did_not_open (jam)
//   unlocking -> failed (the bus refused the unlock: silent board, transport down)
import { type ErrorCode } from '../../kernel/errors.js';

/** What the door sensors say, already reduced to what a session needs. */
export interface DoorReading {
  open: boolean;
  itemPresent?: boolean;
}

export type DoorSessionState =
  | { tag: 'unlocking'; attempt: number }
  | { tag: 'awaiting_open'; attempt: number }
  | { tag: 'open'; itemPresent?: boolean }
  | { tag: 'left_open'; itemPresent?: boolean }
  | { tag: 'closed'; itemPresent?: boolean }
  | { tag: 'did_not_open'; attempts: number }
  | { tag: 'failed'; code: ErrorCode; message: string };

export type DoorSessionInput =
  | { type: 'unlock_sent' }
  | { type: 'unlock_failed'; code: ErrorCode; message: string }
  | { type: 'reading'; reading: DoorReading }
  | { type: 'timeout'; timer: DoorTimer }
  /** Someone wants the door again (courier "reopen"): only meaningful once closed. */
  | { type: 'reopen' };

export type DoorTimer = 'open_timeout' | 'left_open';

export type DoorSessionEffect =
  | { type: 'unlock' }
  | { type: 'start_timer'; timer: DoorTimer; ms: number }
  | { type: 'cancel_timer'; timer: DoorTimer }
  | { type: 'opened'; itemPresent?: boolean }
  | { type: 'closed'; itemPresent?: boolean }
  | { type: 'left_open_alarm' }
  | { type: 'retrying'; attempt: number }
  | { type: 'did_not_open'; attempts: number }
  | { type: 'failed'; code: ErrorCode; message: string };

export interface DoorSessionSettings {
  openTimeoutMs: number;
  leftOpenAlarmMs: number;
  /** Unlock attempts after the first before giving up (DESIGN: retry once). */
  jamRetries: number;
}

export interface Transition {
  state: DoorSessionState;
  effects: DoorSessionEffect[];
}

export function startDoorSession(): Transition {
  return { state: { tag: 'unlocking', attempt: 1 }, effects: [{ type: 'unlock' }] };
}

export function isTerminal(state: DoorSessionState): boolean {
  return state.tag === 'closed' || state.tag === 'did_not_open' || state.tag === 'failed';
}

export function stepDoorSession(state: DoorSessionState, input: DoorSessionInput, s: DoorSessionSettings): Transition {
  const same: Transition = { state, effects: [] };
  switch (state.tag) {
    case 'unlocking':
      if (input.type === 'unlock_sent')
        return { state: { tag: 'awaiting_open', attempt: state.attempt }, effects: [{ type: 'start_timer', timer: 'open_timeout', ms: s.openTimeoutMs }] };
      if (input.type === 'unlock_failed')
        return { state: { tag: 'failed', code: input.code, message: input.message }, effects: [{ type: 'failed', code: input.code, message: input.message }] };
      // A fast board can report the door open before the write callback came back.
      if (input.type === 'reading' && input.reading.open) return opened(input.reading, s, false);
      return same;
    case 'awaiting_open':
      if (input.type === 'reading' && input.reading.open) return opened(input.reading, s, true);
      if (input.type === 'timeout' && input.timer === 'open_timeout') {
        if (state.attempt <= s.jamRetries)
          return {
            state: { tag: 'unlocking', attempt: state.attempt + 1 },
            effects: [{ type: 'retrying', attempt: state.attempt + 1 }, { type: 'unlock' }],
          };
        return { state: { tag: 'did_not_open', attempts: state.attempt }, effects: [{ type: 'did_not_open', attempts: state.attempt }] };
      }
      return same;
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
