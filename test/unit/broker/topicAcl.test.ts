import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filterWithin, lockerAclRules, mayPublish, maySubscribe, parseMosquittoAcl, renderMosquittoAcl, topicMatches } from '../../../src/broker/topicAcl.js';

const rules = lockerAclRules('operator');

describe('broker topic ACL (shared by the embedded broker and deploy/mosquitto/acl)', () => {
  it('the shipped Mosquitto ACL holds exactly these rules', () => {
    const shipped = readFileSync(join(import.meta.dirname, '../../../deploy/mosquitto/acl'), 'utf8');
    expect(parseMosquittoAcl(shipped)).toEqual(rules);
    expect(parseMosquittoAcl(renderMosquittoAcl(rules))).toEqual(rules);
  });

  it('a carrier uses only its own subtree', () => {
    expect(mayPublish(rules, 'acme', 'lk/v1/c/acme/l/locker-1/cmd')).toBe(true);
    expect(mayPublish(rules, 'acme', 'lk/v1/c/acme/l/locker-1/ack')).toBe(true);
    expect(maySubscribe(rules, 'acme', 'lk/v1/c/acme/#')).toBe(true);
    expect(maySubscribe(rules, 'acme', 'lk/v1/c/acme/l/+/evt')).toBe(true);
    expect(maySubscribe(rules, 'acme', '$share/backend/lk/v1/c/acme/l/+/evt')).toBe(true);
    expect(mayPublish(rules, 'acme', 'lk/v1/c/bolt/l/locker-1/cmd')).toBe(false);
    expect(maySubscribe(rules, 'acme', 'lk/v1/c/bolt/#')).toBe(false);
    expect(maySubscribe(rules, 'acme', 'lk/v1/c/+/l/locker-1/evt')).toBe(false);
    expect(maySubscribe(rules, 'acme', 'lk/v1/#')).toBe(false);
    expect(maySubscribe(rules, 'acme', '#')).toBe(false);
    expect(mayPublish(rules, 'acme', 'lk/v1/op/l/locker-1/cmd')).toBe(false);
  });

  it('a locker publishes its own evt/res/state/cfg and reads its own cmd/ack', () => {
    for (const t of ['lk/v1/c/acme/l/L1/evt', 'lk/v1/c/acme/l/L1/res', 'lk/v1/op/l/L1/evt', 'lk/v1/op/l/L1/res', 'lk/v1/op/l/L1/state', 'lk/v1/op/l/L1/cfg']) {
      expect(mayPublish(rules, 'L1', t)).toBe(true);
    }
    for (const f of ['lk/v1/c/+/l/L1/cmd', 'lk/v1/c/+/l/L1/ack', 'lk/v1/op/l/L1/cmd', 'lk/v1/op/l/L1/ack']) expect(maySubscribe(rules, 'L1', f)).toBe(true);
    expect(mayPublish(rules, 'L1', 'lk/v1/c/acme/l/L2/evt')).toBe(false);
    expect(mayPublish(rules, 'L1', 'lk/v1/c/acme/l/L1/cmd')).toBe(false);
    expect(mayPublish(rules, 'L1', 'lk/v1/op/l/L1/cmd')).toBe(false);
    expect(maySubscribe(rules, 'L1', 'lk/v1/c/+/l/L1/evt')).toBe(false);
    expect(maySubscribe(rules, 'L1', 'lk/v1/c/+/l/+/cmd')).toBe(false);
    expect(maySubscribe(rules, 'L1', 'lk/v1/op/l/L2/cmd')).toBe(false);
  });

  it('the operator has the operator tree and no carrier topics', () => {
    expect(maySubscribe(rules, 'operator', 'lk/v1/op/#')).toBe(true);
    expect(mayPublish(rules, 'operator', 'lk/v1/op/l/L1/cmd')).toBe(true);
    expect(maySubscribe(rules, 'operator', 'lk/v1/c/#')).toBe(false);
    expect(mayPublish(rules, 'operator', 'lk/v1/c/acme/l/L1/cmd')).toBe(false);
  });

  it('a username with wildcard characters gets no pattern rights (as in Mosquitto)', () => {
    expect(maySubscribe(rules, '+', 'lk/v1/c/+/#')).toBe(false);
    expect(mayPublish(rules, 'a/b', 'lk/v1/c/a/b/l/x/cmd')).toBe(false);
    expect(mayPublish(rules, '', 'lk/v1/c//l/x/cmd')).toBe(false);
  });

  it('matches topics and filters by MQTT rules', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(filterWithin('a/b/#', 'a/#')).toBe(true);
    expect(filterWithin('a/#', 'a/b/#')).toBe(false);
    expect(filterWithin('a/+/c', 'a/+/c')).toBe(true);
    expect(filterWithin('a/+/c', 'a/b/c')).toBe(false);
    expect(filterWithin('a/b', 'a/b/c')).toBe(false);
  });
});
