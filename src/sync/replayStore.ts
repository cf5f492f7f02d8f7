// The command replay store (table command_log): remembers every authenticated command by jti
// until it expires, with the reply it got, so a command runs at most once and a retry of the
// same token gets the same reply again. Only commands whose signature verified are recorded:
// an unauthenticated sender must not be able to burn someone else's jti.
import { z } from 'zod';
import type { Db } from '../store/database.js';
import { mapStoreError } from '../store/database.js';
import { CommandReply } from './commandReply.js';

/** What the `reply` column holds: the digest of the exact token, and the reply once there is one. */
const StoredEntry = z.object({
  digest: z.string(),
  reply: CommandReply.nullable(),
});

export type ReplayLookup =
  | { kind: 'unseen' }
  /** Same token as before: answer with the stored reply (null while the first run is still going). */
  | { kind: 'retry'; reply: CommandReply | null }
  /** Same jti, different token or issuer: a replay. */
  | { kind: 'replayed' };

export class ReplayStore {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      get: db.prepare<[string], { issuer: string; reply: string }>('SELECT issuer, reply FROM command_log WHERE jti = ?'),
      insert: db.prepare<[string, string, string, number, number, string]>(
        'INSERT INTO command_log (jti, issuer, cmd, received_at, expires_at, reply) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(jti) DO NOTHING',
      ),
      setReply: db.prepare<[string, string]>('UPDATE command_log SET reply = ? WHERE jti = ?'),
      prune: db.prepare<[number]>('DELETE FROM command_log WHERE expires_at < ?'),
      all: db.prepare<[], { jti: string; reply: string }>('SELECT jti, reply FROM command_log'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM command_log'),
    };
  }

  lookup(issuer: string, jti: string, digest: string): ReplayLookup {
    const row = this.stmts.get.get(jti);
    if (!row) return { kind: 'unseen' };
    const entry = this.parse(row.reply);
    if (row.issuer !== issuer || !entry || entry.digest !== digest) return { kind: 'replayed' };
    return { kind: 'retry', reply: entry.reply };
  }

  /**
   * Claims the jti before the command runs, so a crash mid-run can never lead to a second run.
   * Returns false when the jti was already taken.
   */
  claim(entry: { issuer: string; jti: string; cmd: string; digest: string; receivedAt: number; expiresAt: number }): boolean {
    try {
      const stored = JSON.stringify({ digest: entry.digest, reply: null });
      return this.stmts.insert.run(entry.jti, entry.issuer, entry.cmd, entry.receivedAt, entry.expiresAt, stored).changes === 1;
    } catch (e) {
      return mapStoreError(e);
    }
  }

  complete(jti: string, digest: string, reply: CommandReply): void {
    try {
      this.stmts.setReply.run(JSON.stringify({ digest, reply }), jti);
    } catch (e) {
      mapStoreError(e);
    }
  }

  /** Forgets commands whose expiry (plus the skew allowance, folded in by the caller) has passed. */
  prune(now: number): number {
    try {
      return this.stmts.prune.run(now).changes;
    } catch (e) {
      return mapStoreError(e);
    }
  }

  /**
   * After a restart, commands that were claimed but never finished get a definite reply: the
   * process stopped while they ran, so their outcome is unknown and they are not run again.
   */
  settleInterrupted(replyFor: (jti: string) => CommandReply): number {
    let settled = 0;
    try {
      this.db.transaction(() => {
        for (const row of this.stmts.all.all()) {
          const entry = this.parse(row.reply);
          if (entry && entry.reply === null) {
            this.stmts.setReply.run(JSON.stringify({ digest: entry.digest, reply: replyFor(row.jti) }), row.jti);
            settled++;
          }
        }
      })();
    } catch (e) {
      mapStoreError(e);
    }
    return settled;
  }

  size(): number {
    return this.stmts.count.get()?.n ?? 0;
  }

  private parse(text: string): z.infer<typeof StoredEntry> | undefined {
    try {
      const r = StoredEntry.safeParse(JSON.parse(text));
      return r.success ? r.data : undefined;
    } catch {
      return undefined;
    }
  }
}
