// The one failure policy of lockerd's background paths: timers, MQTT handlers, sweeps, health
// reports, metrics. Nothing a background path throws may escape into the event loop (an
// uncaught throw kills the process and every door session with it). A failure is reported
// here instead: the composition root's implementation (src/composition/backgroundFailures.ts)
// logs it, names it in health as a degraded fault, and alarms the operator.

export interface FailurePolicy {
  /**
   * Runs `fn` for the background path `path` (a stable name such as "sync.connect"). A throw is
   * reported and swallowed (undefined is returned); a success after a failure of the same path
   * ends that path's fault.
   */
  run<T>(path: string, fn: () => T): T | undefined;
  /** Reports a failure caught elsewhere (a rejected promise of a background path). */
  report(path: string, error: unknown): void;
  /** An asynchronous background path succeeded: its fault, if any, ends. */
  succeeded(path: string): void;
}

/** A policy that only hands failures to `onFailure` (for components used without the composition root). */
export function reportingPolicy(onFailure: (path: string, error: unknown) => void): FailurePolicy {
  return {
    run<T>(path: string, fn: () => T): T | undefined {
      try {
        return fn();
      } catch (e) {
        onFailure(path, e);
        return undefined;
      }
    },
    report: onFailure,
    succeeded: () => undefined,
  };
}
