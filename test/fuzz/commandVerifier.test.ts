// Fuzzes the signed-command verifier (src/sync/commands.ts) with arbitrary JWS-ish strings and
// with mutations of valid commands (characters changed, inserted, deleted; parts swapped
// between commands; claims or header re-encoded without re-signing; truncated; huge).
// Properties: the processor never throws; every such input gets a reply that is a valid
// CommandReply with ok false and a coded CMD_* refusal (PAYLOAD_TOO_LARGE for an oversized
// one, refused unread); no operation runs. The only mutants that may run are the same command:
// a token whose three parts decode to the original's bytes (surrounding whitespace, which the
// processor trims; a base64url spelling of the same bytes).
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel/clock.js';
import { signCommand } from '../../src/cli/lockerctl/commandToken.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/crypto/keys.js';
import { createIdFactory } from '../../src/ids.js';
import { silentLogger } from '../../src/logger.js';
import { seededRandom } from '../../kernel/random.js';
import { openDatabase } from '../../src/store/database.js';
import { type ReplayOutcome, type SyncControl } from '../../src/sync/commandHandlers.js';
import { CommandReply } from '../../src/sync/commandReply.js';
import { CommandProcessor } from '../../src/sync/commands.js';
import { type ReportedConfig } from '../../src/domain/lockerOperations.js';
import { carrierTenant, operatorTenant, topicFor, type Tenant } from '../../src/sync/topics.js';
import { FakeLockerOperations } from '../support/fakeLockerOperations.js';
import { describeViolations, runFuzz, timeoutOf, type Violation } from './support/fuzzRun.js';

const LOCKER = 'locker-fuzz-1';

class NullControl implements SyncControl {
  calls = 0;
  rebirth(): Promise<void> {
    this.calls += 1;
    return Promise.resolve();
  }
  replay(_carrier: string | null, fromSeq: number): ReplayOutcome {
    this.calls += 1;
    return { fromSeq, lastSeq: 10, truncated: false };
  }
  reportConfig(_report: ReportedConfig): Promise<void> {
    this.calls += 1;
    return Promise.resolve();
  }
}

interface Valid {
  token: string;
  tenant: Tenant;
}

const b64u = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
const partsOf = (t: string): Buffer[] => t.trim().split('.').map((p) => Buffer.from(p, 'base64url'));

/**
 * The same command as one of the valid ones: three parts that decode to the same bytes (the
 * processor trims the payload). Swapping every part in from one other valid command rebuilds
 * that command, so the whole pool counts, not only the token that was mutated.
 */
function sameCommand(valid: readonly string[], mutant: string): boolean {
  return valid.some((original) => sameBytes(original, mutant));
}

function sameBytes(original: string, mutant: string): boolean {
  const a = original.split('.');
  const b = mutant.trim().split('.');
  if (b.length !== 3 || !b.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return false;
  const pa = partsOf(original);
  const pb = partsOf(mutant);
  return a.length === 3 && pa.every((p, i) => p.equals(pb[i] ?? Buffer.alloc(0)));
}

type Mutation =
  | { op: 'char'; at: number; char: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; length: number }
  | { op: 'swap'; part: 0 | 1 | 2; from: number }
  | { op: 'claim'; key: string; value: unknown }
  | { op: 'header'; key: string; value: unknown }
  | { op: 'truncate'; keep: number }
  | { op: 'pad'; left: string; right: string };

const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '.', '=', '+', '/', ' ', '\n', '\u00e9', '\u0000'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('char' as const), at: fc.nat(), char: fc.constantFrom(...alphabet) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...alphabet), fc.string({ maxLength: 6 })) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ op: fc.constant('swap' as const), part: fc.constantFrom(0 as const, 1 as const, 2 as const), from: fc.nat() }),
  fc.record({ op: fc.constant('claim' as const), key: fc.constantFrom('iss', 'aud', 'iat', 'exp', 'jti', 'cmd', 'args', 'nbf', 'x'), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('operator', 'acme', LOCKER, 'remoteOpen', 'inventory', 0, 2 ** 40)) }),
  fc.record({ op: fc.constant('header' as const), key: fc.constantFrom('alg', 'typ', 'kid', 'crit', 'b64', 'jwk', 'x'), value: fc.oneof(fc.jsonValue({ maxDepth: 1 }), fc.constantFrom('none', 'HS256', 'EdDSA', 'ES256', 'lk-cmd+jwt', 'JWT', undefined)) }),
  fc.record({ op: fc.constant('truncate' as const), keep: fc.nat() }),
  fc.record({ op: fc.constant('pad' as const), left: fc.constantFrom('', ' ', '\n', '\t', '\r\n'), right: fc.constantFrom('', ' ', '\n', '\t', '\u0000') }),
);

