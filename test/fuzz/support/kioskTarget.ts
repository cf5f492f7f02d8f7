// The kiosk fuzz target: the real lockerd (whole runtime on the simulator) in a child process,
// so a crash shows as the process going away and its peak RSS is its own. The fuzzer holds a
// courier session and an operator session and no pickup or drop-off code; it sends raw
// requests and judges every answer.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { ErrorCodes } from '../../../kernel/errors.js';
import { packageRoot } from '../../../src/packageRoot.js';
import { makeDemoLocker } from '../../support/demoLocker.js';
import { freePort } from '../../support/freePort.js';
import { openDbReadOnly, scenarioOverrides, spawnLockerd, tempDataDir, type ChildLockerd, type DbReader } from '../../support/lockerHarness.js';
import { KioskClient } from '../../support/kioskClient.js';
import { type Violation } from './fuzzRun.js';
import { encodeRequest, type AuthTokens, type FuzzContext, type FuzzRequest } from './httpArbitraries.js';
import { rawRequest, type RawAnswer } from './rawHttp.js';

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/**
 * Frames of a JavaScript stack ("    at fn (file:line:col)", also JSON-escaped), Node internals,
 * or the absolute path of the installation in an answer. Paths the request itself carried are
 * echoed in some messages ("nothing at /src/x.ts") and are not matched.
 */
const stackLike = new RegExp(
  [
    // a frame on its own line, raw or JSON-escaped
    String.raw`(\n|\\n)\s*at [^\n]*?[(\s](file:|node:|/)[^\n]*?:\d+:\d+`,
    String.raw`\bat [\w.<>$]+ \((file:|node:|/)[^)]*:\d+:\d+\)`,
    'node:internal',
    escapeRegExp(packageRoot()),
  ].join('|'),
);

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Answers Node's own HTTP parser gives to bytes that are not a valid request (no handler ran). */
const parserRefusals = new Set([400, 413, 414, 431, 505]);

export const COURIER_ACTOR = 'courier:swiftpost/fuzz-courier';
export const OPERATOR_ACTOR = 'operator:fuzz-op';

export interface KioskFigures {
  answersByStatus: Record<string, number>;
  /** 5xx answers by status, code and the start of the message. */
  serverErrors: Record<string, number>;
  /** Bodyless 4xx of Node's own HTTP parser: bytes that are not a valid request (no handler ran). */
  parserRefusals: number;
  /** Connections closed without an answer, by method (CONNECT has no handler; unparseable bytes). */
  noAnswerByMethod: Record<string, number>;
  serverPeakRssMb: number | undefined;
  serverRssMb: number | undefined;
  healthProbes: number;
  relogins: number;
  doorSessions: number;
  serverErrorLogLines: number;
}

export class KioskFuzzTarget {
  readonly tokens: AuthTokens = { courier: undefined, operator: undefined };
  /** Pickup codes of the parcels stored before fuzzing (the fuzzer sends only near misses). */
  readonly codes: string[] = [];
  readonly answersByStatus: Record<string, number> = {};
  readonly serverErrors: Record<string, number> = {};
  private parserRefusals = 0;
  private readonly noAnswerByMethod: Record<string, number> = {};
  private healthProbes = 0;
  private relogins = 0;
  private sinceProbe = 0;
  private knownSessions = 0;

  private constructor(
    private readonly child: ChildLockerd,
    private readonly db: { read: DbReader; close: () => void },
    private readonly dataDir: string,
    private readonly mint: { courier: () => Promise<string>; operator: () => Promise<string> },
    readonly port: number,
  ) {}

  static async start(): Promise<KioskFuzzTarget> {
    const dataDir = await tempDataDir();
    // Error-level logs only: a request that fails unexpectedly logs "kiosk request failed".
    const demo = await makeDemoLocker(dataDir, scenarioOverrides({ logLevel: 'error' }));
    const port = await freePort();
    const child = await spawnLockerd(demo.config, port);
    const db = openDbReadOnly(dataDir);
    const t = new KioskFuzzTarget(child, db, dataDir, { courier: () => demo.mintCourierBadge('swiftpost', 'fuzz-courier'), operator: () => demo.mintOperatorBadge('fuzz-op') }, port);
    await t.login();
    // Parcels in the locker, so that a wrong code that opened a door would show. The door
    // sessions of these deposits are the fuzzer's courier's; the fuzzing starts after them.
    for (const waybill of ['FUZZ-PARCEL-1', 'FUZZ-PARCEL-2', 'FUZZ-PARCEL-3']) {
      if (!t.tokens.courier) throw new Error('the fuzzer courier could not log in');
      t.codes.push((await new KioskClient(`http://${t.hostPort}`).deposit(t.tokens.courier, waybill, 'S')).code);
    }
    t.doorSessionsSince();
    return t;
  }

