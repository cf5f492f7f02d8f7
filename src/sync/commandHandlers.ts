// The command table: for each command name, who may send it (the operator or a carrier), the
// zod schema of its arguments and the call into LockerOperations or the sync layer. Carrier
// commands always pass the verified issuer as the carrier, never a carrier named in the args.
import type { z } from 'zod';
import { LockerError } from '../../kernel/errors.js';
import {
  CancelReservationArgs,
  CreateReservationArgs,
  NoArgs,
  RemoveCarrierArgs,
  ReplayArgs,
  SetCompartmentServiceArgs,
  SetConfigArgs,
  SetLayoutArgs,
  UpsertCarrierArgs,
  RemoteOpenArgs,
  OperatorRevokeBadgeArgs,
  CarrierRevokeBadgeArgs,
  UpdateArgs,
  type CommandActor,
  type LockerOperations,
  type ReportedConfig,
} from '../domain/lockerOperations.js';

/** What the sync layer itself answers: presence, replays, the reported configuration. */
export interface SyncControl {
  /** Publishes the retained presence birth (and reported config) again. */
  rebirth(): Promise<void>;
  /** Rewinds the publisher of one stream (carrier, or null for the operator stream). */
  replay(carrier: string | null, fromSeq: number): ReplayOutcome;
  /** Publishes the configuration in force, retained, on .../cfg. */
  reportConfig(report: ReportedConfig): Promise<void>;
}

export interface ReplayOutcome {
  /** The first seq that will be sent again (raised to the oldest retained row). */
  fromSeq: number;
  /** The last seq of the stream when the replay was asked for; 0 when it is empty. */
  lastSeq: number;
  /** true when rows before fromSeq that were asked for are gone (pruned after acknowledgement). */
  truncated: boolean;
}

export interface CommandContext {
  actor: CommandActor;
  /** Milliseconds until the command's exp, as seen by the locker. */
  expiresInMs: number;
  /** exp - iat in ms: the lifetime the sender gave the command. */
  lifetimeMs: number;
}

export interface HandlerDeps {
  operations: LockerOperations;
  control: SyncControl;
  /** Largest lifetime (and time left) a remote open may carry. */
  remoteOpenMaxMs: number;
}

/**
 * Which lifetime bound (exp - iat) the verifier applies: 'command' the general one (10 min),
 * 'door' the short one for commands that open a door, 'revocation' a longer one so a
 * revocation still reaches a locker that was offline for a while, 'update' a longer one so a
 * fleet rollout still reaches lockers that are offline when it is sent (an update installs only
 * a release signed by the release key and newer than the one that runs, so an old token is harmless).
 */
export type CommandLifetime = 'command' | 'door' | 'revocation' | 'update';

interface CommandSpec<S extends z.ZodType> {
  scope: 'operator' | 'carrier';
  lifetime?: CommandLifetime;
  args: S;
  run(args: z.infer<S>, ctx: CommandContext, deps: HandlerDeps): Promise<unknown>;
}

/** A command with its argument type erased: arguments are parsed inside execute. */
export interface CommandHandler {
  scope: 'operator' | 'carrier';
  lifetime: CommandLifetime;
  /** Parses args (CMD_MALFORMED with every issue when they do not fit) and runs the command. */
  execute(rawArgs: unknown, ctx: CommandContext, deps: HandlerDeps): Promise<unknown>;
}

function spec<S extends z.ZodType>(s: CommandSpec<S>): CommandHandler {
  return {
    scope: s.scope,
    lifetime: s.lifetime ?? 'command',
    execute: (rawArgs, ctx, deps) => {
      const parsed = s.args.safeParse(rawArgs);
      if (!parsed.success) {
        const issues = parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
        return Promise.reject(new LockerError('CMD_MALFORMED', `invalid arguments: ${issues.map((i) => `${i.path || '(args)'}: ${i.message}`).join('; ')}`, { issues }));
      }
      return s.run(parsed.data, ctx, deps);
    },
  };
}

