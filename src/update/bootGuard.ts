#!/usr/bin/env node
// The release layout and the boot guard (greenboot-like), on disk only:
//   <root>/releases/<version>/   one runnable release each (dist/, package.json, node_modules/)
//   <root>/current -> releases/<version>   switched atomically (symlink to a temp name, rename)
//   <root>/update-state.json     the trial in progress and the outcomes still to report,
//                                written atomically (temp file, fsync, rename, fsync of the folder)
// A new release runs on trial: the applying release writes the trial (with its boot limit and
// deadline) before it switches. Every start of lockerd first runs `start` here (the supervisor,
// or systemd's ExecStartPre), which counts the boot; a start over the limit, a trial past its
// deadline (`check`, run periodically) or a crash loop seen by the supervisor (`rollback`) switch
// back to the previous release. Only the new release itself commits, once it was healthy for
// the whole window (src/update/updateAgent.ts).
//
// This file imports nothing but Node's own modules, so its compiled form runs on its own:
// systemd runs <root>/bin/lockerd-update-guard.js, copied from the last committed release,
// so a broken new release cannot break its own rollback.
import { closeSync, existsSync, fsyncSync, lchownSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const STATE_FILE = 'update-state.json';
export const CURRENT_LINK = 'current';
export const RELEASES_DIR = 'releases';
/** Relative to a release folder: what the supervisor or systemd starts. */
export const RELEASE_ENTRY = join('dist', 'src', 'cli', 'lockerd.js');
/** The exit code lockerd uses to ask for a restart into another release (systemd RestartForceExitStatus). */
export const RESTART_EXIT_CODE = 75;
/** `check` exits with this when it rolled back: the caller restarts lockerd. */
export const ROLLED_BACK_EXIT_CODE = 10;
const MAX_OUTCOMES = 10;

export interface Trial {
  /** The id of the update (the jti of the operator's command). */
  id: string;
  version: string;
  previous: string;
  switchedAt: number;
  /** Epoch ms: the new release must have committed by then. */
  deadline: number;
  /** Starts of the new release counted so far. */
  boots: number;
  maxBoots: number;
  /** Set while a rollback is under way, so a power cut in the middle finishes it with the same reason. */
  rollingBack?: string;
}

export interface Outcome {
  id: string;
  kind: 'committed' | 'rolled_back' | 'failed';
  version: string;
  from: string;
  reason?: string;
  at: number;
}

export interface UpdateState {
  v: 1;
  trial?: Trial;
  /** The last committed release (the one to fall back on when nothing else is known). */
  committed?: string;
  /** The newest outcomes; lockerd reports each once on the operator stream. */
  outcomes: Outcome[];
}

export type Failpoint = (step: string) => void;
const noFailpoint: Failpoint = () => undefined;

export function readState(root: string): UpdateState {
  try {
    const raw = JSON.parse(readFileSync(join(root, STATE_FILE), 'utf8')) as Partial<UpdateState>;
    if (raw && raw.v === 1 && Array.isArray(raw.outcomes)) return raw as UpdateState;
  } catch {
    // Missing (a fresh install). A torn file cannot happen: it is only ever replaced by rename.
  }
  return { v: 1, outcomes: [] };
}

export function writeState(root: string, state: UpdateState): void {
  const tmp = join(root, `.${STATE_FILE}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...state, outcomes: state.outcomes.slice(-MAX_OUTCOMES) }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  matchOwner(root, tmp);
  renameSync(tmp, join(root, STATE_FILE));
  fsyncDir(root);
}

/**
 * Run as root (systemd's rollback and gate units), the guard gives what it writes to the owner of
 * the release root, so lockerd itself can still read the state and replace the link.
 */
function matchOwner(root: string, path: string): void {
  if (process.getuid?.() !== 0) return;
  const st = statSync(root);
  if (st.uid !== 0) lchownSync(path, st.uid, st.gid);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function releaseDir(root: string, version: string): string {
  return join(root, RELEASES_DIR, version);
}

/** A release folder that can be started: it was renamed into place only once unpacked and checked. */
export function releaseComplete(root: string, version: string): boolean {
  const dir = releaseDir(root, version);
  return existsSync(join(dir, 'package.json')) && existsSync(join(dir, RELEASE_ENTRY));
}

/** The version `current` points at, or undefined when the link is missing or dangling. */
export function currentVersion(root: string): string | undefined {
  try {
    const target = readlinkSync(join(root, CURRENT_LINK));
    return basename(target);
  } catch {
    return undefined;
  }
}

export function releases(root: string): string[] {
  try {
    return readdirSync(join(root, RELEASES_DIR)).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/** Points `current` at a release: a new symlink under a temp name, then rename over the old one. */
export function pointCurrent(root: string, version: string, failpoint: Failpoint = noFailpoint): void {
  const tmp = join(root, `.${CURRENT_LINK}.tmp-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(join(RELEASES_DIR, version), tmp);
  matchOwner(root, tmp);
  failpoint('link-created');
  renameSync(tmp, join(root, CURRENT_LINK));
  fsyncDir(root);
  failpoint('link-renamed');
}

export interface TrialInput {
  id: string;
  version: string;
  now: number;
  /** ms the new release has to come up and stay healthy before it must have committed. */
  windowMs: number;
  maxBoots: number;
}

/** Writes the trial, then switches `current` to the new release (the caller restarts). */
export function beginTrial(root: string, input: TrialInput, failpoint: Failpoint = noFailpoint): Trial {
  const previous = currentVersion(root);
  if (!previous) throw new Error(`${join(root, CURRENT_LINK)} does not point at a release`);
  if (!releaseComplete(root, input.version)) throw new Error(`release ${input.version} is not unpacked in ${join(root, RELEASES_DIR)}`);
  const state = readState(root);
  const trial: Trial = { id: input.id, version: input.version, previous, switchedAt: input.now, deadline: input.now + input.windowMs, boots: 0, maxBoots: input.maxBoots };
  writeState(root, { ...state, committed: state.committed ?? previous, trial });
  failpoint('trial-written');
  pointCurrent(root, input.version, failpoint);
  return trial;
}

/** Switches back to the trial's previous release; false when no trial is in progress. */
export function rollback(root: string, reason: string, now: number, failpoint: Failpoint = noFailpoint): boolean {
  const state = readState(root);
  const trial = state.trial;
  if (!trial) return false;
  const why = trial.rollingBack ?? reason;
  writeState(root, { ...state, trial: { ...trial, rollingBack: why } });
  failpoint('rollback-marked');
  pointCurrent(root, trial.previous, failpoint);
  const { trial: _done, ...rest } = state;
  writeState(root, { ...rest, outcomes: [...state.outcomes, { id: trial.id, kind: 'rolled_back', version: trial.version, from: trial.previous, reason: why, at: now }] });
  failpoint('rollback-written');
  return true;
}

/** The new release commits itself: the trial ends, its version becomes the fallback. */
export function commit(root: string, version: string, now: number): boolean {
  const state = readState(root);
  const trial = state.trial;
  if (!trial || trial.version !== version || trial.rollingBack || currentVersion(root) !== version) return false;
  const { trial: _done, ...rest } = state;
  writeState(root, { ...rest, committed: version, outcomes: [...state.outcomes, { id: trial.id, kind: 'committed', version, from: trial.previous, at: now }] });
  return true;
}

/** Removes releases other than the ones named (after a commit: the new one and the one before it). */
export function pruneReleases(root: string, keep: readonly string[]): string[] {
  const cur = currentVersion(root);
  const removed = releases(root).filter((v) => !keep.includes(v) && v !== cur);
  for (const v of removed) rmSync(releaseDir(root, v), { recursive: true, force: true });
  return removed;
}

/** Records an update that never reached the switch (download refused later, window missed). */
export function recordFailure(root: string, outcome: Omit<Outcome, 'kind'>): void {
  const state = readState(root);
  writeState(root, { ...state, outcomes: [...state.outcomes, { ...outcome, kind: 'failed' }] });
}

export interface GuardResult {
  action: 'none' | 'counted' | 'rolled_back' | 'repaired';
  version?: string;
  reason?: string;
}

/**
 * Runs before every start of lockerd. Cleans what a power cut left half done, repairs a missing
 * link, counts a trial boot and rolls back over the limit or past the deadline.
 */
export function onStart(root: string, now: number): GuardResult {
  for (const name of safeReaddir(root)) if (name.startsWith(`.${CURRENT_LINK}.tmp-`)) rmSync(join(root, name), { force: true });
  for (const name of safeReaddir(join(root, RELEASES_DIR))) if (name.startsWith('.')) rmSync(join(root, RELEASES_DIR, name), { recursive: true, force: true });
  const state = readState(root);
  const trial = state.trial;
  if (trial?.rollingBack) {
    rollback(root, trial.rollingBack, now);
    return { action: 'rolled_back', reason: trial.rollingBack, version: trial.previous };
  }
  const cur = currentVersion(root);
  if (trial && cur !== trial.version) {
    // The power went before the link was switched: the old release never stopped being current.
    const { trial: _t, ...rest } = state;
    writeState(root, { ...rest, outcomes: [...state.outcomes, { id: trial.id, kind: 'rolled_back', version: trial.version, from: trial.previous, reason: 'switch_interrupted', at: now }] });
    return repairIfNeeded(root, { action: 'rolled_back', reason: 'switch_interrupted', ...(cur ? { version: cur } : {}) });
  }
  if (trial) {
    const boots = trial.boots + 1;
    if (boots > trial.maxBoots) return rollbackResult(root, 'boot_limit', now, trial.previous);
    if (now > trial.deadline) return rollbackResult(root, 'health_timeout', now, trial.previous);
    writeState(root, { ...state, trial: { ...trial, boots } });
    return { action: 'counted', version: trial.version };
  }
  return repairIfNeeded(root, { action: 'none', ...(cur ? { version: cur } : {}) });
}

/** Run periodically while a trial may be in progress: past the deadline without commit, roll back. */
export function check(root: string, now: number): GuardResult {
  const trial = readState(root).trial;
  if (!trial) return { action: 'none' };
  if (trial.rollingBack || now > trial.deadline) return rollbackResult(root, trial.rollingBack ?? 'health_timeout', now, trial.previous);
  return { action: 'none', version: trial.version };
}

function rollbackResult(root: string, reason: string, now: number, previous: string): GuardResult {
  rollback(root, reason, now);
  return { action: 'rolled_back', reason, version: previous };
}

function repairIfNeeded(root: string, result: GuardResult): GuardResult {
  const cur = currentVersion(root);
  if (cur && releaseComplete(root, cur)) return result;
  const state = readState(root);
  const candidates = [state.committed, state.trial?.previous, ...releases(root).sort().reverse()].filter((v): v is string => typeof v === 'string');
  const good = candidates.find((v) => releaseComplete(root, v));
  if (!good) return result;
  pointCurrent(root, good);
  return { action: 'repaired', version: good };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The command line: lockerd-update-guard.js start|check|rollback|status ROOT [REASON]. */
export function guardMain(argv: string[], now: number): number {
  const [command, root, reason] = argv;
  if (!command || !root) {
    process.stderr.write('usage: lockerd-update-guard (start|check|rollback|status) ROOT [REASON]\n');
    return 2;
  }
  mkdirSync(root, { recursive: true });
  let result: GuardResult;
  switch (command) {
    case 'start':
      result = onStart(root, now);
      break;
    case 'check':
      result = check(root, now);
      break;
    case 'rollback':
      result = rollback(root, reason ?? 'crash_loop', now) ? { action: 'rolled_back', reason: reason ?? 'crash_loop' } : { action: 'none' };
      break;
    case 'status':
      process.stdout.write(`${JSON.stringify({ current: currentVersion(root) ?? null, ...readState(root) })}\n`);
      return 0;
    default:
      process.stderr.write(`unknown command ${command}\n`);
      return 2;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return command !== 'start' && result.action === 'rolled_back' ? ROLLED_BACK_EXIT_CODE : 0;
}

/** Set to true by scripts/bundleLockerd.ts: inside lockerd's bundle this module is never the entry. */
declare const LOCKERD_BUNDLED: boolean | undefined;

function isMain(): boolean {
  // The bundle's entry module holds this code too: its import.meta.url is then lockerd's own.
  if (typeof LOCKERD_BUNDLED !== 'undefined' && LOCKERD_BUNDLED) return false;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = guardMain(process.argv.slice(2), Date.now());