  /** Forgets the answers counted so far (those of a set-up request are no fuzzing figures). */
  forgetAnswers(): void {
    for (const k of Object.keys(this.answersByStatus)) delete this.answersByStatus[k];
  }

  get context(): FuzzContext {
    return { hostPort: this.hostPort, tokens: this.tokens, codes: this.codes };
  }

  get hostPort(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<KioskFigures> {
    const figures = this.figures();
    this.db.close();
    await this.child.stop();
    await rm(this.dataDir, { recursive: true, force: true });
    return figures;
  }

  figures(): KioskFigures {
    return {
      answersByStatus: this.answersByStatus,
      serverErrors: this.serverErrors,
      parserRefusals: this.parserRefusals,
      noAnswerByMethod: this.noAnswerByMethod,
      serverPeakRssMb: procStatusMb(this.child.process.pid, 'VmHWM'),
      serverRssMb: procStatusMb(this.child.process.pid, 'VmRSS'),
      healthProbes: this.healthProbes,
      relogins: this.relogins,
      doorSessions: this.knownSessions,
      serverErrorLogLines: this.child.output().split('\n').filter((l) => l.includes('"level":50') || l.includes('request failed')).length,
    };
  }

  /** Logs the fuzzer's courier and operator in (again, after a fuzzed logout ended a session). */
  async login(): Promise<void> {
    const post = async (path: string, badge: string): Promise<string | undefined> => {
      const r = await fetch(`http://${this.hostPort}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', origin: `http://${this.hostPort}` }, body: JSON.stringify({ badge }) }).catch(() => undefined);
      if (!r || r.status !== 200) return undefined;
      return ((await r.json()) as { token?: string }).token;
    };
    this.tokens.courier = await post('/api/courier/login', await this.mint.courier());
    this.tokens.operator = await post('/api/operator/login', await this.mint.operator());
  }

  private async sessionsAlive(): Promise<boolean> {
    const probe = async (path: string, token: string | undefined): Promise<boolean> => {
      if (!token) return false;
      const r = await fetch(`http://${this.hostPort}${path}`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
      return r?.status === 200;
    };
    return (await probe('/api/courier/me', this.tokens.courier)) && (await probe('/api/operator/alarms', this.tokens.operator));
  }

  /** Sends one fuzzed request and returns every property it broke. */
  async check(r: FuzzRequest): Promise<Violation[]> {
    const { bytes, incomplete } = encodeRequest(r, this.context);
    const answer = await rawRequest(bytes, { host: '127.0.0.1', port: this.port, timeoutMs: 10_000, halfClose: incomplete, head: r.method === 'HEAD' });
    const key = answer.status === undefined ? (answer.timedOut ? 'timeout' : 'no-answer') : String(answer.status);
    this.answersByStatus[key] = (this.answersByStatus[key] ?? 0) + 1;
    if (answer.status === undefined && !answer.timedOut) {
      const m = /^[A-Z]{1,10}$/.test(r.method) ? r.method : '(malformed)';
      this.noAnswerByMethod[m] = (this.noAnswerByMethod[m] ?? 0) + 1;
    }
    if (answer.status !== undefined && parserRefusals.has(answer.status) && answer.body.length === 0 && !answer.headers['content-type']) this.parserRefusals += 1;
    if (answer.status !== undefined && answer.status >= 500) {
      const sig = `${answer.status} ${r.method === 'HEAD' ? '(HEAD, no body)' : answer.body.toString('utf8').slice(0, 80)}`;
      this.serverErrors[sig] = (this.serverErrors[sig] ?? 0) + 1;
    }
    const found = judge(r, answer);
    found.push(...this.doorSessionsSince());
    this.sinceProbe += 1;
    if (this.sinceProbe >= 250 || found.length > 0 || answer.status === undefined) {
      this.sinceProbe = 0;
      found.push(...(await this.stillServing()));
      if (!(await this.sessionsAlive())) {
        this.relogins += 1;
        await this.login();
      }
    }
    return found;
  }

  /** The server still answers /api/health and its process is alive. */
  async stillServing(): Promise<Violation[]> {
    this.healthProbes += 1;
    if (this.child.process.exitCode !== null || this.child.process.signalCode !== null) return [{ kind: 'crash', detail: `lockerd exited (${this.child.process.exitCode ?? this.child.process.signalCode}): ${this.child.output().slice(-2000)}` }];
    const r = await fetch(`http://${this.hostPort}/api/health`, { signal: AbortSignal.timeout(10_000) }).catch((e: unknown) => e as Error);
    if (r instanceof Error) return [{ kind: 'not-serving', detail: `/api/health failed: ${r.message}` }];
    if (r.status !== 200) return [{ kind: 'not-serving', detail: `/api/health answered ${r.status}` }];
    await r.text();
    return [];
  }

  /** Door sessions begun since the last look: only the fuzzer's own sessions may open doors. */
  doorSessionsSince(): Violation[] {
    const rows = this.db.read.db.prepare('SELECT rowid, compartment_id, purpose, actor FROM door_sessions WHERE rowid > ? ORDER BY rowid').all(this.knownSessions) as { rowid: number; compartment_id: string; purpose: string; actor: string }[];
    const found: Violation[] = [];
    for (const s of rows) {
      this.knownSessions = Math.max(this.knownSessions, s.rowid);
      if (s.actor !== COURIER_ACTOR && s.actor !== OPERATOR_ACTOR) found.push({ kind: 'door-opened', detail: `a ${s.purpose} session opened ${s.compartment_id} for ${s.actor}` });
    }
    return found;
  }
}

/** The properties of one answer. */
export function judge(r: FuzzRequest, a: RawAnswer): Violation[] {
  const found: Violation[] = [];
  const what = `${r.method} ${r.target.slice(0, 120)}`;
  if (a.timedOut) return [{ kind: 'timeout', detail: `${what}: no answer within 10 s` }];
  if (a.status === undefined) {
    // Node's parser may drop a connection whose bytes are not HTTP at all; a handler never does.
    return [];
  }
  if (a.status >= 500) found.push({ kind: '5xx', detail: `${what}: ${a.status} ${a.body.toString('utf8').slice(0, 300)}` });
  const text = a.raw.toString('latin1');
  if (stackLike.test(text)) found.push({ kind: 'stack-trace', detail: `${what}: ${a.status} ${text.slice(0, 400)}` });
  const type = a.headers['content-type'] ?? '';
  const isHead = r.method === 'HEAD';
  if (a.status >= 400) {
    if (parserRefusals.has(a.status) && a.body.length === 0 && !type) return found;
    if (!type.startsWith('application/json')) found.push({ kind: 'not-json', detail: `${what}: ${a.status} with content-type "${type}"` });
    else if (!isHead) {
      const code = errorCodeOf(a.body);
      if (code === undefined) found.push({ kind: 'no-error-code', detail: `${what}: ${a.status} ${a.body.toString('utf8').slice(0, 200)}` });
      else if (!knownCodes.has(code)) found.push({ kind: 'unknown-error-code', detail: `${what}: ${a.status} code ${code}` });
    }
  } else if (a.status >= 200 && a.status < 300 && !isHead && !a.stream) {
    if (type.startsWith('application/json') && !parsesAsJson(a.body)) found.push({ kind: 'bad-json', detail: `${what}: ${a.status} body is not JSON` });
    if (!type) found.push({ kind: 'no-content-type', detail: `${what}: ${a.status} without a content-type` });
    else if (isApiPath(r.target) && !type.startsWith('application/json')) found.push({ kind: 'api-not-json', detail: `${what}: ${a.status} with content-type "${type}"` });
  }
  return found;
}

/**
 * Whether the router would see an /api/ path: it resolves the target as a URL (dot segments,
 * `%2e%2e` included, go away: `/api/x/../..` is `/`) and decodes each segment (`/%61pi` is `/api`).
 */
function isApiPath(target: string): boolean {
  try {
    const first = new URL(target, 'http://localhost').pathname.split('/').filter(Boolean)[0] ?? '';
    return decodeURIComponent(first) === 'api';
  } catch {
    return false;
  }
}

function parsesAsJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function errorCodeOf(b: Buffer): string | undefined {
  try {
    const j = JSON.parse(b.toString('utf8')) as { error?: { code?: unknown } };
    return typeof j.error?.code === 'string' ? j.error.code : undefined;
  } catch {
    return undefined;
  }
}

function procStatusMb(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}
