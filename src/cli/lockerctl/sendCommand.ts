// `lockerctl send`: publish a signed command on the right cmd topic and wait for the reply
// carrying its id (or its token digest) on the res topic beside it. The same token is
// published again while no reply has come: the locker runs a command at most once and answers
// a repeat with the stored reply, so retrying is always safe.
import type { MqttClient } from 'mqtt';
import type { Clock } from '../../../kernel/clock.js';
import { LockerError } from '../../../kernel/errors.js';
import { SignedCommandReply } from '../../sync/commandReply.js';
import { verifyDocument, type VerifyKey } from '../../sync/detachedSignature.js';
import { topicFor, type Tenant } from '../../sync/topics.js';
import type { CommandToken } from './commandToken.js';

export interface SendCommandOptions {
  client: MqttClient;
  clock: Clock;
  tenant: Tenant;
  locker: string;
  command: CommandToken;
  timeoutMs?: number;
  /** Publish again after this long without a reply. */
  retryMs?: number;
  /** The locker's public signing key(s): when given, a reply must carry a valid signature. */
  lockerKeys?: readonly VerifyKey[];
}

export async function sendCommand(o: SendCommandOptions): Promise<SignedCommandReply> {
  const cmdTopic = topicFor(o.tenant, o.locker, 'cmd');
  const resTopic = topicFor(o.tenant, o.locker, 'res');
  const timeoutMs = o.timeoutMs ?? 15_000;
  const retryMs = o.retryMs ?? 3_000;

  let onMessage: ((topic: string, payload: Buffer) => void) | undefined;
  const timers: { cancel(): void }[] = [];
  try {
    const reply = new Promise<SignedCommandReply>((resolve, reject) => {
      onMessage = (topic, payload) => {
        if (topic !== resTopic) return;
        let json: unknown;
        try {
          json = JSON.parse(payload.toString('utf8'));
        } catch {
          return;
        }
        const parsed = SignedCommandReply.safeParse(json);
        if (!parsed.success) return;
        const r = parsed.data;
        if (r.id !== o.command.jti && r.ref !== o.command.ref) return;
        if (o.lockerKeys && !verifyDocument(json as Record<string, unknown>, o.lockerKeys).ok) {
          reject(new LockerError('CMD_BAD_SIGNATURE', 'the reply is not signed by the enrolled locker key', { locker: o.locker }));
          return;
        }
        resolve(r);
      };
      o.client.on('message', onMessage);
      timers.push(
        o.clock.setTimeout(() => reject(new LockerError('TRANSPORT_ERROR', `no reply from ${o.locker} within ${timeoutMs} ms`, { locker: o.locker })), timeoutMs),
      );
    });
    await o.client.subscribeAsync(resTopic, { qos: 1 });
    const publish = (): void => {
      o.client.publish(cmdTopic, o.command.token, { qos: 1 });
    };
    publish();
    timers.push(o.clock.setInterval(publish, retryMs));
    return await reply;
  } finally {
    for (const t of timers) t.cancel();
    if (onMessage) o.client.off('message', onMessage);
  }
}

/** Exit status of `lockerctl send`: 0 ok, 2 refused or failed. */
export function exitCodeOf(reply: SignedCommandReply): number {
  return reply.ok ? 0 : 2;
}
