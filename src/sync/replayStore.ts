// The command replay store (table command_log): remembers every authenticated command by jti
// until it expires, with the reply it got, so a command runs at most once and a retry of the
// same token gets the same reply again. Only commands whose signature verified are recorded:
// an unauthenticated sender must not be able to burn someone else's jti.
//
// Bounded (issue 7, finding 12): a row holds a digest of the jti (not the jti), the expiry and
// a reply of at most MAX_STORED_REPLY_BYTES (a larger result is replaced by a note: the
// commands with big results are read-only, a fresh command reads again). Each issuer may hold
// at most quotaPerIssuer live rows; past that, claim() throws CMD_RATE_LIMITED and the command
// does not run. Rows go when their expiry passes, and the verifier bounds expiry by the
// maximum command lifetime, so retention follows that lifetime.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LockerError } from '../../kernel/errors.js';
import type { Db } from '../store/database.js';
import { mapStoreError } from '../store/database.js';
import { CommandReply } from './commandReply.js';

/** What the `reply` column holds: the digest of the exact token, the jti while it runs, and the reply once there is one. */
const StoredEntry = z.object({
  digest: z.string(),
  jti: z.string().max(128).optional(),
  reply: CommandReply.nullable(),
});

export const MAX_STORED_REPLY_BYTES = 1024;
export const REPLAY_QUOTA_PER_ISSUER = 1_000;

export type ReplayLookup =
  | { kind: 'unseen' }
  /** Same token as before: answer with the stored reply (null while the first run is still going). */
  | { kind: 'retry'; reply: CommandReply | null }
  /** Same jti, different token or issuer: a replay. */
  | { kind: 'replayed' };

/** The row key of a jti: base64url SHA-256, 43 characters whatever the jti's length. */
export function jtiKey(jti: string): string {
  return createHash('sha256').update(jti).digest('base64url');
}

/** The reply as stored: the same reply when small, else the same outcome without the bulky parts. */
export function compactReply(reply: CommandReply): CommandReply {
  if (Buffer.byteLength(JSON.stringify(reply)) <= MAX_STORED_REPLY_BYTES) return reply;
  const { result: _result, error, ...rest } = reply;
  const small: CommandReply = {
    ...rest,
    ...(reply.ok ? { result: { omitted: true, note: 'the result was too large to keep for retries; send a new command to read it again' } } : {}),
    ...(error ? { error: { code: error.code, message: error.message.slice(0, 300) } } : {}),
  };
  return small;
}

export interface ReplayStoreOptions {
  /** Live rows one issuer may hold. */
  quotaPerIssuer?: number;
}

export class ReplayStore {
  private readonly stmts;

  private readonly quotaPerIssuer: number;

  constructor(
    private readonly db: Db,
    options: ReplayStoreOptions = {},
  ) {
    this.quotaPerIssuer = options.quotaPerIssuer ?? REPLAY_QUOTA_PER_ISSUER;
    this.stmts = {
      // Rows written before jtis were digested carry the raw jti: both are looked up.
      get: db.prepare<[string, string], { issuer: string; reply: string }>('SELECT issuer, reply FROM command_log WHERE jti IN (?, ?) LIMIT 1'),
      live: db.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM command_log WHERE issuer = ? AND expires_at >= ?'),
      insert: db.prepare<[string, string, string, number, number, string]>(
        'INSERT INTO command_log (jti, issuer, cmd, received_at, expires_at, reply) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(jti) DO NOTHING',
      ),
      setReply: db.prepare<[string, string]>('UPDATE command_log SET reply = ? WHERE jti = ?'),
      prune: db.prepare<[number]>('DELETE FROM command_log WHERE expires_at < ?'),
      // Only the rows still without a reply, through the partial index command_log_unsettled
      // (migration 6): a restart reads the few commands that were running, not every row kept.
      unsettled: db.prepare<[], { jti: string; reply: string }>(`SELECT jti, reply FROM command_log INDEXED BY command_log_unsettled WHERE substr(reply, -13) = '"reply":null}'`),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM command_log'),
    };
  }

  lookup(issuer: string, jti: string, digest: string): ReplayLookup {
    const row = this.stmts.get.get(jtiKey(jti), jti);
    if (!row) return { kind: 'unseen' };
    const entry = this.parse(row.reply);
    if (row.issuer !== issuer || !entry || entry.digest !== digest) return { kind: 'replayed' };
    return { kind: 'retry', reply: entry.reply };
  }

  /**
   * Claims the jti before the command runs, so a crash mid-run can never lead to a second run.
   * Returns false when the jti was already taken; throws CMD_RATE_LIMITED (nothing stored)
   * when the issuer already holds its quota of live rows.
   */
  claim(entry: { issuer: string; jti: string; cmd: string; digest: string; receivedAt: number; expiresAt: number }): boolean {
    let live: number;
    try {
      live = this.stmts.live.get(entry.issuer, entry.receivedAt)?.n ?? 0;
    } catch (e) {
      return mapStoreError(e);
    }
    if (live >= this.quotaPerIssuer) {
      throw new LockerError('CMD_RATE_LIMITED', `the issuer holds ${this.quotaPerIssuer} live commands, the most this locker keeps`, { reason: 'quota' });
    }
    try {
      const stored = JSON.stringify({ digest: entry.digest, jti: entry.jti, reply: null });
      return this.stmts.insert.run(jtiKey(entry.jti), entry.issuer, entry.cmd.slice(0, 64), entry.receivedAt, entry.expiresAt, stored).changes === 1;
    } catch (e) {
      return mapStoreError(e);
    }
  }

  complete(jti: string, digest: string, reply: CommandReply): void {
    try {
      this.stmts.setReply.run(JSON.stringify({ digest, reply: compactReply(reply) }), jtiKey(jti));
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
   * Reads only those rows (a partial index), so the pass costs nothing with 100k rows kept.
   */
  settleInterrupted(replyFor: (jti: string) => CommandReply): number {
    let settled = 0;
    try {
      this.db.transaction(() => {
        for (const row of this.stmts.unsettled.all()) {
          const entry = this.parse(row.reply);
          if (entry && entry.reply === null) {
            this.stmts.setReply.run(JSON.stringify({ digest: entry.digest, reply: compactReply(replyFor(entry.jti ?? row.jti)) }), row.jti);
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

  /** Live rows of one issuer at time now (what the quota counts). */
  liveOf(issuer: string, now: number): number {
    return this.stmts.live.get(issuer, now)?.n ?? 0;
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
