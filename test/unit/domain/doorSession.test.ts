import { describe, expect, it } from 'vitest';
import { type DoorSessionInput, type DoorSessionState, startDoorSession, stepDoorSession } from '../../../src/domain/doorSession.js';

const s = { openTimeoutMs: 3000, leftOpenAlarmMs: 120_000, jamRetries: 1 };
const open = { type: 'reading', reading: { open: true } } as const;
const closed = { type: 'reading', reading: { open: false } } as const;
const u = (o: { attempt?: number; lineDown: boolean; openWindow: boolean }): DoorSessionState => ({ tag: 'uncertain', attempt: o.attempt ?? 1, cause: 'BUS_DISCONNECTED', lineDown: o.lineDown, openWindow: o.openWindow });

describe('door session state machine', () => {
  it('starts by unlocking', () => {
    expect(startDoorSession()).toEqual({ state: { tag: 'unlocking', attempt: 1 }, effects: [{ type: 'unlock' }] });
  });

  const table: [string, DoorSessionState, DoorSessionInput, DoorSessionState, string[]][] = [
    ['unlock written -> wait for the hook', { tag: 'unlocking', attempt: 1 }, { type: 'unlock_sent' }, { tag: 'awaiting_open', attempt: 1 }, ['start_timer']],
    ['bus refuses the unlock -> failed', { tag: 'unlocking', attempt: 1 }, { type: 'unlock_failed', code: 'BOARD_SILENT', message: 'x' }, { tag: 'failed', code: 'BOARD_SILENT', message: 'x' }, ['failed']],
    ['fast board: open before the write returned', { tag: 'unlocking', attempt: 1 }, open, { tag: 'open', itemPresent: undefined }, ['start_timer', 'opened']],
    ['hook releases -> open', { tag: 'awaiting_open', attempt: 1 }, open, { tag: 'open', itemPresent: undefined }, ['cancel_timer', 'start_timer', 'opened']],
    ['a closed reading while waiting changes nothing', { tag: 'awaiting_open', attempt: 1 }, closed, { tag: 'awaiting_open', attempt: 1 }, []],
    ['first timeout -> retry once', { tag: 'awaiting_open', attempt: 1 }, { type: 'timeout', timer: 'open_timeout' }, { tag: 'unlocking', attempt: 2 }, ['retrying', 'unlock']],
    ['second timeout -> did not open (jam)', { tag: 'awaiting_open', attempt: 2 }, { type: 'timeout', timer: 'open_timeout' }, { tag: 'did_not_open', attempts: 2 }, ['did_not_open']],
    ['door closes -> closed', { tag: 'open' }, { type: 'reading', reading: { open: false, itemPresent: true } }, { tag: 'closed', itemPresent: true }, ['cancel_timer', 'closed']],
    ['open too long -> left open alarm', { tag: 'open' }, { type: 'timeout', timer: 'left_open' }, { tag: 'left_open', itemPresent: undefined }, ['left_open_alarm']],
    ['left open, then closed', { tag: 'left_open' }, closed, { tag: 'closed', itemPresent: undefined }, ['closed']],
    ['item sensor changes while open', { tag: 'open', itemPresent: false }, { type: 'reading', reading: { open: true, itemPresent: true } }, { tag: 'open', itemPresent: true }, []],
    ['reopen after close starts over', { tag: 'closed' }, { type: 'reopen' }, { tag: 'unlocking', attempt: 1 }, ['unlock']],
    ['did_not_open is final', { tag: 'did_not_open', attempts: 2 }, open, { tag: 'did_not_open', attempts: 2 }, []],
    // Issue 9, finding 1: a lost line after an unlock frame is uncertain, never failed.
    ['first unlock refused by a lost line -> failed, named BUS_DISCONNECTED', { tag: 'unlocking', attempt: 1 }, { type: 'unlock_failed', code: 'TRANSPORT_ERROR', message: 'x' }, { tag: 'failed', code: 'BUS_DISCONNECTED', message: 'x' }, ['failed']],
    ['line lost while waiting for the hook -> uncertain (open timeout keeps running)', { tag: 'awaiting_open', attempt: 1 }, { type: 'transport_lost' }, u({ lineDown: true, openWindow: true }), ['start_timer']],
    ['line lost while the frame is written -> remembered', { tag: 'unlocking', attempt: 1 }, { type: 'transport_lost' }, { tag: 'unlocking', attempt: 1, lineDown: true }, []],
    ['frame written with the line gone -> uncertain', { tag: 'unlocking', attempt: 1, lineDown: true }, { type: 'unlock_sent' }, u({ lineDown: true, openWindow: true }), ['start_timer', 'start_timer']],
    ['the retry cannot be sent -> uncertain, not failed', { tag: 'unlocking', attempt: 2 }, { type: 'unlock_failed', code: 'BUS_DISCONNECTED', message: 'x' }, u({ attempt: 2, lineDown: true, openWindow: false }), ['start_timer']],
    ['open timeout while the line is down -> no retry', u({ lineDown: true, openWindow: true }), { type: 'timeout', timer: 'open_timeout' }, u({ lineDown: true, openWindow: false }), []],
    ['line back -> read the door', u({ lineDown: true, openWindow: false }), { type: 'transport_back' }, u({ lineDown: false, openWindow: false }), ['read_door']],
    ['read open -> the session owns the open door', u({ lineDown: false, openWindow: false }), { type: 'door_read', reading: { open: true } }, { tag: 'open', itemPresent: undefined }, ['cancel_timer', 'start_timer', 'opened']],
    ['read shut after the open window -> unresolved', u({ lineDown: false, openWindow: false }), { type: 'door_read', reading: { open: false, itemPresent: true } }, { tag: 'unresolved', door: 'closed', itemPresent: true, cause: 'BUS_DISCONNECTED' }, ['cancel_timer', 'uncertain']],
    ['read shut within the open window -> look again at its end', u({ lineDown: false, openWindow: true }), { type: 'door_read', reading: { open: false } }, u({ lineDown: false, openWindow: true }), []],
    ['open window ends with the line up -> read again', u({ lineDown: false, openWindow: true }), { type: 'timeout', timer: 'open_timeout' }, u({ lineDown: false, openWindow: false }), ['read_door']],
    ['the line never returns -> unresolved, door unknown', u({ lineDown: true, openWindow: false }), { type: 'timeout', timer: 'transport_return' }, { tag: 'unresolved', door: 'unknown', cause: 'BUS_DISCONNECTED' }, ['uncertain']],
    ['a reading of the door open while uncertain -> open', u({ lineDown: true, openWindow: true }), open, { tag: 'open', itemPresent: undefined }, ['cancel_timer', 'cancel_timer', 'start_timer', 'opened']],
  ];
  it.each(table)('%s', (_name, from, input, to, effects) => {
    const t = stepDoorSession(from, input, s);
    expect(t.state).toEqual(to);
    expect(t.effects.map((e) => e.type)).toEqual(effects);
  });

  it('with no retries configured, the first timeout is a jam', () => {
    const t = stepDoorSession({ tag: 'awaiting_open', attempt: 1 }, { type: 'timeout', timer: 'open_timeout' }, { ...s, jamRetries: 0 });
    expect(t.state).toEqual({ tag: 'did_not_open', attempts: 1 });
  });

  it('a bounce (open then closed quickly) ends closed', () => {
    let st: DoorSessionState = { tag: 'awaiting_open', attempt: 1 };
    st = stepDoorSession(st, open, s).state;
    st = stepDoorSession(st, closed, s).state;
    expect(st.tag).toBe('closed');
  });
});
