// Reads a SQLite write-ahead log as written since its last reset: how many frames (one page
// each), how many of them end a transaction (commit frames), which pages, and the bytes
// SQLite wrote to produce it. Format: sqlite.org/fileformat2.html#walformat.
import { existsSync, readFileSync } from 'node:fs';

export interface WalContents {
  pageSize: number;
  frames: number;
  commits: number;
  distinctPages: number;
  /** Header plus frames: what was written to the WAL file since it was reset. */
  bytes: number;
  /** The pages each transaction wrote, in commit order. */
  transactions: number[][];
}

const HEADER = 32;
const FRAME_HEADER = 24;

export function readWal(path: string): WalContents {
  const empty = { pageSize: 0, frames: 0, commits: 0, distinctPages: 0, bytes: 0, transactions: [] };
  if (!existsSync(path)) return empty;
  const buf = readFileSync(path);
  if (buf.length < HEADER) return empty;
  const magic = buf.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) throw new Error(`${path} is not a WAL file`);
  const pageSize = buf.readUInt32BE(8);
  const salt1 = buf.readUInt32BE(16);
  const salt2 = buf.readUInt32BE(20);
  const pages = new Set<number>();
  let frames = 0;
  let commits = 0;
  const transactions: number[][] = [];
  let open: number[] = [];
  for (let off = HEADER; off + FRAME_HEADER + pageSize <= buf.length; off += FRAME_HEADER + pageSize) {
    // Frames left over from before the last reset carry the old salts: the log ends there.
    if (buf.readUInt32BE(off + 8) !== salt1 || buf.readUInt32BE(off + 12) !== salt2) break;
    frames += 1;
    const page = buf.readUInt32BE(off);
    pages.add(page);
    open.push(page);
    if (buf.readUInt32BE(off + 4) !== 0) {
      commits += 1;
      transactions.push(open);
      open = [];
    }
  }
  return { pageSize, frames, commits, distinctPages: pages.size, bytes: frames ? HEADER + frames * (FRAME_HEADER + pageSize) : 0, transactions };
}
