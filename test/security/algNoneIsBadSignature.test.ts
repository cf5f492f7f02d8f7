// Attack: an unsigned token (`alg: none`, empty signature) or one with another algorithm is
// sent as an operator command. The spec says CMD_BAD_SIGNATURE, whatever the claims look like.
import { beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_TYP } from '../../src/sync/commands.js';
import { commandBench, type CommandBench } from './support/commandBench.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('alg none is a bad signature', () => {
  let b: CommandBench;
  beforeEach(async () => {
    b = await commandBench();
  });

  it('answers an unsigned remote open (alg none, empty signature) with CMD_BAD_SIGNATURE', async () => {
    const claims = { ...b.claims('operator', 'remoteOpen'), args: { compartmentId: 'A1', reason: 'unsigned' } };
    const unsigned = `${b64({ alg: 'none', typ: COMMAND_TYP })}.${b64(claims)}.`;
    expect(await b.send(b.operatorTenant, unsigned)).toMatchObject({ ok: false, error: { code: 'CMD_BAD_SIGNATURE', context: { reason: 'alg_refused' } } });
    expect(b.ops.callsOf('remoteOpen')).toHaveLength(0);
  });

  it('answers alg none without typ, "NONE", and HS256 the same way, even with unreadable claims', async () => {
    const claims = b64(b.claims('operator', 'inventory'));
    for (const header of [{ alg: 'none' }, { alg: 'NONE', typ: COMMAND_TYP }, { alg: 'HS256', typ: COMMAND_TYP }]) {
      expect((await b.send(b.operatorTenant, `${b64(header)}.${claims}.`))?.error?.code).toBe('CMD_BAD_SIGNATURE');
      expect((await b.send(b.operatorTenant, `${b64(header)}.${claims}.c2ln`))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    }
    expect((await b.send(b.operatorTenant, `${b64({ alg: 'none' })}.bm90LWpzb24.`))?.error?.code).toBe('CMD_BAD_SIGNATURE');
    expect(b.ops.calls).toHaveLength(0);
  });
});
