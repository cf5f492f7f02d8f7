import { describe, expect, it } from 'vitest';
import { ReplyWaiter } from '../../../hal/buses/replyWaiter.js';
import { ManualClock } from '../../../kernel/clock.js';
import { LockerError } from '../../../kernel/errors.js';

describe('reply waiter', () => {
  it('resolves with the first matching reply and leaves others alone', async () => {
    const clock = new ManualClock();
    const waiter = new ReplyWaiter<number>(clock);
    const seven = waiter.wait((n) => n === 7, 100, () => new LockerError('BUS_TIMEOUT', 'no 7'));
    expect(waiter.offer(3)).toBe(false);
    expect(waiter.offer(7)).toBe(true);
    await expect(seven).resolves.toBe(7);
    expect(waiter.pending).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('times out with an error built at expiry, carrying the waiting caller in its stack', async () => {
    const clock = new ManualClock();
    const waiter = new ReplyWaiter<number>(clock);
    let seen = 0;
    async function askBoardSeven(): Promise<number> {
      return waiter.wait((n) => n === 7, 100, () => new LockerError('BOARD_SILENT', `no reply, ${seen} other(s) seen`));
    }
    const pending = askBoardSeven().catch((e: unknown) => e);
    waiter.offer(1);
    seen = 1;
    await clock.advance(99);
    expect(waiter.pending).toBe(1);
    await clock.advance(1);
    const error = await pending;
    expect(error).toBeInstanceOf(LockerError);
    expect(error).toMatchObject({ code: 'BOARD_SILENT', message: 'BOARD_SILENT: no reply, 1 other(s) seen' });
    expect((error as Error).stack).toContain('askBoardSeven');
    expect(waiter.offer(7)).toBe(false);
  });

  it('cancelAll fails every waiter with the given error', async () => {
    const clock = new ManualClock();
    const waiter = new ReplyWaiter<number>(clock);
    const a = waiter.wait(() => true, 100, () => new LockerError('BUS_TIMEOUT', 'a')).catch((e: unknown) => e);
    const b = waiter.wait(() => true, 100, () => new LockerError('BUS_TIMEOUT', 'b')).catch((e: unknown) => e);
    waiter.cancelAll(new LockerError('BUS_CLOSED', 'closed'));
    expect(await a).toMatchObject({ code: 'BUS_CLOSED' });
    expect(await b).toMatchObject({ code: 'BUS_CLOSED' });
    expect(clock.pendingTimers()).toBe(0);
  });
});
