// The parcel_groups and parcel_group_members tables (migration 11): parcels a carrier grouped
// for one recipient (issue 11, flow 2) and the group's one pickup code, as an HMAC digest.
// Writers run inside the EventRecorder's transaction.
import { type Db } from './database.js';

export interface GroupRef {
  carrier: string;
  group: string;
}

/** A group holds at most this many parcels (a stranger-reachable count stays bounded). */
export const MAX_GROUP_MEMBERS = 20;

export class ParcelGroupStore {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      join: db.prepare<[string, string, string]>('INSERT INTO parcel_group_members (parcel_id, carrier, group_id) VALUES (?, ?, ?)'),
      groupOf: db.prepare<[string], { carrier: string; group_id: string }>('SELECT carrier, group_id FROM parcel_group_members WHERE parcel_id = ?'),
      byDigest: db.prepare<[string], { carrier: string; group_id: string }>('SELECT carrier, group_id FROM parcel_groups WHERE code_digest = ?'),
      digest: db.prepare<[string, string], { code_digest: string }>('SELECT code_digest FROM parcel_groups WHERE carrier = ? AND group_id = ?'),
      create: db.prepare<[string, string, string, number]>('INSERT OR REPLACE INTO parcel_groups (carrier, group_id, code_digest, created_at) VALUES (?, ?, ?, ?)'),
      // Members still at the locker, in the order they were stored (announced ones last).
      members: db.prepare<[string, string], { parcel_id: string }>(
        `SELECT m.parcel_id FROM parcel_group_members m JOIN parcels p ON p.id = m.parcel_id
         WHERE m.carrier = ? AND m.group_id = ? ORDER BY p.stored_at IS NULL, p.stored_at, p.id LIMIT ${MAX_GROUP_MEMBERS * 2}`,
      ),
      live: db.prepare<[], { n: number }>(
        `SELECT COUNT(*) AS n FROM parcel_groups g WHERE EXISTS (
           SELECT 1 FROM parcel_group_members m JOIN parcels p ON p.id = m.parcel_id
           WHERE m.carrier = g.carrier AND m.group_id = g.group_id AND p.state IN ('stored','expired'))`,
      ),
      count: db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM parcel_group_members WHERE carrier = ? AND group_id = ?'),
      // A group none of whose members is still live, older than `before`, is forgotten.
      prune: db.prepare<[number]>(
        `DELETE FROM parcel_groups WHERE created_at < ? AND NOT EXISTS (
           SELECT 1 FROM parcel_group_members m JOIN parcels p ON p.id = m.parcel_id
           WHERE m.carrier = parcel_groups.carrier AND m.group_id = parcel_groups.group_id AND p.state IN ('announced','stored','expired'))`,
      ),
      pruneMembers: db.prepare('DELETE FROM parcel_group_members WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE p.id = parcel_group_members.parcel_id)'),
      // The retention job's bounded versions of the two rules above (src/store/retention.ts).
      pruneSpentBatch: db.prepare<[number, number]>(
        `DELETE FROM parcel_groups WHERE rowid IN (SELECT g.rowid FROM parcel_groups g WHERE g.created_at < ? AND NOT EXISTS (
           SELECT 1 FROM parcel_group_members m JOIN parcels p ON p.id = m.parcel_id
           WHERE m.carrier = g.carrier AND m.group_id = g.group_id AND p.state IN ('announced','stored','expired')) LIMIT ?)`,
      ),
      pruneMembersBatch: db.prepare<[number]>(
        'DELETE FROM parcel_group_members WHERE rowid IN (SELECT m.rowid FROM parcel_group_members m WHERE NOT EXISTS (SELECT 1 FROM parcels p WHERE p.id = m.parcel_id) LIMIT ?)',
      ),
    };
  }

  join(parcelId: string, g: GroupRef): void {
    this.stmts.join.run(parcelId, g.carrier, g.group);
  }

  groupOf(parcelId: string): GroupRef | undefined {
    const r = this.stmts.groupOf.get(parcelId);
    return r ? { carrier: r.carrier, group: r.group_id } : undefined;
  }

  byDigest(digest: string): GroupRef | undefined {
    const r = this.stmts.byDigest.get(digest);
    return r ? { carrier: r.carrier, group: r.group_id } : undefined;
  }

  digestOf(g: GroupRef): string | undefined {
    return this.stmts.digest.get(g.carrier, g.group)?.code_digest;
  }

  /** Records the group's code digest (the first member stored); forgets groups long gone. */
  create(g: GroupRef, digest: string, now: number, forgetBefore: number): void {
    this.stmts.prune.run(forgetBefore);
    this.stmts.pruneMembers.run();
    this.stmts.create.run(g.carrier, g.group, digest, now);
  }

  /**
   * Retention: deletes up to `limit` groups created before `before` none of whose members is
   * still at the locker or announced (a live group keeps its code whatever its age).
   */
  pruneSpentGroups(before: number, limit: number): number {
    return this.stmts.pruneSpentBatch.run(before, limit).changes;
  }

  /** Retention: deletes up to `limit` member rows whose parcel has been pruned. */
  pruneOrphanMembers(limit: number): number {
    return this.stmts.pruneMembersBatch.run(limit).changes;
  }

  memberIds(g: GroupRef): string[] {
    return this.stmts.members.all(g.carrier, g.group).map((r) => r.parcel_id);
  }

  /** Group codes that still open a member's door (each counts once toward codes.maxLiveCodes). */
  liveCount(): number {
    return this.stmts.live.get()?.n ?? 0;
  }

  size(g: GroupRef): number {
    return this.stmts.count.get(g.carrier, g.group)?.n ?? 0;
  }
}
