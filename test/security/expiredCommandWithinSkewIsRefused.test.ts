// Attack: a captured command is replayed shortly after its exp, inside the clock-skew
// allowance. The skew is for the sender's iat only: a command past exp never runs.
import { beforeEach, describe, expect, it } from 'vitest';
import { commandBench, type CommandBench } from './support/commandBench.js';

describe('an expired command within the clock skew is refused', () => {
  let b: CommandBench;
  beforeEach(async () => {
    b = await commandBench();
  });

  it('refuses a remote open 20 s after its exp with CMD_EXPIRED and opens nothing', async () => {
    const t = await b.sign('operator', 'remoteOpen', { compartmentId: 'A1', reason: 'captured earlier' }, { ttlS: 60 });
    await b.clock.advance(80_000);
    expect(await b.send(b.operatorTenant, t.token)).toMatchObject({ ok: false, error: { code: 'CMD_EXPIRED' } });
    expect(b.ops.callsOf('remoteOpen')).toHaveLength(0);
  });

  it('refuses a command at the very second of its exp; accepts one just before', async () => {
    const atExp = await b.sign('operator', 'inventory', {}, { ttlS: 60 });
    const before = await b.sign('operator', 'inventory', {}, { ttlS: 60 });
    await b.clock.advance(59_999);
    expect((await b.send(b.operatorTenant, before.token))?.ok).toBe(true);
    await b.clock.advance(1);
    expect((await b.send(b.operatorTenant, atExp.token))?.error?.code).toBe('CMD_EXPIRED');
  });

  it('still allows the skew for iat: a sender 20 s ahead is accepted, 40 s ahead refused', async () => {
    const nowS = Math.floor(b.clock.now() / 1000);
    const ahead = await b.sign('operator', 'inventory', {}, { claims: { iat: nowS + 20, exp: nowS + 80 } });
    expect((await b.send(b.operatorTenant, ahead.token))?.ok).toBe(true);
    const farAhead = await b.sign('operator', 'inventory', {}, { claims: { iat: nowS + 40, exp: nowS + 100 } });
    expect((await b.send(b.operatorTenant, farAhead.token))?.error?.code).toBe('CMD_EXPIRED');
  });
});
