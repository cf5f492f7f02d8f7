// Signed commands from the operator and from carriers (DESIGN.md section 7). A command is a
// compact JWS (EdDSA only, typ lk-cmd+jwt) over the claims {iss, aud, iat, exp, jti, cmd, args}.
// Checks, in order, each refusal with its code (docs/protocol.md has the same table):
//   size (PAYLOAD_TOO_LARGE, before any parsing)
//   -> header: alg EdDSA (CMD_BAD_SIGNATURE, "none" included) and typ lk-cmd+jwt (CMD_MALFORMED)
//   -> shape and claims (CMD_MALFORMED) -> issuer provisioned (CMD_UNKNOWN_ISSUER)
//   -> kid, when given, provisioned for the issuer (CMD_UNKNOWN_KEY)
//   -> signature by one of its keys (CMD_BAD_SIGNATURE)
//   -> topic tenant equals issuer (CMD_WRONG_TENANT) -> aud is this locker (CMD_WRONG_AUDIENCE)
//   -> jti unseen (CMD_REPLAYED; the identical token again gets the stored reply)
//   -> now before exp, no skew (CMD_EXPIRED) -> iat at most the skew ahead (CMD_EXPIRED)
//   -> exp after iat (CMD_MALFORMED) -> exp - iat within the command's bound (CMD_LIFETIME_EXCEEDED)
//   -> known command (CMD_UNKNOWN) allowed for the tenant (CMD_FORBIDDEN)
//   -> arguments (CMD_MALFORMED) -> the operation itself (its own codes).
// Only a command that passed signature, tenant and audience claims its jti, so nobody can
// burn another issuer's jti. Every outcome is audited.
import { z } from 'zod';
import type { Clock } from '../../kernel/clock.js';
import { checkJwsHeader, verifyJws, commandJwsErrors } from '../crypto/jws.js';
import type { Db } from '../store/database.js';
import { LockerError, toLockerError, type ErrorCode } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';
import { commandTable, isCommandName, type HandlerDeps, type SyncControl } from './commandHandlers.js';
import { tokenRef, type CommandReply } from './commandReply.js';
import type { IssuerDirectory, LockerOperations, CommandActor } from '../domain/lockerOperations.js';
import { ReplayStore } from './replayStore.js';
import { parseTopic, type Tenant } from './topics.js';

export const COMMAND_TYP = 'lk-cmd+jwt';

export const CommandClaims = z.object({
  iss: z.string().min(1).max(64),
  aud: z.string().min(1).max(64),
  iat: z.number().int().nonnegative(),
  exp: z.number().int().positive(),
  jti: z.string().regex(/^[\x21-\x7E]{8,128}$/, '8 to 128 printable ASCII characters'),
  cmd: z.string().regex(/^[A-Za-z][A-Za-z0-9.]{0,63}$/),
  args: z.record(z.string(), z.unknown()).default({}),
});
export type CommandClaims = z.infer<typeof CommandClaims>;

export interface CommandAudit {
  record(entry: { ts: number; actor: string; action: 'command.accepted' | 'command.refused' | 'command.failed'; subject: string | null; data: Record<string, unknown> }): void;
}

/** Writes command outcomes into the audit table beside the core's own records. */
export function sqliteCommandAudit(db: Db): CommandAudit {
  const insert = db.prepare<[number, string, string, string | null, string]>('INSERT INTO audit (ts, actor, action, subject, data) VALUES (?, ?, ?, ?, ?)');
  return { record: (e) => insert.run(e.ts, e.actor, e.action, e.subject, JSON.stringify(e.data)) };
}

export interface CommandProcessorOptions {
  lockerId: string;
  db: Db;
  clock: Clock;
  logger: Logger;
  issuers: IssuerDirectory;
  operations: LockerOperations;
  control: SyncControl;
  audit?: CommandAudit;
  /** Allowed disagreement between the sender's clock and ours. */
  clockSkewMs?: number;
  /** Payloads longer than this are refused unread. */
  maxBytes?: number;
  /** Commands may not live longer than this, exp - iat (the replay store keeps each jti that long). */
  maxLifetimeMs?: number;
  /** The bound for commands that open a door (remoteOpen). */
  remoteOpenMaxMs?: number;
  /** The bound for badge revocations: they must still reach a locker that was offline for a while. */
  revocationMaxMs?: number;
  /** The bound for update commands: a fleet rollout must still reach a locker that was offline. */
  updateMaxMs?: number;
}

