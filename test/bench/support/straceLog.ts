// Reads an `strace -f -y` log (optionally with the -C summary at its end): every write-like
// call and every fsync/fdatasync, attributed to the file behind the descriptor and to the
// phase the traced program announced by writing "BENCH-MARK <phase>" to /dev/null.

export type FileKind = 'wal' | 'db' | 'journal' | 'dataDir' | 'lockerd-other' | 'simulator' | 'log' | 'other';

export interface PhaseIo {
  writeCalls: number;
  bytes: Record<FileKind, number>;
  syncs: Record<FileKind, number>;
  /** Syscall name -> calls in this phase. */
  calls: Record<string, number>;
}

export interface StraceLog {
  phases: Map<string, PhaseIo>;
  /** The -c/-C summary table: syscall -> calls, for the whole process tree. */
  summary: Record<string, number>;
}

const kinds: FileKind[] = ['wal', 'db', 'journal', 'dataDir', 'lockerd-other', 'simulator', 'log', 'other'];
const syncCalls = new Set(['fsync', 'fdatasync', 'sync_file_range', 'syncfs']);

function emptyPhase(): PhaseIo {
  const zero = (): Record<FileKind, number> => Object.fromEntries(kinds.map((k) => [k, 0])) as Record<FileKind, number>;
  return { writeCalls: 0, bytes: zero(), syncs: zero(), calls: {} };
}

export function fileKind(path: string, dataDir: string): FileKind {
  if (path.includes('sim-world.json')) return 'simulator';
  if (path.endsWith('lockerd.db-wal')) return 'wal';
  if (path.endsWith('lockerd.db-journal')) return 'journal';
  if (path.endsWith('lockerd.db')) return 'db';
  if (path === dataDir || path === `${dataDir}/`) return 'dataDir';
  if (path.startsWith(dataDir)) return 'lockerd-other';
  if (path.startsWith('pipe:') || path.startsWith('socket:') || path.startsWith('/dev/pts') || path.startsWith('/dev/tty')) return 'log';
  return 'other';
}

/** Durable storage of lockerd itself: what the disk target is about. */
export const lockerdKinds: readonly FileKind[] = ['wal', 'db', 'journal', 'dataDir', 'lockerd-other'];

export function sum(r: Record<FileKind, number>, which: readonly FileKind[]): number {
  return which.reduce((s, k) => s + r[k], 0);
}

function returnValue(line: string): number | undefined {
  const i = line.lastIndexOf(' = ');
  if (i < 0) return undefined;
  const m = /^(-?\d+)/.exec(line.slice(i + 3));
  return m ? Number(m[1]) : undefined;
}

export function parseStrace(text: string, dataDir: string): StraceLog {
  const phases = new Map<string, PhaseIo>();
  let phase = 'before-start';
  const current = (): PhaseIo => {
    let p = phases.get(phase);
    if (!p) phases.set(phase, (p = emptyPhase()));
    return p;
  };
  const pending = new Map<string, { call: string; path: string }>();
  const summary: Record<string, number> = {};

  const account = (call: string, path: string, ret: number | undefined, line: string): void => {
    if (path === '/dev/null') {
      const m = /BENCH-MARK ([a-z-]+)/.exec(line);
      if (m?.[1]) phase = m[1];
      return;
    }
    const p = current();
    p.calls[call] = (p.calls[call] ?? 0) + 1;
    const kind = fileKind(path, dataDir);
    if (syncCalls.has(call)) {
      p.syncs[kind] += 1;
    } else {
      p.writeCalls += 1;
      if (ret !== undefined && ret > 0) p.bytes[kind] += ret;
    }
  };

  let inSummary = false;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!line) continue;
    if (/^% time\s+seconds/.test(line)) {
      inSummary = true;
      continue;
    }
    if (inSummary) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m?.[1] && m[2] && m[2] !== 'total') summary[m[2]] = Number(m[1]);
      continue;
    }
    const resumed = /^(\d+)\s+<\.\.\. (\w+) resumed>/.exec(line);
    if (resumed?.[1]) {
      const p = pending.get(resumed[1]);
      pending.delete(resumed[1]);
      if (p) account(p.call, p.path, returnValue(line), line);
      continue;
    }
    const m = /^(\d+)\s+(\w+)\((\d+)<([^>]*)>/.exec(line);
    if (!m?.[1] || !m[2] || m[4] === undefined) continue;
    if (line.endsWith('<unfinished ...>')) {
      pending.set(m[1], { call: m[2], path: m[4] });
      // The marker's text is on the first half of the line; take the phase change now.
      if (m[4] === '/dev/null') account(m[2], m[4], undefined, line);
      continue;
    }
    account(m[2], m[4], returnValue(line), line);
  }
  return { phases, summary };
}
