// Reading and validating the locker's configuration file. Every problem is reported at once,
// each with its dotted path, so an installer fixes the file in one round instead of ten.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { LockerError } from '../../kernel/errors.js';
import { type ConfigIssue } from './configIssue.js';
import { demoOnlyIssues } from './deploymentChecks.js';
import { LockerConfig } from './schema.js';

export type { ConfigIssue } from './configIssue.js';

export interface ParseConfigOptions {
  /** Directory a relative dataDir is resolved against (the config file's directory). */
  baseDir?: string;
  /** Named in error messages, e.g. the file path. */
  source?: string;
  /**
   * Keys the schema does not know are an error by default (its objects are strict), so a typo
   * such as "maxFailure" cannot leave a security setting at its default unnoticed; 'ignore'
   * drops them. Keys starting with "$" ("$schema", "$comment") are always allowed.
   */
  unknownKeys?: 'error' | 'ignore';
  /**
   * The configuration runs the simulator demo (`lockerd start --sim`). Only then are demo
   * settings (demo.revealCodes) and the examples' placeholder keys accepted: anywhere else they
   * are CONFIG_INVALID with their paths (see deploymentChecks.ts). Default false.
   */
  sim?: boolean;
}

/**
 * Validates an in-memory configuration in one pass; throws CONFIG_INVALID listing every issue:
 * malformed values, unknown keys (the schema's objects are strict), dangling references and
 * demo-only settings together, so an installer fixes the file in one round.
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): LockerConfig {
  const source = options.source ?? 'configuration';
  const demoOnly = options.sim === true ? [] : demoOnlyIssues(input);
  let candidate = withoutDollarKeys(input);
  let result = LockerConfig.safeParse(candidate);
  if (!result.success && options.unknownKeys === 'ignore') {
    // Drop what the schema does not know and validate again (one round per nesting level that
    // a union hid; three is more than the schema's depth of unions).
    for (let round = 0; round < 3 && !result.success && result.error.issues.some((i) => i.code === 'unrecognized_keys'); round++) {
      candidate = withoutKeys(candidate, unrecognizedKeyPaths(result.error.issues, []));
      result = LockerConfig.safeParse(candidate);
    }
  }
  if (!result.success) {
    const issues = flattenIssues(result.error.issues, []).filter((i) => options.unknownKeys !== 'ignore' || !i.unknownKey);
    throw configError(source, mergeIssues(mergeIssues(issues.map(({ path, message }) => ({ path, message })), crossReferenceIssues(candidate)), demoOnly));
  }
  if (demoOnly.length > 0) throw configError(source, demoOnly);
  const config = result.data;
  if (options.baseDir !== undefined && !isAbsolute(config.dataDir)) {
    config.dataDir = resolve(options.baseDir, config.dataDir);
  }
  if (options.baseDir !== undefined && config.backup && !isAbsolute(config.backup.path)) config.backup.path = resolve(options.baseDir, config.backup.path);
  return config;
}

/** Keys starting with "$" ("$schema", "$comment") are notes for people, allowed at any depth. */
function withoutDollarKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutDollarKeys);
  if (!isRecord(v)) return v;
  return Object.fromEntries(Object.entries(v).flatMap(([k, x]) => (k.startsWith('$') ? [] : [[k, withoutDollarKeys(x)]])));
}

function unrecognizedKeyPaths(issues: readonly ZodIssue[], prefix: readonly PropertyKey[]): PropertyKey[][] {
  const out: PropertyKey[][] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') out.push(...issue.keys.map((k) => [...path, k]));
    else if (issue.code === 'invalid_union') for (const branch of issue.errors) out.push(...unrecognizedKeyPaths(branch, path));
  }
  return out;
}

function withoutKeys(v: unknown, paths: PropertyKey[][]): unknown {
  const copy: unknown = structuredClone(v);
  for (const path of paths) {
    let at: unknown = copy;
    for (const p of path.slice(0, -1)) at = isRecord(at) || Array.isArray(at) ? (at as Record<PropertyKey, unknown>)[p as string] : undefined;
    if (isRecord(at)) delete at[String(path[path.length - 1])];
  }
  return copy;
}

/** Reads a JSON configuration file; a relative dataDir is taken relative to the file. */
export async function loadConfig(file: string, options: Pick<ParseConfigOptions, 'unknownKeys' | 'sim'> = {}): Promise<LockerConfig> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new LockerError('CONFIG_INVALID', `cannot read ${path}: ${reason}`, { file: path, issues: [{ path: '(root)', message: reason }] }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const message = `not valid JSON: ${jsonSyntaxProblem(e)}`;
    // No cause: the parser's own error quotes the file.
    throw new LockerError('CONFIG_INVALID', `${path} is ${message}`, { file: path, issues: [{ path: '(root)', message }] });
  }
  return parseConfig(raw, { ...options, baseDir: dirname(path), source: path });
}

/**
 * The JSON parser's complaint without the part of the file it quotes: the file holds the broker
 * password and key material, and this message goes to stderr (the journal).
 */
function jsonSyntaxProblem(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return /"/.test(message) ? 'unexpected character' : message;
}

/** "a.b.0.c" for a zod path; "(root)" for the empty path. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map((p) => String(p)).join('.');
}

/** CONFIG_INVALID listing every issue, one per line, each with its path. */
export function configError(source: string, issues: ConfigIssue[]): LockerError {
  const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new LockerError('CONFIG_INVALID', `${source} has ${count}:\n${lines}`, { source, issues });
}

type ZodIssue = z.core.$ZodIssue;

