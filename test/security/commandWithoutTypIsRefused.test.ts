// Attack: a genuine issuer key signs a token with no `typ` header (or a badge's typ); the spec
// requires `lk-cmd+jwt`, so a token minted for something else must never run as a command.
import { beforeEach, describe, expect, it } from 'vitest';
import { BADGE_TYP } from '../../src/credentials/badge.js';
import { COMMAND_TYP } from '../../src/sync/commands.js';
import { commandBench, type CommandBench } from './support/commandBench.js';

describe('a command without typ lk-cmd+jwt is refused', () => {
  let b: CommandBench;
  beforeEach(async () => {
    b = await commandBench();
  });

  it('refuses a remote open signed by the operator key but without typ, and runs nothing', async () => {
    const token = await b.signRaw('operator', { ...b.claims('operator', 'remoteOpen'), args: { compartmentId: 'A1', reason: 'no typ here' } }, { kid: b.operatorKey.publicJwk.kid ?? '' });
    const reply = await b.send(b.operatorTenant, token);
    expect(reply).toMatchObject({ ok: false, error: { code: 'CMD_MALFORMED', context: { reason: 'wrong_type' } } });
    expect(reply?.error?.message).toContain(COMMAND_TYP);
    expect(b.ops.callsOf('remoteOpen')).toHaveLength(0);
  });

  it('refuses a token of another kind (a badge typ) and still accepts a proper command', async () => {
    const badgeTyped = await b.signRaw('operator', b.claims('operator', 'inventory'), { typ: BADGE_TYP });
    expect((await b.send(b.operatorTenant, badgeTyped))?.error?.code).toBe('CMD_MALFORMED');
    const proper = await b.signRaw('operator', b.claims('operator', 'inventory'), { typ: COMMAND_TYP });
    expect((await b.send(b.operatorTenant, proper))?.ok).toBe(true);
    expect(b.ops.callsOf('inventory')).toHaveLength(1);
  });
});
