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

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** Primary weight of a non-digit character of an id: punctuation, then digits (10), then letters ignoring case. */
function weight(c: number): number {
  if (c === 95) return 1; // _
  if (c === 45) return 2; // -
  if (c === 46) return 3; // .
  if (c >= 65 && c <= 90) return 100 + c + 32; // A-Z as a-z
  return 100 + c;
}

/**
 * Orders ids as people read them: runs of digits by their value ("B2" before "B10"), letters
 * without regard to case, "_" "-" "." before digits before letters; ids that differ only in case
 * or leading zeros by their code units. For the ids the configuration allows this is the order
 * of Intl.Collator('en', { numeric: true }), without ICU's collation data, which a collator
 * loads into memory (about 3 MiB resident, issue 10).
 */
export function compareIds(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      let ie = i;
      while (ie < a.length && isDigit(a.charCodeAt(ie))) ie++;
      let je = j;
      while (je < b.length && isDigit(b.charCodeAt(je))) je++;
      let is = i;
      while (is < ie - 1 && a.charCodeAt(is) === 48) is++;
      let js = j;
      while (js < je - 1 && b.charCodeAt(js) === 48) js++;
      if (ie - is !== je - js) return ie - is - (je - js);
      for (let k = 0; k < ie - is; k++) {
        const d = a.charCodeAt(is + k) - b.charCodeAt(js + k);
        if (d !== 0) return d;
      }
      i = ie;
      j = je;
      continue;
    }
    const d = (isDigit(ca) ? 10 : weight(ca)) - (isDigit(cb) ? 10 : weight(cb));
    if (d !== 0) return d;
    i++;
    j++;
  }
  if (i < a.length || j < b.length) return i < a.length ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function allocate(candidates: readonly AllocationCandidate[], req: AllocationRequest): AllocationCandidate | undefined {
  const min = Math.max(sizeRank(req.size), req.largerThan ? sizeRank(req.largerThan) + 1 : 0);
  const fitting = candidates.filter((c) => c.available && sizeRank(c.size) >= min && !req.exclude?.has(c.id));
  const wantAccessible = req.accessible === true;
  return fitting.sort((a, b) => {
    if (a.accessible !== b.accessible) return a.accessible === wantAccessible ? -1 : 1;
    return sizeRank(a.size) - sizeRank(b.size) || compareIds(a.id, b.id);
  })[0];
}
