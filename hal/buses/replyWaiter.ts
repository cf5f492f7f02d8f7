// "Await the matching reply or time out", in one place. A waiter registers what it waits for
// before the question goes out (so a fast answer is never missed); incoming replies are offered
// to the waiters; on timeout the error is built with the waiter's own stack, so a support log
// shows which caller waited, not a timer callback.
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { type LockerError } from '../../kernel/errors.js';

interface Waiter<T> {
  match: (value: T) => boolean;
  resolve: (value: T) => void;
  reject: (error: LockerError) => void;
  timer: TimerHandle;
}

export class ReplyWaiter<T> {
  private readonly waiters = new Set<Waiter<T>>();

  constructor(private readonly clock: Clock) {}

  get pending(): number {
    return this.waiters.size;
  }

  /**
   * Resolves with the first offered value that matches, or rejects with `onTimeout()` after
   * `timeoutMs`. `onTimeout` runs at expiry, so it can describe what was seen in the meantime.
   */
  wait(match: (value: T) => boolean, timeoutMs: number, onTimeout: () => LockerError): Promise<T> {
    const origin = new Error();
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter<T> = {
        match,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.waiters.delete(waiter);
          const error = onTimeout();
          error.stack = `${error.name}: ${error.message}\n${(origin.stack ?? '').split('\n').slice(1).join('\n')}`;
          reject(error);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Hands a value to the first waiter it matches; false when nobody waited for it. */
  offer(value: T): boolean {
    for (const w of this.waiters) {
      if (!w.match(value)) continue;
      w.timer.cancel();
      this.waiters.delete(w);
      w.resolve(value);
      return true;
    }
    return false;
  }

  /** Fails every waiter at once (bus closed, transport lost). */
  cancelAll(error: LockerError): void {
    for (const w of [...this.waiters]) {
      w.timer.cancel();
      this.waiters.delete(w);
      w.reject(error);
    }
  }
}
