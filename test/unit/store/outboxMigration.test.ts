// Migration 6 (issue 10): an outbox written by the previous schema (per-row sent_at/acked_at,
// no stored bytes) keeps every row, gets its watermark from the contiguous prefix of sent or
// acknowledged rows, and its rows are signed when the publisher sends them. This file writes
// rows in the old schema, which no module of the runtime can (outboxOwner.test.ts lets it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { generateSigningKeyPair, type SigningKeyPair } from '../../../src/crypto/keys.js';
import { silentLogger } from '../../../src/logger.js';
import { migrate, openDatabase } from '../../../src/store/database.js';
import { migrations } from '../../../src/store/migrations.js';
import { Outbox } from '../../../src/store/outbox.js';
import { ed25519Signer } from '../../../src/sync/detachedSignature.js';
import { envelopeSealer, verifyEnvelope } from '../../../src/sync/envelope.js';
import { StreamPublisher, type PublishChannel } from '../../../src/sync/streamPublisher.js';
import Database from 'better-sqlite3';

describe('migration 6: stored envelope bytes and per-stream watermarks', () => {
  let key: SigningKeyPair;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    key = await generateSigningKeyPair();
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbox-migration-'));
    file = join(dir, 'lockerd.db');
    // A database at schema 5, as the previous release left it.
    const old = new Database(file);
    old.pragma('page_size = 1024');
    old.pragma('journal_mode = WAL');
    migrate(old, migrations.filter((m) => m.version <= 5));
    old.exec(`INSERT INTO streams (stream, carrier, next_seq, acked_upto) VALUES ('c/acme', 'acme', 9, 2), ('c/bolt', 'bolt', 4, 0), ('op', NULL, 3, 0)`);
    const row = old.prepare(
      'INSERT INTO outbox (stream, seq, id, type, carrier, ts, clock_synced, boot_id, data, sent_at, acked_at) VALUES (?, ?, ?, ?, ?, 1000, 1, ?, ?, ?, ?)',
    );
    // acme: 1-2 acknowledged, 3-4 sent, 5 unsent, 6 sent (after the gap), 7-8 unsent.
    const acme: [number, number | null, number | null][] = [
      [1, 10, 20],
      [2, 10, 20],
      [3, 11, null],
      [4, 11, null],
      [5, null, null],
      [6, 12, null],
      [7, null, null],
      [8, null, null],
    ];
    for (const [seq, sent, acked] of acme) row.run('c/acme', seq, `01ACME${String(seq).padStart(20, '0')}`, 'parcel.stored', 'acme', 'boot-0', JSON.stringify({ n: seq }), sent, acked);
    // bolt: everything sent. op: nothing sent.
    for (const seq of [1, 2, 3]) row.run('c/bolt', seq, `01BOLT${String(seq).padStart(20, '0')}`, 'parcel.stored', 'bolt', 'boot-0', JSON.stringify({ n: seq }), 10, null);
    for (const seq of [1, 2]) row.run('op', seq, `01OPER${String(seq).padStart(20, '0')}`, 'health', null, 'boot-0', JSON.stringify({ n: seq }), null, null);
    old.close();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every row, derives the watermarks, and the old rows go out signed', () => {
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(6);
    const outbox = new Outbox(db, envelopeSealer('L1', ed25519Signer(key.privateKey, 'k')));
    expect(outbox.rows().map((r) => [r.stream, r.seq, JSON.parse(r.data), r.wire])).toEqual([
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => ['c/acme', n, { n }, null]),
      ...[1, 2, 3].map((n) => ['c/bolt', n, { n }, null]),
      ...[1, 2].map((n) => ['op', n, { n }, null]),
    ]);
    expect(outbox.streams().map((s) => [s.stream, s.nextSeq, s.ackedUpTo, s.sentUpTo])).toEqual([
      ['c/acme', 9, 2, 4],
      ['c/bolt', 4, 0, 3],
      ['op', 3, 0, 0],
    ]);
    expect(outbox.rows('c/acme').map((r) => [r.sent, r.acked])).toEqual([
      [true, true],
      [true, true],
      [true, false],
      [true, false],
      [false, false],
      [false, false],
      [false, false],
      [false, false],
    ]);

    // New rows are sealed; old ones are signed by the publisher when it sends them.
    outbox.appendAll([{ event: { carrier: 'acme', type: 'parcel.stored', data: { n: 9 } }, stamp: { id: '01NEW00000000000000000009', ts: 2000, clockSynced: true, bootId: 'boot-1' } }]);
    expect(outbox.row('c/acme', 9)?.wire).toBeInstanceOf(Buffer);
    const sent: { topic: string; payload: Buffer }[] = [];
    const channel: PublishChannel = { publish: (topic, payload, done) => (sent.push({ topic, payload }), done()) };
    const pub = new StreamPublisher({ outbox, signer: ed25519Signer(key.privateKey, 'k'), lockerId: 'L1', clock: new ManualClock(), logger: silentLogger(), inflightWindow: 10, retainAcked: 100 });
    pub.attach(channel);
    pub.flushSent();
    const published = sent.map((s) => {
      const v = verifyEnvelope(s.payload, [key.publicJwk], 'L1');
      if (!v.ok) throw new Error(v.reason);
      return [s.topic.includes('/c/acme/') ? 'acme' : s.topic.includes('/c/bolt/') ? 'bolt' : 'op', v.envelope.seq, v.envelope.data];
    });
    // acme resumes above its watermark (6 goes again: it was sent after a gap), op from 1, bolt has nothing to send.
    expect(published.filter((p) => p[0] === 'acme').map((p) => p[1])).toEqual([5, 6, 7, 8, 9]);
    expect(published.filter((p) => p[0] === 'op').map((p) => p[1])).toEqual([1, 2]);
    expect(published.some((p) => p[0] === 'bolt')).toBe(false);
    expect(outbox.backlog().map((b) => [b.stream, b.unsent])).toEqual([
      ['c/acme', 0],
      ['c/bolt', 0],
      ['op', 0],
    ]);
    db.close();
  });
});
