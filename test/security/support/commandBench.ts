// The real command verifier (CommandProcessor over a real SQLite replay store) with an injected
// clock, provisioned operator and carrier keys, and helpers that sign tokens the way an
// attacker would shape them. Shared by the command attack scenarios in this folder.
import { ManualClock } from '../../../kernel/clock.js';
import { signCommand, type CommandToken } from '../../../src/cli/lockerctl/commandToken.js';
import { signJwt, type JwsHeaderOptions } from '../../../src/crypto/jws.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { createIdFactory, type IdFactory } from '../../../src/ids.js';
import { silentLogger } from '../../../src/logger.js';
import { seededRandom } from '../../../kernel/random.js';
import { openDatabase, type Db } from '../../../src/store/database.js';
import type { ReplayOutcome, SyncControl } from '../../../src/sync/commandHandlers.js';
import type { CommandReply } from '../../../src/sync/commandReply.js';
import { CommandProcessor } from '../../../src/sync/commands.js';
import { carrierTenant, operatorTenant, topicFor, type Tenant } from '../../../src/sync/topics.js';
import { FakeLockerOperations } from '../../support/fakeLockerOperations.js';

export const LOCKER = 'locker-1';

class QuietControl implements SyncControl {
  rebirth(): Promise<void> {
    return Promise.resolve();
  }
  replay(_carrier: string | null, fromSeq: number): ReplayOutcome {
    return { fromSeq, lastSeq: 0, truncated: false };
  }
  reportConfig(): Promise<void> {
    return Promise.resolve();
  }
}

export interface CommandBench {
  clock: ManualClock;
  db: Db;
  ops: FakeLockerOperations;
  processor: CommandProcessor;
  operatorKey: SigningKeyPair;
  acmeKey: SigningKeyPair;
  ids: IdFactory;
  /** A normally signed command (typ lk-cmd+jwt, kid of the key), with claim overrides. */
  sign(as: 'operator' | 'acme', cmd: string, args?: Record<string, unknown>, o?: { ttlS?: number; claims?: Partial<{ iat: number; exp: number; jti: string; aud: string }> }): Promise<CommandToken>;
  /** Signs raw claims with a chosen header (to leave typ out, name an unknown kid, ...). */
  signRaw(as: 'operator' | 'acme', claims: Record<string, unknown>, header: JwsHeaderOptions): Promise<string>;
  /** Fresh claims for a command, iat now. */
  claims(as: 'operator' | 'acme', cmd: string, ttlS?: number): Record<string, unknown>;
  send(tenant: Tenant, token: string): Promise<CommandReply | null>;
  operatorTenant: Tenant;
  acmeTenant: Tenant;
}

export async function commandBench(): Promise<CommandBench> {
  const clock = new ManualClock(Date.UTC(2026, 2, 1, 8));
  const ids = createIdFactory(clock, seededRandom('security-commands'));
  const db = openDatabase(':memory:');
  const [operatorKey, acmeKey] = await Promise.all([generateSigningKeyPair(), generateSigningKeyPair()]);
  const ops = new FakeLockerOperations({ id: 'operator', signingKeys: [operatorKey.publicJwk] }, () => clock.now());
  ops.carriers.set('acme', { id: 'acme', name: 'Acme', signingKeys: [acmeKey.publicJwk], dwellHours: 72, adHocDeposit: false, couriers: [] });
  await ops.setLayout(
    { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b', board: 1, lock: 1, accessible: false, column: 1, row: 1 }] },
    { kind: 'operator', id: 'operator', commandId: 'setup' },
  );
  ops.calls.length = 0;
  const processor = new CommandProcessor({ lockerId: LOCKER, db, clock, logger: silentLogger(), issuers: ops, operations: ops, control: new QuietControl() });
  const keyOf = (as: 'operator' | 'acme') => (as === 'operator' ? operatorKey : acmeKey);
  const claims = (as: 'operator' | 'acme', cmd: string, ttlS = 60): Record<string, unknown> => {
    const iat = Math.floor(clock.now() / 1000);
    return { iss: as, aud: LOCKER, iat, exp: iat + ttlS, jti: ids(), cmd, args: {} };
  };
  return {
    clock,
    db,
    ops,
    processor,
    operatorKey,
    acmeKey,
    ids,
    sign: (as, cmd, args = {}, o = {}) =>
      signCommand({ key: keyOf(as).privateKey, kid: keyOf(as).publicJwk.kid ?? '', issuer: as, locker: LOCKER, cmd, args, ttlS: o.ttlS ?? 60, clock, ids, claims: o.claims ?? {} }),
    signRaw: (as, c, header) => signJwt(keyOf(as).privateKey, c, header),
    claims,
    send: (tenant, token) => processor.handle(topicFor(tenant, LOCKER, 'cmd'), Buffer.from(token)),
    operatorTenant,
    acmeTenant: carrierTenant('acme'),
  };
}
