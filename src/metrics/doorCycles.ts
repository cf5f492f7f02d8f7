// Door cycles per compartment: how often each door opened and each latch was energised.
// Latches wear, and operators schedule maintenance from these counts, so they survive
// restarts (table door_cycles, migration 5). They are counted in memory and written in one
// small transaction with each health report and at shutdown, never per door: a power cut
// loses at most one health interval of counts, and a pickup costs no extra fsync.
import type { Db } from '../store/database.js';

export interface DoorCycleCount {
  opens: number;
  unlocks: number;
}

interface Row {
  compartment_id: string;
  opens: number;
  unlocks: number;
}

export class DoorCycles {
  private readonly stored = new Map<string, DoorCycleCount>();
  private readonly pending = new Map<string, DoorCycleCount>();
  private readonly upsert;

  constructor(private readonly db: Db) {
    for (const r of db.prepare<[], Row>('SELECT compartment_id, opens, unlocks FROM door_cycles').all()) this.stored.set(r.compartment_id, { opens: r.opens, unlocks: r.unlocks });
    this.upsert = db.prepare<[string, number, number, number]>(
      `INSERT INTO door_cycles (compartment_id, opens, unlocks, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (compartment_id) DO UPDATE SET opens = opens + excluded.opens, unlocks = unlocks + excluded.unlocks, updated_at = excluded.updated_at`,
    );
  }

  opened(compartment: string): void {
    this.bump(compartment).opens++;
  }

  unlocked(compartment: string): void {
    this.bump(compartment).unlocks++;
  }

  /** Stored plus not yet written counts of one compartment. */
  count(compartment: string): DoorCycleCount {
    const s = this.stored.get(compartment);
    const p = this.pending.get(compartment);
    return { opens: (s?.opens ?? 0) + (p?.opens ?? 0), unlocks: (s?.unlocks ?? 0) + (p?.unlocks ?? 0) };
  }

  /** Every compartment that has a count. */
  compartments(): string[] {
    return [...new Set([...this.stored.keys(), ...this.pending.keys()])].sort();
  }

  get dirty(): boolean {
    return this.pending.size > 0;
  }

  /** Writes the pending counts in their own transaction. */
  flush(now: number): void {
    if (this.pending.size === 0) return;
    this.db.transaction(() => this.writePending(now))();
    this.settle();
  }

  /**
   * Writes the pending counts inside the caller's transaction; call settle() once it committed
   * (synchronously, in the same turn: better-sqlite3 transactions do not interleave).
   */
  writePending(now: number): void {
    for (const [id, p] of this.pending) this.upsert.run(id, p.opens, p.unlocks, now);
  }

  settle(): void {
    for (const [id, p] of this.pending) {
      const s = this.stored.get(id) ?? { opens: 0, unlocks: 0 };
      this.stored.set(id, { opens: s.opens + p.opens, unlocks: s.unlocks + p.unlocks });
    }
    this.pending.clear();
  }

  private bump(compartment: string): DoorCycleCount {
    let p = this.pending.get(compartment);
    if (!p) {
      p = { opens: 0, unlocks: 0 };
      this.pending.set(compartment, p);
    }
    return p;
  }
}
