// `lockerctl provision`: brings a freshly installed locker into service from a distance. The
// locker's config already trusts the operator's key; everything else arrives as signed operator
// commands, each sent and answered before the next: enrol the locker's public key locally,
// upsert every carrier, set the layout, set the desired config.
import type { CryptoKey } from 'jose';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Clock } from '../../../kernel/clock.js';
import { CarrierConfig, LayoutConfig } from '../../config/schema.js';
import { LockerError } from '../../../kernel/errors.js';
import type { IdFactory } from '../../ids.js';
import type { SignedCommandReply } from '../../sync/commandReply.js';
import { toPublicKey } from '../../sync/detachedSignature.js';
import { SetConfigArgs } from '../../domain/lockerOperations.js';
import { operatorTenant } from '../../sync/topics.js';
import { signCommand } from './commandToken.js';
import { enrolLocker } from './enrolment.js';
import { PublicKeys } from './keyFiles.js';
import { sendCommand } from './sendCommand.js';

export const ProvisionPlan = z.object({
  locker: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/),
  /** The locker's public keys, as it printed them at first start. */
  lockerKeys: PublicKeys,
  carriers: z.array(CarrierConfig).default([]),
  layout: LayoutConfig.optional(),
  config: SetConfigArgs.optional(),
});
export type ProvisionPlan = z.infer<typeof ProvisionPlan>;
export type ProvisionPlanInput = z.input<typeof ProvisionPlan>;

export interface ProvisionOptions {
  client: MqttClient;
  clock: Clock;
  ids: IdFactory;
  home: string;
  operatorId: string;
  operatorKey: CryptoKey;
  operatorKid?: string;
  plan: ProvisionPlan;
  timeoutMs?: number;
  /** Progress, one line per step. */
  progress?: (step: ProvisionStep) => void;
}

export interface ProvisionStep {
  step: string;
  ok: boolean;
  reply?: SignedCommandReply;
  detail?: string;
}

export async function provision(o: ProvisionOptions): Promise<ProvisionStep[]> {
  const { plan } = o;
  const clash = plan.carriers.find((c) => c.id === plan.locker) ?? (plan.locker === o.operatorId ? { id: o.operatorId } : undefined);
  if (clash) {
    // Broker principals share one name space (deploy/mosquitto/acl): equal names share rights.
    throw new LockerError('INPUT_INVALID', `locker id "${plan.locker}" is also a carrier or the operator id`, { locker: plan.locker });
  }
  const steps: ProvisionStep[] = [];
  const report = (s: ProvisionStep): void => {
    steps.push(s);
    o.progress?.(s);
  };
  const file = await enrolLocker(o.home, plan.locker, plan.lockerKeys);
  report({ step: 'enrol', ok: true, detail: file });
  const lockerKeys = [toPublicKey(plan.lockerKeys.signingKey)];

  const commands: { step: string; cmd: string; args: Record<string, unknown> }[] = [
    ...plan.carriers.map((c) => ({ step: `carrier ${c.id}`, cmd: 'upsertCarrier', args: c as Record<string, unknown> })),
    ...(plan.layout ? [{ step: `layout v${plan.layout.version}`, cmd: 'setLayout', args: plan.layout as Record<string, unknown> }] : []),
    ...(plan.config ? [{ step: `config v${plan.config.version}`, cmd: 'setConfig', args: plan.config as Record<string, unknown> }] : []),
  ];
  for (const c of commands) {
    const command = await signCommand({
      key: o.operatorKey,
      ...(o.operatorKid !== undefined ? { kid: o.operatorKid } : {}),
      issuer: o.operatorId,
      locker: plan.locker,
      cmd: c.cmd,
      args: c.args,
      ttlS: 300,
      clock: o.clock,
      ids: o.ids,
    });
    const reply = await sendCommand({
      client: o.client,
      clock: o.clock,
      tenant: operatorTenant,
      locker: plan.locker,
      command,
      lockerKeys,
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    });
    // A version the locker already has is not a failure of provisioning: it is already done.
    const ok = reply.ok || reply.error?.code === 'VERSION_STALE';
    report({ step: c.step, ok, reply });
    if (!ok) break;
  }
  return steps;
}