export const COMMAND_DEFAULTS = {
  clockSkewMs: 30_000,
  maxBytes: 64 * 1024,
  maxLifetimeMs: 10 * 60_000,
  remoteOpenMaxMs: 120_000,
  revocationMaxMs: 24 * 3_600_000,
  updateMaxMs: 24 * 3_600_000,
} as const;

export class CommandProcessor {
  private readonly store: ReplayStore;
  private readonly audit: CommandAudit;
  private readonly log: Logger;
  private readonly o: Required<Omit<CommandProcessorOptions, 'audit'>>;

  constructor(options: CommandProcessorOptions) {
    this.o = { ...COMMAND_DEFAULTS, ...options } as Required<Omit<CommandProcessorOptions, 'audit'>>;
    this.store = new ReplayStore(options.db);
    this.audit = options.audit ?? sqliteCommandAudit(options.db);
    this.log = options.logger.child({ channel: 'commands' });
    // Commands that were running when the process stopped must not run again on a retry.
    const settled = this.store.settleInterrupted((jti) => ({
      ...this.base(jti, 'unknown', null),
      ok: false,
      error: { code: 'CMD_FAILED', message: 'the locker restarted while this command ran; its outcome is unknown, it was not run again' },
    }));
    if (settled > 0) this.log.warn({ settled }, 'commands interrupted by a restart were settled as failed');
  }