function mutate(token: string, m: Mutation, pool: readonly Valid[]): string {
  const at = (n: number): number => n % Math.max(1, token.length);
  switch (m.op) {
    case 'char':
      return token.slice(0, at(m.at)) + m.char + token.slice(at(m.at) + 1);
    case 'insert':
      return token.slice(0, at(m.at)) + m.text + token.slice(at(m.at));
    case 'delete':
      return token.slice(0, at(m.at)) + token.slice(at(m.at) + m.length);
    case 'swap': {
      const parts = token.split('.');
      const other = (pool[m.from % pool.length]?.token ?? token).split('.');
      parts[m.part] = other[m.part] ?? '';
      return parts.join('.');
    }
    case 'claim':
    case 'header': {
      const parts = token.split('.');
      const i = m.op === 'claim' ? 1 : 0;
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(Buffer.from(parts[i] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        json = {};
      }
      if (m.value === undefined) delete json[m.key];
      else json[m.key] = m.value;
      parts[i] = b64u(JSON.stringify(json));
      return parts.join('.');
    }
    case 'truncate':
      return token.slice(0, at(m.keep));
    case 'pad':
      return m.left + token + m.right;
  }
}

/** JWS-ish strings that owe nothing to a valid command. */
const jwsish: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), fc.uint8Array({ maxLength: 80 })).map(([h, p, s]) => `${b64u(JSON.stringify(h) ?? '')}.${b64u(JSON.stringify(p) ?? '')}.${b64u(Buffer.from(s))}`),
  fc
    .record({ alg: fc.constantFrom('EdDSA', 'none', 'HS256'), typ: fc.constantFrom('lk-cmd+jwt', undefined), iss: fc.constantFrom('operator', 'acme', 'evil'), cmd: fc.constantFrom('remoteOpen', 'inventory', 'listParcels', 'nope'), sig: fc.uint8Array({ minLength: 64, maxLength: 64 }) })
    .map(({ alg, typ, iss, cmd, sig }) => `${b64u(JSON.stringify({ alg, ...(typ ? { typ } : {}) }))}.${b64u(JSON.stringify({ iss, aud: LOCKER, iat: 1_772_352_000, exp: 1_772_352_060, jti: 'fuzz-jti-0001', cmd, args: { compartmentId: 'A1', reason: 'x' } }))}.${b64u(Buffer.from(sig))}`),
  fc.string({ maxLength: 200 }),
  fc.stringMatching(/^[A-Za-z0-9_.-]{0,300}$/),
  fc.constantFrom('', '.', '..', '...', 'a.b.c', 'eyJ.eyJ.', `${'A'.repeat(70_000)}.${'B'.repeat(10)}.C`),
);