export const commandTable = {
  // ---- operator ----
  setLayout: spec({
    scope: 'operator',
    args: SetLayoutArgs,
    run: (args, ctx, d) => d.operations.setLayout(args, ctx.actor),
  }),
  upsertCarrier: spec({
    scope: 'operator',
    args: UpsertCarrierArgs,
    run: (args, ctx, d) => d.operations.upsertCarrier(args, ctx.actor),
  }),
  removeCarrier: spec({
    scope: 'operator',
    args: RemoveCarrierArgs,
    run: (args, ctx, d) => d.operations.removeCarrier(args.carrier, ctx.actor),
  }),
  setConfig: spec({
    scope: 'operator',
    args: SetConfigArgs,
    run: async (args, ctx, d) => {
      const report = await d.operations.setConfig(args, ctx.actor);
      await d.control.reportConfig(report);
      return report;
    },
  }),
  setCompartmentService: spec({
    scope: 'operator',
    args: SetCompartmentServiceArgs,
    run: (args, ctx, d) => d.operations.setCompartmentService(args, ctx.actor),
  }),
  remoteOpen: spec({
    scope: 'operator',
    lifetime: 'door',
    args: RemoteOpenArgs,
    run: (args, ctx, d) => {
      // A door opened from afar must be a decision of the moment, not a token that lies around.
      // The verifier already bounds exp - iat; this also bounds the time left (iat may be ahead).
      if (ctx.lifetimeMs > d.remoteOpenMaxMs || ctx.expiresInMs > d.remoteOpenMaxMs) {
        throw new LockerError('CMD_LIFETIME_EXCEEDED', `remoteOpen needs exp within ${Math.round(d.remoteOpenMaxMs / 1000)} s of iat and of now`, {
          maxLifetimeS: Math.round(d.remoteOpenMaxMs / 1000),
        });
      }
      return d.operations.remoteOpen({ ...args, operatorId: ctx.actor.id }, ctx.actor);
    },
  }),
  inventory: spec({ scope: 'operator', args: NoArgs, run: (_a, _c, d) => d.operations.inventory() }),
  diagnostics: spec({ scope: 'operator', args: NoArgs, run: (_a, _c, d) => d.operations.diagnostics() }),
  rebirth: spec({
    scope: 'operator',
    args: NoArgs,
    run: async (_a, _c, d) => {
      await d.control.rebirth();
      return { republished: true };
    },
  }),
  replayOperator: spec({
    scope: 'operator',
    args: ReplayArgs,
    run: (args, _c, d) => Promise.resolve(d.control.replay(null, args.fromSeq)),
  }),
  /** Revokes any badge: a carrier's courier badges or the operator's own, by badge id or by subject. */
  revokeBadge: spec({
    scope: 'operator',
    lifetime: 'revocation',
    args: OperatorRevokeBadgeArgs,
    run: (args, ctx, d) => d.operations.revokeBadge(args, ctx.actor),
  }),

  /** Installs a signed release (src/update/): the reply comes once it is downloaded and verified. */
  update: spec({
    scope: 'operator',
    lifetime: 'update',
    args: UpdateArgs,
    run: (args, ctx, d) => d.operations.update(args, ctx.actor),
  }),

  // ---- carrier (scoped to the issuing carrier) ----
  createReservation: spec({
    scope: 'carrier',
    args: CreateReservationArgs,
    run: (args, ctx, d) => d.operations.createReservation(ctx.actor.id, args, ctx.actor),
  }),
  cancelReservation: spec({
    scope: 'carrier',
    args: CancelReservationArgs,
    run: (args, ctx, d) => d.operations.cancelReservation(ctx.actor.id, args.waybill, ctx.actor),
  }),
  listParcels: spec({
    scope: 'carrier',
    args: NoArgs,
    run: async (_a, ctx, d) => {
      // Defence in depth: even if the core slipped, another carrier's parcel never leaves here.
      const parcels = await d.operations.listParcels(ctx.actor.id);
      return { parcels: parcels.filter((p) => p.carrier === ctx.actor.id) };
    },
  }),
  replay: spec({
    scope: 'carrier',
    args: ReplayArgs,
    run: (args, ctx, d) => Promise.resolve(d.control.replay(ctx.actor.id, args.fromSeq)),
  }),
  /** Revokes one of this carrier's own courier badges; the issuer is always the verified carrier. */
  revokeCourierBadge: spec({
    scope: 'carrier',
    lifetime: 'revocation',
    args: CarrierRevokeBadgeArgs,
    run: (args, ctx, d) => {
      if (args.issuer !== undefined && args.issuer !== ctx.actor.id) {
        throw new LockerError('CMD_FORBIDDEN', `carrier "${ctx.actor.id}" may revoke only its own badges`, { issuer: args.issuer });
      }
      return d.operations.revokeBadge({ ...args, issuer: ctx.actor.id }, ctx.actor);
    },
  }),
} satisfies Record<string, CommandHandler>;

export type CommandName = keyof typeof commandTable;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(commandTable, name);
}