/**
 * zod reports a failed union as one "Invalid input" with the errors of every branch. The useful
 * part is the branch the author meant: the one whose literal fields (e.g. protocol: "gpio")
 * matched. When no branch matched, say which literal values would have.
 */
type FlatIssue = ConfigIssue & { unknownKey?: true };

function flattenIssues(issues: readonly ZodIssue[], prefix: readonly PropertyKey[]): FlatIssue[] {
  const out: FlatIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      // A typo such as "maxFailure" would otherwise leave a security setting at its default.
      out.push(...issue.keys.map((k) => ({ path: formatPath([...path, k]), message: `unknown setting "${k}"`, unknownKey: true as const })));
    } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      out.push(...flattenUnion(issue.errors, path));
    } else {
      out.push({ path: formatPath(path), message: issue.message });
    }
  }
  return out;
}

function flattenUnion(branches: readonly (readonly ZodIssue[])[], path: readonly PropertyKey[]): FlatIssue[] {
  const isTagMismatch = (i: ZodIssue): boolean => i.code === 'invalid_value' && i.path.length === 1;
  const matching = branches.filter((b) => !b.some(isTagMismatch));
  if (matching.length > 0) {
    const best = matching.reduce((a, b) => (b.length < a.length ? b : a));
    return flattenIssues(best, path);
  }
  // No branch matched its tag: report the tag field once with every accepted value.
  const expected = new Map<string, Set<string>>();
  for (const branch of branches) {
    for (const i of branch) {
      if (i.code !== 'invalid_value' || i.path.length !== 1) continue;
      const key = String(i.path[0]);
      const set = expected.get(key) ?? new Set<string>();
      for (const v of i.values) set.add(JSON.stringify(v));
      expected.set(key, set);
    }
  }
  return [...expected].map(([key, values]) => ({ path: formatPath([...path, key]), message: `expected one of ${[...values].join(', ')}` }));
}

function mergeIssues(a: ConfigIssue[], b: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set(a.map((i) => `${i.path}\u0000${i.message}`));
  return [...a, ...b.filter((i) => !seen.has(`${i.path}\u0000${i.message}`))];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * zod skips an object's refinements when any field inside it is malformed, so a file with one
 * typo would hide its dangling references until the next attempt. This repeats the schema's
 * cross-checks on the raw input, looking only at the parts that are well-formed enough, with
 * the schema's own wording so that duplicates merge.
 */
function crossReferenceIssues(raw: unknown): ConfigIssue[] {
  if (!isRecord(raw)) return [];
  const out: ConfigIssue[] = [];
  const add = (path: PropertyKey[], message: string): void => {
    out.push({ path: formatPath(path), message });
  };
  const hardware = isRecord(raw.hardware) ? raw.hardware : {};
  const buses = new Map<string, Record<string, unknown>>();
  for (const bus of arrayOf(hardware.buses)) {
    if (isRecord(bus) && typeof bus.id === 'string') buses.set(bus.id, bus);
  }
  const layout = isRecord(raw.layout) ? raw.layout : {};
  const ids = new Set<string>();
  const positions = new Map<string, string>();
  arrayOf(layout.compartments).forEach((c, i) => {
    if (!isRecord(c)) return;
    const at = ['layout', 'compartments', i];
    if (typeof c.id === 'string') {
      if (ids.has(c.id)) add([...at, 'id'], `duplicate compartment id "${c.id}"`);
      ids.add(c.id);
      if (typeof c.bus === 'string' && typeof c.board === 'number' && typeof c.lock === 'number') {
        const pos = `${c.bus}/${c.board}/${c.lock}`;
        const other = positions.get(pos);
        if (other !== undefined) add([...at, 'lock'], `position ${pos} is already used by "${other}"`);
        positions.set(pos, c.id);
      }
    }
    if (typeof c.bus !== 'string') return;
    const bus = buses.get(c.bus);
    if (!bus) {
      add([...at, 'bus'], `unknown bus "${c.bus}"`);
      return;
    }
    const board = typeof c.board === 'number' ? c.board : 0;
    if (bus.protocol === 'gpio') {
      if (board !== 0) add([...at, 'board'], 'GPIO buses have only board 0');
      const locks = arrayOf(bus.locks).filter(isRecord);
      if (typeof c.lock === 'number' && locks.length > 0 && !locks.some((l) => l.lock === c.lock))
        add([...at, 'lock'], `GPIO bus "${c.bus}" has no lock ${c.lock}`);
      return;
    }
    const boards = arrayOf(bus.boards).filter(isRecord);
    if (boards.length === 0 || typeof c.board !== 'number') return;
    const found = boards.find((b) => b.address === c.board);
    if (!found) add([...at, 'board'], `bus "${c.bus}" has no board ${c.board}`);
    else if (typeof found.locks === 'number' && typeof c.lock === 'number' && c.lock > found.locks)
      add([...at, 'lock'], `board ${c.board} on "${c.bus}" has ${found.locks} locks`);
  });
  const operator = isRecord(raw.operator) ? raw.operator : {};
  const operatorId = typeof operator.id === 'string' ? operator.id : 'operator';
  const carrierIds = new Set<string>();
  arrayOf(raw.carriers).forEach((c, i) => {
    if (!isRecord(c) || typeof c.id !== 'string') return;
    if (carrierIds.has(c.id)) add(['carriers', i, 'id'], `duplicate carrier "${c.id}"`);
    carrierIds.add(c.id);
    if (c.id === operatorId) add(['carriers', i, 'id'], 'a carrier cannot use the operator id');
  });
  return out;
}

function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
