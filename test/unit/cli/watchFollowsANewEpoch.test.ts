// Issue 9, finding 6: after a locker's database is replaced, its streams restart at seq 1. A
// watcher deduping by (locker, carrier, seq) then dropped the new events as duplicates of old
// ones. `lockerctl watch` now follows the stream epoch: it reports the new epoch, asks for the new
// epoch from seq 1, and keeps the epoch in its --state file; the locker ignores the watcher's
// acks and replay requests of the old epoch.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../../src/broker/embeddedBroker.js';
import { lockerctl } from '../../../src/cli/lockerctl.js';
import { enrolLocker } from '../../../src/cli/lockerctl/enrolment.js';
import type { WatchLine } from '../../../src/cli/lockerctl/watch.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { SyncLocker, waitFor } from '../../support/syncLocker.js';

const passwords = { L1: 'pw-l1', acme: 'pw-acme' };
const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

describe('lockerctl watch across a new stream epoch', () => {
  let broker: EmbeddedBroker;
  let home: string;
  let key: SigningKeyPair;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'lockerctl-epoch-'));
    broker = await startEmbeddedBroker({ logger: silentLogger(), port: 0, passwords });
    key = await generateSigningKeyPair();
    await enrolLocker(home, 'L1', { signingKey: key.publicJwk });
  });

  afterAll(async () => {
    await broker?.close();
    await rm(home, { recursive: true, force: true });
  });

  /** Runs watch until `until` holds, appending an event every 50 ms meanwhile. */
  async function watchUntil(locker: SyncLocker, state: string, until: (lines: WatchLine[]) => boolean, from: string[] = []): Promise<{ lines: WatchLine[]; err: string[] }> {
    const lines: WatchLine[] = [];
    const err: string[] = [];
    let stop: () => void = () => undefined;
    const interrupted = new Promise<void>((resolve) => (stop = resolve));
    const exit = lockerctl(['watch', '--url', broker.url, '--password', passwords.acme, '--carrier', 'acme', '--locker', 'L1', '--home', home, '--state', state, ...from], {
      out: (l) => lines.push(JSON.parse(l) as WatchLine),
      err: (l) => err.push(l),
      env: {},
      interrupted,
    });
    await waitFor(() => err.some((l) => l.includes('watching')), 10_000, 'watch subscribed');
    for (let n = 0; !until(lines); n++) {
      if (n > 200) throw new Error(`watch did not get there: ${JSON.stringify(lines.map((l) => [l.epoch, l.seq]))}`);
      locker.append('acme', 'parcel.stored', { waybill: `WB-${n}` });
      await new Promise((r) => setTimeout(r, 50));
    }
    stop();
    expect(await exit).toBe(0);
    return { lines, err };
  }

  it('reports the new epoch and delivers it from seq 1, with the epoch on every line and in the state file', async () => {
    const state = join(home, 'acme.cursor.json');
    const first = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1, epoch: A, key });
    first.sync.start();
    await waitFor(() => first.sync.health().connected, 5_000, 'locker connected');
    const before = await watchUntil(first, state, (lines) => lines.length >= 5, ['--from', '1']);
    expect(before.lines.every((l) => l.epoch === A)).toBe(true);
    const savedBefore = JSON.parse(readFileSync(state, 'utf8')) as { cursors: Record<string, number>; epochs: Record<string, string> };
    expect(savedBefore.epochs).toEqual({ L1: A });
    expect(savedBefore.cursors.L1).toBeGreaterThan(5);
    await first.close();

    // The same locker with a new database: a new epoch, seqs from 1 again. The watcher resumes
    // from its state file (cursor past 5 in epoch A).
    const second = await SyncLocker.create({ lockerId: 'L1', url: broker.url, password: passwords.L1, epoch: B, key });
    second.sync.start();
    await waitFor(() => second.sync.health().connected, 5_000, 'locker connected');
    for (let i = 0; i < 3; i++) second.append('acme', 'parcel.stored', { waybill: `NEW-${i}` });
    const after = await watchUntil(second, state, (lines) => lines.length >= 4);
    expect(after.lines.map((l) => [l.epoch, l.seq]).slice(0, 4)).toEqual([
      [B, 1],
      [B, 2],
      [B, 3],
      [B, 4],
    ]);
    expect(after.err.some((l) => l.includes('"newEpoch"') && l.includes(B))).toBe(true);
    expect((JSON.parse(readFileSync(state, 'utf8')) as { epochs: Record<string, string> }).epochs).toEqual({ L1: B });
    // The watcher's acknowledgements reached the new epoch's stream.
    await waitFor(() => second.ackedUpTo('c/acme') >= 4, 5_000, 'acks of the new epoch');
    await second.close();
  });
});
