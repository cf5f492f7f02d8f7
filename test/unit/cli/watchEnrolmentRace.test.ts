// `lockerctl watch` without --locker reads a locker's enrolment when its first event arrives.
// That read used to be fired off beside the consumer, so the very first event of an enrolled
// locker was refused with "no enrolled key" (the README's walk-through hit it every time).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embeddedBroker.js';
import { lockerctl } from '../../../src/cli/lockerctl.js';
import { enrolLocker } from '../../../src/cli/lockerctl/enrolment.js';
import type { WatchLine } from '../../../src/cli/lockerctl/watch.js';
import { silentLogger } from '../../../src/logger.js';
import { SyncLocker, waitFor } from '../../support/syncLocker.js';

const passwords = { L1: 'pw-l1', acme: 'pw-acme' };

describe('lockerctl watch with lazily read enrolments', () => {
  let broker: EmbeddedBroker;
  let locker: SyncLocker;
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'lockerctl-watch-'));
    broker = await startEmbeddedBroker({ logger: silentLogger(), port: 0, passwords });
    locker = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1 });
    await enrolLocker(home, 'L1', { signingKey: locker.key.publicJwk });
    locker.sync.start();
    await waitFor(() => locker.sync.health().connected, 5_000, 'locker connected');
  });

  afterAll(async () => {
    await locker?.close();
    await broker?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('delivers the first event of an enrolled locker (no --locker given)', async () => {
    const lines: WatchLine[] = [];
    const err: string[] = [];
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const exit = lockerctl(['watch', '--url', broker.url, '--password', passwords.acme, '--carrier', 'acme', '--home', home], {
      out: (l) => lines.push(JSON.parse(l) as WatchLine),
      err: (l) => err.push(l),
      env: {},
      interrupted,
    });
    // Events are published until the watcher, once subscribed, sees one: the first it sees must
    // be delivered, not refused (watch starts at the first seq it sees, like tail -f).
    let n = 0;
    while (lines.length === 0 && !err.some((l) => l.includes('refused'))) {
      if (n > 100) throw new Error('watch saw nothing');
      locker.append('acme', 'parcel.stored', { waybill: `WB-${++n}` });
      await new Promise((r) => setTimeout(r, 50));
    }
    stop();
    expect(await exit).toBe(0);
    expect(err.filter((l) => l.includes('refused'))).toEqual([]);
    expect(lines[0]).toMatchObject({ locker: 'L1', type: 'parcel.stored' });
  });
});