  /**
   * Handles one message from a cmd topic. Returns the reply to publish on the matching res
   * topic, or null when the same token is still running (its reply will follow).
   */
  async handle(topic: string, payload: Uint8Array): Promise<CommandReply | null> {
    const ref = tokenRef(payload);
    const parsedTopic = parseTopic(topic);
    if (!parsedTopic || parsedTopic.leaf !== 'cmd' || parsedTopic.locker !== this.o.lockerId) {
      // The subscriptions make this impossible; a broker that misroutes gets no answer.
      this.log.warn({ topic }, 'message on an unexpected command topic ignored');
      return null;
    }
    const tenant = parsedTopic.tenant;
    const now = this.o.clock.now();
    this.store.prune(now);

    if (payload.byteLength > this.o.maxBytes) {
      return this.refuse(tenant, ref, null, null, null, 'PAYLOAD_TOO_LARGE', `command larger than ${this.o.maxBytes} bytes`, { bytes: payload.byteLength });
    }
    const token = Buffer.from(payload).toString('utf8').trim();
    const decoded = decodeClaims(token);
    // The header first: an unsigned token ("alg": "none") is a bad signature, whatever its claims.
    try {
      checkJwsHeader(token, { errors: commandJwsErrors, label: 'command', maxLength: this.o.maxBytes, typ: COMMAND_TYP, typRequired: true });
    } catch (e) {
      const err = toLockerError(e, 'CMD_MALFORMED');
      const ids = decoded.ok ? { jti: decoded.claims.jti, cmd: decoded.claims.cmd, iss: decoded.claims.iss } : { jti: decoded.jti, cmd: decoded.cmd, iss: null };
      return this.refuse(tenant, ref, ids.jti, ids.cmd, ids.iss, err.code, err.detail, err.context);
    }
    if (!decoded.ok) return this.refuse(tenant, ref, decoded.jti, decoded.cmd, null, 'CMD_MALFORMED', decoded.message);
    const claims = decoded.claims;
    const cmdName = claims.cmd;

    const issuer = this.o.issuers.issuer(claims.iss);
    if (!issuer || issuer.signingKeys.length === 0) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_UNKNOWN_ISSUER', `issuer "${claims.iss}" is not provisioned on this locker`);
    }
    try {
      await verifyJws(token, issuer.signingKeys, { errors: commandJwsErrors, label: 'command', maxLength: this.o.maxBytes, typ: COMMAND_TYP, typRequired: true });
    } catch (e) {
      const err = toLockerError(e, 'CMD_BAD_SIGNATURE');
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, err.code, err.detail, { ...err.context, issuer: clip(claims.iss) });
    }
    const actor: CommandActor = { kind: issuer.kind, id: claims.iss, commandId: claims.jti };

    const tenantOk = tenant.kind === 'operator' ? issuer.kind === 'operator' : issuer.kind === 'carrier' && tenant.carrier === claims.iss;
    if (!tenantOk) {
      const where = tenant.kind === 'operator' ? 'the operator topic' : `carrier "${tenant.carrier}"'s topic`;
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_WRONG_TENANT', `issuer "${claims.iss}" may not command on ${where}`);
    }
    if (claims.aud !== this.o.lockerId) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_WRONG_AUDIENCE', `addressed to "${claims.aud}", this is "${this.o.lockerId}"`);
    }

    const seen = this.store.lookup(claims.iss, claims.jti, ref);
    if (seen.kind === 'retry') {
      this.log.info({ jti: claims.jti, cmd: cmdName }, 'retried command answered from the replay store');
      return seen.reply;
    }
    if (seen.kind === 'replayed') {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_REPLAYED', `jti "${claims.jti}" was already used`);
    }

    const expMs = claims.exp * 1000;
    const iatMs = claims.iat * 1000;
    // The skew allowance is for the sender's iat only: exp is a hard end, as the spec says.
    if (now >= expMs) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_EXPIRED', `expired ${Math.round((now - expMs) / 1000)} s ago`, { reason: 'expired' });
    }
    if (iatMs > now + this.o.clockSkewMs) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_EXPIRED', 'issued in the future: check the clocks of the sender and the locker', {
        reason: 'issued_in_future',
        skewS: Math.round(this.o.clockSkewMs / 1000),
      });
    }
    if (expMs <= iatMs) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_MALFORMED', 'exp must be after iat');
    }
    const maxLifetimeMs = this.lifetimeBoundMs(cmdName);
    if (expMs - iatMs > maxLifetimeMs) {
      return this.refuse(tenant, ref, claims.jti, cmdName, claims.iss, 'CMD_LIFETIME_EXCEEDED', `"${clip(cmdName)}" may live at most ${Math.round(maxLifetimeMs / 1000)} s (exp - iat)`, {
        maxLifetimeS: Math.round(maxLifetimeMs / 1000),
        lifetimeS: Math.round((expMs - iatMs) / 1000),
      });
    }

    // From here on the command is authentic and fresh: its jti is consumed whatever happens next.
    const claimed = this.store.claim({ issuer: claims.iss, jti: claims.jti, cmd: cmdName, digest: ref, receivedAt: now, expiresAt: expMs + this.o.clockSkewMs });
    if (!claimed) return null;

    let reply: CommandReply;
    if (!isCommandName(cmdName)) {
      reply = this.failure(claims.jti, ref, cmdName, 'CMD_UNKNOWN', `no command "${cmdName}"`);
    } else if (commandTable[cmdName].scope !== issuer.kind) {
      reply = this.failure(claims.jti, ref, cmdName, 'CMD_FORBIDDEN', `"${cmdName}" is an ${commandTable[cmdName].scope} command`);
    } else {
      const deps: HandlerDeps = { operations: this.o.operations, control: this.o.control, remoteOpenMaxMs: this.o.remoteOpenMaxMs };
      try {
        const result = await commandTable[cmdName].execute(claims.args, { actor, expiresInMs: expMs - now, lifetimeMs: expMs - iatMs }, deps);
        reply = { ...this.base(claims.jti, ref, cmdName), ok: true, result: result ?? null };
      } catch (e) {
        const err = toLockerError(e, 'CMD_FAILED');
        if (!(e instanceof LockerError)) this.log.error({ err: e, jti: claims.jti, cmd: cmdName }, 'command failed unexpectedly');
        reply = this.failure(claims.jti, ref, cmdName, err.code, err.detail, err.context);
      }
    }
    this.store.complete(claims.jti, ref, reply);
    this.audit.record({
      ts: this.o.clock.now(),
      actor: `${issuer.kind}:${claims.iss}`,
      action: reply.ok ? 'command.accepted' : 'command.failed',
      subject: cmdName,
      data: { jti: claims.jti, ...(reply.error ? { code: reply.error.code } : {}) },
    });
    this.log.info({ jti: claims.jti, cmd: cmdName, issuer: claims.iss, ok: reply.ok, code: reply.error?.code }, 'command handled');
    return reply;
  }

  /** exp - iat allowed for a command: short for door commands, longer for revocations. */
  private lifetimeBoundMs(cmd: string): number {
    const lifetime = isCommandName(cmd) ? commandTable[cmd].lifetime : 'command';
    if (lifetime === 'door') return Math.min(this.o.remoteOpenMaxMs, this.o.maxLifetimeMs);
    if (lifetime === 'revocation') return Math.max(this.o.revocationMaxMs, this.o.maxLifetimeMs);
    if (lifetime === 'update') return Math.max(this.o.updateMaxMs, this.o.maxLifetimeMs);
    return this.o.maxLifetimeMs;
  }

  private base(jti: string | null, ref: string, cmd: string | null): Omit<CommandReply, 'ok'> {
    return { v: 1, id: jti, ref, locker: this.o.lockerId, cmd, ts: this.o.clock.now() };
  }

  private failure(jti: string | null, ref: string, cmd: string | null, code: ErrorCode, message: string, context?: Record<string, unknown>): CommandReply {
    const error = context && Object.keys(context).length > 0 ? { code, message, context } : { code, message };
    return { ...this.base(jti, ref, cmd), ok: false, error };
  }

  private refuse(
    tenant: Tenant,
    ref: string,
    jti: string | null,
    cmd: string | null,
    claimedIssuer: string | null,
    code: ErrorCode,
    message: string,
    context?: Record<string, unknown>,
  ): CommandReply {
    const topicTenant = tenant.kind === 'operator' ? 'operator' : `carrier:${tenant.carrier}`;
    this.audit.record({
      ts: this.o.clock.now(),
      // The issuer is unverified at this point: recorded as claimed, beside the topic it came on.
      actor: claimedIssuer === null ? `unknown@${topicTenant}` : `claimed:${clip(claimedIssuer)}@${topicTenant}`,
      action: 'command.refused',
      subject: cmd === null ? null : clip(cmd),
      data: { code, ref, ...(jti !== null ? { jti: clip(jti) } : {}) },
    });
    this.log.warn({ code, jti, cmd, topicTenant }, 'command refused');
    return this.failure(jti === null ? null : clip(jti, 128), ref, cmd === null ? null : clip(cmd), code, message, context);
  }
}

type Decoded = { ok: true; claims: CommandClaims } | { ok: false; message: string; jti: string | null; cmd: string | null };

/** Reads the claims without trusting them, to know whose keys to try and what to answer. */
function decodeClaims(token: string): Decoded {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return { ok: false, message: 'not a compact JWS', jti: null, cmd: null };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return { ok: false, message: 'the payload is not JSON', jti: null, cmd: null };
  }
  const parsed = CommandClaims.safeParse(json);
  if (parsed.success) return { ok: true, claims: parsed.data };
  const loose = (typeof json === 'object' && json !== null ? json : {}) as { jti?: unknown; cmd?: unknown };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    message: `claims invalid: ${issue ? `${issue.path.map(String).join('.') || '(claims)'}: ${issue.message}` : 'unreadable'}`,
    jti: typeof loose.jti === 'string' ? loose.jti : null,
    cmd: typeof loose.cmd === 'string' ? loose.cmd : null,
  };
}

function clip(s: string, max = 64): string {
  return s.length > max ? s.slice(0, max) : s;
}
