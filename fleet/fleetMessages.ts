// What the fleet simulator's processes say to each other over IPC: the orchestrator
// (fleetSimulation.ts), the locker processes (lockerFleetProcess.ts) and the carrier back-end
// process (carrierBackendProcess.ts). Times are monotonic milliseconds (process.hrtime), which
// every process of one machine reads from the same clock.
import { type Ed25519PublicJwk } from '../src/config/schema.js';
import { type BackendReport } from './carrierBackend.js';
import { type FleetProduction } from './lockerFleet.js';
import { type ProcessLoad } from './processLoad.js';
import { type FleetCarrier } from './simulatedLocker.js';

export { type ProcessLoad };

export interface LockersInit {
  kind: 'init';
  url: string;
  password?: string;
  protocolVersion: 4 | 5;
  lockerIds: string[];
  carriers: FleetCarrier[];
  seed: string;
  connectTimeoutMs: number;
  connectBatch: number;
  /** Each locker's data folder is <dataRoot>/<lockerId>. */
  dataRoot: string;
  synchronous: 'full' | 'normal';
  cacheKiB: number;
  retainAcked: number;
}

/** What creating the lockers of one process cost. */
export interface LockersCreated {
  lockers: number;
  ms: number;
  /** RSS of the process before the first locker and once all were created and connected, bytes. */
  rssBefore: number;
  rssCreated: number;
  /** Open descriptors once the lockers exist, and the process's soft limit. */
  openFiles: number;
  openFilesLimit: number;
}

export type ToLockers = LockersInit | { kind: 'connect' } | { kind: 'run'; ratePerS: number; durationMs: number } | { kind: 'settle'; timeoutMs: number } | { kind: 'stop' };

export type FromLockers =
  | { kind: 'enrolled'; keys: Record<string, Ed25519PublicJwk>; created: LockersCreated }
  | { kind: 'connected'; connected: number; ms: number; rssConnected: number; openFiles: number }
  | { kind: 'produced'; production: FleetProduction; outboxLastSeqs: Record<string, number>; load: ProcessLoad }
  | { kind: 'settled'; unsent: number }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };

export interface BackendInit {
  kind: 'init';
  url: string;
  password?: string;
  carriers: string[];
  members: number;
  keys: Record<string, Ed25519PublicJwk>;
}

export type ToBackend =
  | BackendInit
  | { kind: 'mark' }
  /** Wait until every stream has delivered up to its expected last seq (key "locker/carrier"), then report. */
  | { kind: 'await'; expected: Record<string, number>; timeoutMs: number }
  | { kind: 'stop' };

export type FromBackend =
  | { kind: 'ready' }
  | { kind: 'report'; reports: BackendReport[]; complete: boolean; waitedMs: number; load: ProcessLoad }
  | { kind: 'stopped' }
  | { kind: 'failed'; message: string };

/** Monotonic milliseconds with sub-millisecond resolution, the same clock in every process. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
