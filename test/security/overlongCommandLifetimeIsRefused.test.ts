// Attack: a carrier (valid keys) sends commands that live for days, so every jti sits in the
// replay store for days and a captured door command stays usable. Commands may live at most
// 10 minutes (exp - iat), door commands at most 120 s: CMD_LIFETIME_EXCEEDED, jti not stored.
import { beforeEach, describe, expect, it } from 'vitest';
import { commandBench, type CommandBench } from './support/commandBench.js';

describe('an overlong command lifetime is refused', () => {
  let b: CommandBench;
  beforeEach(async () => {
    b = await commandBench();
  });
  const logged = () => (b.db.prepare('SELECT COUNT(*) AS n FROM command_log').get() as { n: number }).n;

  it('refuses a 7-day carrier command with CMD_LIFETIME_EXCEEDED and keeps no replay record', async () => {
    const t = await b.sign('acme', 'createReservation', { waybill: 'WB-1', size: 'M', kind: 'delivery' }, { ttlS: 7 * 86_400 });
    const reply = await b.send(b.acmeTenant, t.token);
    expect(reply).toMatchObject({ ok: false, error: { code: 'CMD_LIFETIME_EXCEEDED', context: { maxLifetimeS: 600 } } });
    expect(b.ops.callsOf('createReservation')).toHaveLength(0);
    expect(logged()).toBe(0);
  });

  it('accepts 10 minutes, refuses 10 minutes and a second', async () => {
    expect((await b.send(b.acmeTenant, (await b.sign('acme', 'listParcels', {}, { ttlS: 600 })).token))?.ok).toBe(true);
    expect((await b.send(b.acmeTenant, (await b.sign('acme', 'listParcels', {}, { ttlS: 601 })).token))?.error?.code).toBe('CMD_LIFETIME_EXCEEDED');
  });

  it('gives a remote open at most 120 s', async () => {
    const long = await b.sign('operator', 'remoteOpen', { compartmentId: 'A1', reason: 'long lived' }, { ttlS: 121 });
    expect(await b.send(b.operatorTenant, long.token)).toMatchObject({ ok: false, error: { code: 'CMD_LIFETIME_EXCEEDED', context: { maxLifetimeS: 120 } } });
    expect(b.ops.callsOf('remoteOpen')).toHaveLength(0);
    const short = await b.sign('operator', 'remoteOpen', { compartmentId: 'A1', reason: 'short lived' }, { ttlS: 120 });
    expect((await b.send(b.operatorTenant, short.token))?.ok).toBe(true);
  });
});
