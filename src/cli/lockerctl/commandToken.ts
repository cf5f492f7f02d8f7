// Builds signed commands: the compact JWS (EdDSA, typ lk-cmd+jwt) that the locker's
// CommandProcessor verifies. Time and ids are injected so tests get stable tokens.
import type { CryptoKey } from 'jose';
import type { Clock } from '../../../kernel/clock.js';
import { signJwt } from '../../crypto/jws.js';
import type { IdFactory } from '../../ids.js';
import { COMMAND_TYP } from '../../sync/commands.js';
import { tokenRef } from '../../sync/commandReply.js';

export interface CommandTokenInput {
  key: CryptoKey;
  kid?: string;
  issuer: string;
  locker: string;
  cmd: string;
  args?: Record<string, unknown>;
  /** Lifetime in seconds; remote opens need 120 or less. */
  ttlS?: number;
  clock: Clock;
  ids: IdFactory;
  /** Overrides for tests of refusals (a stale iat, a reused jti). */
  claims?: Partial<{ iat: number; exp: number; jti: string; aud: string }>;
}

export interface CommandToken {
  token: string;
  jti: string;
  /** The digest the locker puts in the reply's ref. */
  ref: string;
}

export async function signCommand(input: CommandTokenInput): Promise<CommandToken> {
  const iat = Math.floor(input.clock.now() / 1000);
  const claims = {
    iss: input.issuer,
    aud: input.locker,
    iat,
    exp: iat + (input.ttlS ?? 60),
    jti: input.ids(),
    cmd: input.cmd,
    args: input.args ?? {},
    ...input.claims,
  };
  const token = await signJwt(input.key, claims, { typ: COMMAND_TYP, ...(input.kid ? { kid: input.kid } : {}) });
  return { token, jti: claims.jti, ref: tokenRef(token) };
}
