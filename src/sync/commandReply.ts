// The reply to a command, published on the `res` topic beside the `cmd` topic it came in on
// and signed like events. `id` is the command's jti (null when the token was unreadable);
// `ref` is a digest of the exact token, so a sender can match even a reply to garbage.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../../kernel/errors.js';

const codes = Object.values(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

export const CommandReply = z.object({
  v: z.literal(1),
  id: z.string().max(128).nullable(),
  ref: z.string().max(64),
  locker: z.string().max(64),
  cmd: z.string().max(64).nullable(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.object({ code: z.enum(codes), message: z.string().max(1000), context: z.record(z.string(), z.unknown()).optional() }).optional(),
  ts: z.number().int(),
});
export type CommandReply = z.infer<typeof CommandReply>;

export const SignedCommandReply = CommandReply.extend({ sig: z.string().min(10).max(400) });
export type SignedCommandReply = z.infer<typeof SignedCommandReply>;

/** base64url SHA-256 of the token bytes as received. */
export function tokenRef(payload: Uint8Array | string): string {
  return createHash('sha256').update(payload).digest('base64url');
}
