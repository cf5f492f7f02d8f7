import { describe, expect, it } from 'vitest';
import { type DoorSessionInput, type DoorSessionState, startDoorSession, stepDoorSession } from '../../../src/domain/doorSession.js';

const s = { openTimeoutMs: 3000, leftOpenAlarmMs: 120_000, jamRetries: 1 };
const open = { type: 'reading', reading: { open: true } } as const;
const closed = { type: 'reading', reading: { open: false } } as const;

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
