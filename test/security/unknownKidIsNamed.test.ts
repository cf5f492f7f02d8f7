// Attack / mistake: a command names a key id the locker was never provisioned with (a rotated
// or a forged key). The refusal must say so (CMD_UNKNOWN_KEY, with the kid), not a misleading
// "does not verify"; the command never runs, even when the signature is by a genuine key.
import { beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_TYP } from '../../src/sync/commands.js';
import { commandBench, type CommandBench } from './support/commandBench.js';

describe('an unknown kid is named', () => {
  let b: CommandBench;
  beforeEach(async () => {
    b = await commandBench();
  });

  it('refuses a genuinely signed command whose kid is not provisioned with CMD_UNKNOWN_KEY', async () => {
    const token = await b.signRaw('operator', { ...b.claims('operator', 'remoteOpen'), args: { compartmentId: 'A1', reason: 'new key' } }, { typ: COMMAND_TYP, kid: 'op-2027-rotation' });
    const reply = await b.send(b.operatorTenant, token);
    expect(reply).toMatchObject({ ok: false, error: { code: 'CMD_UNKNOWN_KEY', context: { reason: 'unknown_key', kid: 'op-2027-rotation' } } });
    expect(reply?.error?.message).toContain('op-2027-rotation');
    expect(reply?.error?.message).not.toContain('does not verify');
    expect(b.ops.callsOf('remoteOpen')).toHaveLength(0);
  });

  it('keeps CMD_BAD_SIGNATURE for a known kid with a wrong signature, and accepts the right one', async () => {
    const kid = b.operatorKey.publicJwk.kid ?? '';
    const forged = await b.signRaw('acme', b.claims('operator', 'inventory'), { typ: COMMAND_TYP, kid });
    expect((await b.send(b.operatorTenant, forged))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    const genuine = await b.signRaw('operator', b.claims('operator', 'inventory'), { typ: COMMAND_TYP, kid });
    expect((await b.send(b.operatorTenant, genuine))?.ok).toBe(true);
  });
});
