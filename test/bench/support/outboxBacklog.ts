// A locker's outbox after a long time without a broker: carrier events written the way the core
// writes them (Outbox.append inside store transactions, seq from streams.next_seq, each row
// signed and encoded at append when a sealer is given, as lockerd does),
// with the parcel lifecycle of the fleet simulator and real pickup-code JWEs in parcel.stored,
// into a database opened as lockerd opens it (WAL, synchronous=FULL). The file is checkpointed
// and closed, so each benchmark round can start from a copy of it.
import { type X25519PublicJwk } from '../../../src/config/schema.js';
import { SystemClock } from '../../../kernel/clock.js';
import { createIdFactory, newBootId } from '../../../src/ids.js';
import { seededRandom } from '../../../kernel/random.js';
import { openDatabase } from '../../../src/store/database.js';
import { LockerStore } from '../../../src/store/lockerStore.js';
import { Outbox, type OutboxSealer } from '../../../src/store/outbox.js';
import { ParcelEventSource, type CarrierEvent } from '../../../fleet/parcelEvents.js';

export interface BacklogSpec {
  file: string;
  events: number;
  carriers: readonly { id: string; encryptionKey: X25519PublicJwk }[];
  /** Rows per transaction while filling. */
  batch?: number;
  /** Signs each row at append (src/sync/envelope.ts envelopeSealer), as lockerd's outbox does. */
  sealer?: OutboxSealer;
}

export interface Backlog {
  events: number;
  perStream: Record<string, number>;
  /** Bytes of the data column (the event's own JSON) over all rows. */
  dataBytes: number;
}

export async function writeBacklog(spec: BacklogSpec): Promise<Backlog> {
  const clock = new SystemClock();
  const random = seededRandom('outbox-backlog');
  const newId = createIdFactory(clock, random);
  const bootId = newBootId(clock, random);
  const db = openDatabase(spec.file);
  const store = new LockerStore(db);
  const outbox = new Outbox(db, spec.sealer);
  const sources = spec.carriers.map(
    (c, i) => new ParcelEventSource({ carrier: c.id, carrierKey: c.encryptionKey, random, newId, now: () => clock.now(), waybillPrefix: `BL${i}-` }),
  );
  const perStream: Record<string, number> = {};
  let dataBytes = 0;
  const batch = spec.batch ?? 1000;
  // The backlog of a locker offline for a while: one event every few seconds, ending now.
  const start = clock.now() - spec.events * 3_000;
  try {
    for (let done = 0; done < spec.events; ) {
      const n = Math.min(batch, spec.events - done);
      // Events are built first (encryption is asynchronous), then written in one transaction.
      const built: { carrier: string; event: CarrierEvent; ts: number }[] = [];
      for (let i = 0; i < n; i++) {
        const k = (done + i) % sources.length;
        const source = sources[k];
        const carrier = spec.carriers[k];
        if (!source || !carrier) throw new Error('no carriers');
        built.push({ carrier: carrier.id, event: await source.next(), ts: start + (done + i) * 3_000 });
      }
      store.transaction(() => {
        for (const b of built) {
          const { stream } = outbox.append({ carrier: b.carrier, type: b.event.type, data: b.event.data }, { id: newId(), ts: b.ts, clockSynced: true, bootId });
          perStream[stream] = (perStream[stream] ?? 0) + 1;
          dataBytes += JSON.stringify(b.event.data).length;
        }
      });
      done += n;
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return { events: spec.events, perStream, dataBytes };
}

export interface CommitCost {
  commits: number;
  /** Median of one-event commits (synchronous=FULL, one fsync each), without and with the sealer, ms. */
  plainMs: number;
  sealedMs: number;
  /** Median time inside the sealer (build, canonical JSON, Ed25519, encode) per event, ms. */
  sealMs: number;
}

/**
 * What signing at append adds to a commit: one-event transactions (a parcel.stored with its
 * pickup-code JWE, plus the audit row, as a deposit commits) on a synchronous=FULL database,
 * alternating without and with the sealer.
 */
export async function measureCommitCost(file: string, carrier: { id: string; encryptionKey: X25519PublicJwk }, sealer: OutboxSealer, commits: number): Promise<CommitCost> {
  const clock = new SystemClock();
  const random = seededRandom('commit-cost');
  const newId = createIdFactory(clock, random);
  const db = openDatabase(file);
  const store = new LockerStore(db);
  const sealTimes: number[] = [];
  const timedSealer: OutboxSealer = (entry) => {
    const t0 = performance.now();
    try {
      return sealer(entry);
    } finally {
      sealTimes.push(performance.now() - t0);
    }
  };
  const plain = new Outbox(db);
  const sealed = new Outbox(db, timedSealer);
  const source = new ParcelEventSource({ carrier: carrier.id, carrierKey: carrier.encryptionKey, random, newId, now: () => clock.now(), waybillPrefix: 'CC-' });
  const times: { plain: number[]; sealed: number[] } = { plain: [], sealed: [] };
  try {
    for (let i = 0; i < commits * 2; i++) {
      const event = await source.next();
      const which = i % 2 === 0 ? 'plain' : 'sealed';
      const outbox = which === 'plain' ? plain : sealed;
      const t0 = performance.now();
      store.transaction(() => {
        store.audit(clock.now(), 'bench', 'deposit', null, {});
        outbox.append({ carrier: carrier.id, type: event.type, data: event.data }, { id: newId(), ts: clock.now(), clockSynced: true, bootId: 'bench' });
      });
      times[which].push(performance.now() - t0);
    }
  } finally {
    db.close();
  }
  const median = (v: number[]): number => {
    const s = [...v].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)] ?? Number.NaN;
  };
  return { commits, plainMs: median(times.plain), sealedMs: median(times.sealed), sealMs: median(sealTimes) };
}
