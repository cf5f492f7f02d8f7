// What /api/health (and the remote diagnostics) report: ok only when the locker can serve.
// Every fault that takes service away is named with its stable code, so the kiosk can say the
// locker is out of service and an operator reads why, instead of a bare ok:false.
import { ErrorCodes, type ErrorCode, isLockerError } from '../../kernel/errors.js';

export type HealthFault =
  | { code: typeof ErrorCodes.BUS_DISCONNECTED; bus: string }
  | { code: typeof ErrorCodes.BOARD_SILENT; bus: string; board: number }
  | { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number };

export interface BusHealth {
  id: string;
  connected: boolean;
  silentBoards: number[];
}

/** The faults of the buses and the store, in a stable order. */
export function healthFaults(buses: BusHealth[], store: StoreCondition): HealthFault[] {
  const faults: HealthFault[] = [];
  for (const b of buses) {
    if (!b.connected) faults.push({ code: ErrorCodes.BUS_DISCONNECTED, bus: b.id });
    else for (const board of b.silentBoards) faults.push({ code: ErrorCodes.BOARD_SILENT, bus: b.id, board });
  }
  const s = store.fault();
  if (s) faults.push(s);
  return faults;
}

/**
 * Whether the database last refused a write (disk full, I/O error): set by a failed commit,
 * cleared by the next one that succeeds (service resumes by itself when space returns).
 */
export class StoreCondition {
  private failure: { code: typeof ErrorCodes.STORE_FULL | typeof ErrorCodes.STORE_ERROR; since: number } | undefined;

  constructor(private readonly now: () => number) {}

  failed(e: unknown): void {
    const code: ErrorCode | undefined = isLockerError(e) ? e.code : undefined;
    if (code !== ErrorCodes.STORE_FULL && code !== ErrorCodes.STORE_ERROR) return;
    if (this.failure?.code !== code) this.failure = { code, since: this.now() };
  }

  succeeded(): void {
    this.failure = undefined;
  }

  fault(): HealthFault | undefined {
    return this.failure ? { ...this.failure } : undefined;
  }
}