describe('fuzzing the signed-command verifier', () => {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
  let operatorKey: SigningKeyPair;
  let acmeKey: SigningKeyPair;
  let ops: FakeLockerOperations;
  let control: NullControl;
  let processor: CommandProcessor;
  const pool: Valid[] = [];

  beforeAll(async () => {
    [operatorKey, acmeKey] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair()]);
    ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorKey.publicJwk] }, () => clock.now());
    ops.carriers.set('acme', { id: 'acme', name: 'acme', signingKeys: [acmeKey.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
    await ops.setLayout({ version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b', board: 1, lock: 1, accessible: false, column: 1, row: 1 }] }, { kind: 'operator', id: 'operator', commandId: 'setup' });
    ops.calls.length = 0;
    control = new NullControl();
    processor = new CommandProcessor({ lockerId: LOCKER, db: openDatabase(':memory:'), clock, logger: silentLogger(), issuers: ops, operations: ops, control });
    const ids = createIdFactory(clock, seededRandom('fuzz-commands'));
    const sign = async (key: SigningKeyPair, issuer: string, cmd: string, args: Record<string, unknown>, tenant: Tenant): Promise<void> => {
      const t = await signCommand({ key: key.privateKey, kid: key.publicJwk.kid ?? '', issuer, locker: LOCKER, cmd, args, ttlS: 60, clock, ids });
      pool.push({ token: t.token, tenant });
    };
    for (let i = 0; i < 4; i++) {
      await sign(operatorKey, 'operator', 'remoteOpen', { compartmentId: 'A1', reason: `fuzz ${i}` }, operatorTenant);
      await sign(operatorKey, 'operator', 'inventory', {}, operatorTenant);
      await sign(operatorKey, 'operator', 'setCompartmentService', { compartmentId: 'A1', inService: false, reason: 'fuzz' }, operatorTenant);
      await sign(acmeKey, 'acme', 'listParcels', {}, carrierTenant('acme'));
      await sign(acmeKey, 'acme', 'createReservation', { waybill: `WB-${i}`, size: 'M' }, carrierTenant('acme'));
    }
  });

  const tenants: Tenant[] = [operatorTenant, carrierTenant('acme'), carrierTenant('bolt')];
  let executedEquivalents = 0;

  async function check(token: string, tenant: Tenant, mutated: boolean): Promise<Violation[]> {
    const calls = ops.calls.length + control.calls;
    let reply: CommandReply | null;
    try {
      reply = await processor.handle(topicFor(tenant, LOCKER, 'cmd'), Buffer.from(token, 'utf8'));
    } catch (e) {
      return [{ kind: 'throw', detail: `${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} for ${token.slice(0, 200)}` }];
    }
    const ran = ops.calls.length + control.calls > calls;
    if (mutated && sameCommand(pool.map((v) => v.token), token)) {
      if (ran) executedEquivalents += 1;
      return [];
    }
    const found: Violation[] = [];
    if (reply === null) return [{ kind: 'no-reply', detail: token.slice(0, 200) }];
    if (!CommandReply.safeParse(reply).success) found.push({ kind: 'reply-invalid', detail: JSON.stringify(reply).slice(0, 300) });
    if (reply.ok) found.push({ kind: 'executed', detail: `${token.slice(0, 300)} -> ${JSON.stringify(reply).slice(0, 200)}` });
    else if (!reply.error || !(reply.error.code.startsWith('CMD_') || reply.error.code === 'PAYLOAD_TOO_LARGE')) found.push({ kind: 'uncoded-refusal', detail: JSON.stringify(reply).slice(0, 300) });
    if (ran) found.push({ kind: 'operation-ran', detail: `${JSON.stringify(ops.calls.at(-1)).slice(0, 200)} for ${token.slice(0, 200)}` });
    return found;
  }

  it('a valid command runs, before any fuzzing (the verifier does not refuse everything)', async () => {
    const r = await processor.handle(topicFor(operatorTenant, LOCKER, 'cmd'), Buffer.from((pool[1] as Valid).token));
    expect(r?.ok, JSON.stringify(r)).toBe(true);
  });

  it(
    'arbitrary JWS-ish strings are refused with a coded CMD_* reply and run nothing',
    async () => {
      const figures = await runFuzz({
        target: 'command verifier: arbitrary JWS-ish strings',
        arbitrary: fc.tuple(jwsish, fc.constantFrom(...tenants)),
        check: ([token, tenant]) => check(token, tenant, false),
        budget: { ci: 800, long: 40_000 },
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

  it(
    'mutations of valid commands are refused with a coded CMD_* reply and run nothing',
    async () => {
      const figures = await runFuzz({
        target: 'command verifier: mutations of valid commands',
        arbitrary: fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...tenants) })),
        check: ([n, ms, otherTenant]) => {
          const valid = pool[n % pool.length] as Valid;
          let token = valid.token;
          for (const m of ms) token = mutate(token, m, pool);
          return check(token, otherTenant ?? valid.tenant, true);
        },
        budget: { ci: 800, long: 60_000 },
        extra: () => ({ equivalentMutantsExecuted: executedEquivalents }),
      });
      expect(figures.violations, describeViolations(figures)).toBe(0);
    },
    timeoutOf(30_000),
  );

});
