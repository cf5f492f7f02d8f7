// What /api/health (and the remote diagnostics) report: ok only when the locker can serve.
// Every fault that takes service away is named with its stable code, so the kiosk can say the
// locker is out of service and an operator reads why, instead of a bare ok:false.
import { ErrorCodes, type ErrorCode } from '../../kernel/errors.js';
import { storeErrorCode } from '../store/database.js';

export type StoreFaultCode = typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR | typeof ErrorCodes.STORE_CORRUPT;

export type HealthFault =
  | { code: typeof ErrorCodes.BUS_DISCONNECTED; bus: string }
  | { code: typeof ErrorCodes.BOARD_SILENT; bus: string; board: number }
  | { code: StoreFaultCode; since: number }
  /** A background path (timer, MQTT handler, sweep, health report) that failed and has not succeeded since. */
  | { code: ErrorCode; path: string; since: number; failures: number }
  /** lockerd is stopping: no new door session starts. */
  | { code: typeof ErrorCodes.LOCKER_STOPPING; since: number };

export interface BusHealth {
  id: string;
  connected: boolean;
  silentBoards: number[];
}

export interface HealthExtras {
  background?: HealthFault[];
  stoppingSince?: number;
}

/** The faults of the buses, the store, the background paths and a stop in progress, in a stable order. */
export function healthFaults(buses: BusHealth[], store: StoreCondition, extras: HealthExtras = {}): HealthFault[] {
  const faults: HealthFault[] = [];
  if (extras.stoppingSince !== undefined) faults.push({ code: ErrorCodes.LOCKER_STOPPING, since: extras.stoppingSince });
  for (const b of buses) {
    if (!b.connected) faults.push({ code: ErrorCodes.BUS_DISCONNECTED, bus: b.id });
    else for (const board of b.silentBoards) faults.push({ code: ErrorCodes.BOARD_SILENT, bus: b.id, board });
  }
  const s = store.fault();
  if (s) faults.push(s);
  faults.push(...(extras.background ?? []));
  return faults;
}

/**
 * Whether the database last refused a write (disk full, I/O error): set by a failed commit or
 * a failed background write, cleared by the next write that succeeds (a commit, or the probe
 * of backgroundFailures.ts), so service resumes by itself when space returns. A damaged file
 * (STORE_CORRUPT) does not heal: it stays until lockerd restarts and checks the file again.
 */
export class StoreCondition {
  private failure: { code: StoreFaultCode; since: number } | undefined;
  private readonly recovered = new Set<(ended: { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number }) => void>();

  constructor(private readonly now: () => number) {}

  /** Called with the outage that just ended (after the write that succeeded). */
  onRecovered(listener: (ended: { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number }) => void): () => void {
    this.recovered.add(listener);
    return () => this.recovered.delete(listener);
  }

  /** A write failed: records the store fault when it is one (anything else is ignored). */
  failed(e: unknown): void {
    const code = storeErrorCode(e);
    if (!code || this.failure?.code === ErrorCodes.STORE_CORRUPT) return;
    if (this.failure?.code !== code) this.failure = { code, since: this.now() };
  }

  succeeded(): void {
    const ended = this.failure;
    if (!ended || ended.code === ErrorCodes.STORE_CORRUPT) return;
    this.failure = undefined;
    const outage = { code: ended.code, since: ended.since };
    for (const l of this.recovered) {
      try {
        l(outage);
      } catch {
        // an observer never changes the store's condition
      }
    }
  }

  fault(): { code: StoreFaultCode; since: number } | undefined {
    return this.failure ? { ...this.failure } : undefined;
  }
}
