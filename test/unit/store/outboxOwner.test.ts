// store/outbox.ts is the one owner of the outbox tables: the recorder appends through the
// Outbox it is given, the stream name is computed in one place, and no other module of the
// runtime, the simulators or the test fixtures writes SQL against `outbox` or `streams`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { EventRecorder } from '../../../src/domain/eventRecorder.js';
import { openDatabase } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox } from '../../../src/store/outbox.js';
import { packageRoot } from '../../../src/packageRoot.js';
import { Events } from '../../../src/domain/events.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const TABLE_SQL = /\b(FROM|INTO|UPDATE|JOIN)\s+(outbox|streams)\b/i;
const STREAM_NAME = /['"`]c\/\$\{|=== null \? ['"]op['"]/;

describe('the outbox has one owner', () => {
  it('the recorder appends through the Outbox it is given, in the same transaction as the change', () => {
    const db = openDatabase(':memory:');
    const store = new LockerStore(db);
    const outbox = new Outbox(db);
    const clock = new ManualClock(1_000);
    let n = 0;
    const recorder = new EventRecorder(store, outbox, clock, () => `01ID${String(++n).padStart(22, '0')}`, 'boot-1', () => false);
    let woken = 0;
    recorder.onAppended(() => woken++);
    recorder.commit({ actor: 'system', action: 'test', events: [Events.parcelPickedUp('acme', { parcelId: 'p1', waybill: 'W1', compartment: 'A1', pickedUpAt: 1_000 }), Events.scannerReconnected({})] });
    expect(woken).toBe(1);
    expect(outbox.rows().map((r) => [r.stream, r.seq, r.type, r.ts, r.clockSynced, r.bootId])).toEqual([
      ['c/acme', 1, 'parcel.picked_up', 1_000, false, 'boot-1'],
      ['op', 1, 'alarm.scanner_reconnected', 1_000, false, 'boot-1'],
    ]);
    // A change that throws takes its events with it.
    expect(() =>
      recorder.commit({ actor: 'system', action: 'test', events: [Events.parcelExpired('acme', { parcelId: 'p2', waybill: 'W2', compartment: null })] }, () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(outbox.rows('c/acme').map((r) => r.seq)).toEqual([1]);
    expect(outbox.ackedUpTo('c/acme')).toBe(0);
    expect(outbox.ackUpTo('c/acme', 5, 2_000, 10)).toBe(1);
    expect(outbox.ackedUpTo('c/acme')).toBe(1);
  });

  it('no module but store/outbox.ts writes SQL against the outbox tables or builds stream names', () => {
    const root = packageRoot();
    const offenders: string[] = [];
    for (const dir of ['src', 'sim', 'hal', 'test/support', 'test/unit', 'test/integration', 'test/interop', 'test/security']) {
      for (const file of sources(join(root, dir))) {
        const rel = relative(root, file);
        // outboxMigration.test.ts writes rows in the schema before migration 6, which no module can.
        if (rel === join('src', 'store', 'outbox.ts') || rel === join('src', 'store', 'migrations.ts') || rel === join('test', 'unit', 'store', 'outboxOwner.test.ts') || rel === join('test', 'unit', 'store', 'outboxMigration.test.ts')) continue;
        const text = readFileSync(file, 'utf8');
        if (TABLE_SQL.test(text)) offenders.push(`${rel}: SQL on the outbox tables`);
        if (STREAM_NAME.test(text)) offenders.push(`${rel}: builds a stream name`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
