// Which compartment a parcel goes into. Pure: the caller passes in what is free.
//
// Rules: the smallest size class that fits; faulty, busy or unreachable compartments are never
// offered; accessible (low) compartments are preferred when asked for and kept back otherwise
// while any other compartment fits.
import { sizeClasses, type SizeClass } from '../config/schema.js';

export interface AllocationCandidate {
  id: string;
  size: SizeClass;
  accessible: boolean;
  /** In service, board answering, no parcel inside, no door session holding it. */
  available: boolean;
}

export interface AllocationRequest {
  size: SizeClass;
  accessible?: boolean;
  /** Compartments to skip (e.g. one that just jammed). */
  exclude?: ReadonlySet<string>;
  /** Only sizes strictly larger than this (wrong size). */
  largerThan?: SizeClass;
}

export function sizeRank(size: SizeClass): number {
  return sizeClasses.indexOf(size);
}

export function nextLargerSize(size: SizeClass): SizeClass | undefined {
  return sizeClasses[sizeRank(size) + 1];
}

// One collator for all comparisons: building one per call costs milliseconds on a big layout.
const byId = new Intl.Collator('en', { numeric: true }).compare;

export function allocate(candidates: readonly AllocationCandidate[], req: AllocationRequest): AllocationCandidate | undefined {
  const min = Math.max(sizeRank(req.size), req.largerThan ? sizeRank(req.largerThan) + 1 : 0);
  const fitting = candidates.filter((c) => c.available && sizeRank(c.size) >= min && !req.exclude?.has(c.id));
  const wantAccessible = req.accessible === true;
  return fitting.sort((a, b) => {
    if (a.accessible !== b.accessible) return a.accessible === wantAccessible ? -1 : 1;
    return sizeRank(a.size) - sizeRank(b.size) || byId(a.id, b.id);
  })[0];
}
