// The MQTT topic tree of DESIGN.md section 7, built and parsed in one place so the locker,
// lockerctl, the embedded broker's ACL and the tests cannot drift apart.
//
//   lk/v1/c/{carrier}/l/{locker}/evt|ack|cmd|res     one carrier's view of one locker
//   lk/v1/op/l/{locker}/evt|ack|cmd|res|state|cfg    the operator's view of one locker

export const TOPIC_ROOT = 'lk/v1';

/** Who a topic belongs to: a carrier (by id) or the operator. */
export type Tenant = { kind: 'carrier'; carrier: string } | { kind: 'operator' };

export type LeafKind = 'evt' | 'ack' | 'cmd' | 'res' | 'state' | 'cfg';

export interface ParsedTopic {
  tenant: Tenant;
  locker: string;
  leaf: LeafKind;
}

const leaves: ReadonlySet<string> = new Set(['evt', 'ack', 'cmd', 'res', 'state', 'cfg']);

function prefix(tenant: Tenant): string {
  return tenant.kind === 'carrier' ? `${TOPIC_ROOT}/c/${tenant.carrier}` : `${TOPIC_ROOT}/op`;
}

export function topicFor(tenant: Tenant, locker: string, leaf: LeafKind): string {
  if ((leaf === 'state' || leaf === 'cfg') && tenant.kind !== 'operator') throw new Error(`${leaf} exists only on the operator tree`);
  return `${prefix(tenant)}/l/${locker}/${leaf}`;
}

export const carrierTenant = (carrier: string): Tenant => ({ kind: 'carrier', carrier });
export const operatorTenant: Tenant = { kind: 'operator' };

/** The event topic of an outbox stream: 'op' or 'c/<carrier>'. */
export function tenantOfCarrier(carrier: string | null): Tenant {
  return carrier === null ? operatorTenant : carrierTenant(carrier);
}

/** Parses a concrete topic (no wildcards); undefined for anything outside the tree. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'lk' || parts[1] !== 'v1') return undefined;
  if (parts[2] === 'c' && parts.length === 7 && parts[4] === 'l') {
    const [carrier, locker, leaf] = [parts[3], parts[5], parts[6]];
    if (!carrier || !locker || !leaf || !leaves.has(leaf) || leaf === 'state' || leaf === 'cfg') return undefined;
    return { tenant: carrierTenant(carrier), locker, leaf: leaf as LeafKind };
  }
  if (parts[2] === 'op' && parts.length === 6 && parts[3] === 'l') {
    const [locker, leaf] = [parts[4], parts[5]];
    if (!locker || !leaf || !leaves.has(leaf)) return undefined;
    return { tenant: operatorTenant, locker, leaf: leaf as LeafKind };
  }
  return undefined;
}

/** What a locker subscribes to: its cmd and ack topics, for every carrier and the operator. */
export function lockerSubscriptions(locker: string): string[] {
  return [
    `${TOPIC_ROOT}/c/+/l/${locker}/cmd`,
    `${TOPIC_ROOT}/c/+/l/${locker}/ack`,
    `${TOPIC_ROOT}/op/l/${locker}/cmd`,
    `${TOPIC_ROOT}/op/l/${locker}/ack`,
  ];
}

/** A consumer's subscription for the events of one locker or (locker '+') of all its lockers. */
export function eventSubscription(tenant: Tenant, locker = '+'): string {
  return `${prefix(tenant)}/l/${locker}/evt`;
}

export function replySubscription(tenant: Tenant, locker = '+'): string {
  return `${prefix(tenant)}/l/${locker}/res`;
}
