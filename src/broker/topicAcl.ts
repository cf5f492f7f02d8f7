// Per-principal topic rules, the same ones deploy/mosquitto/acl ships: the principal is the
// MQTT username (or the certificate CN with use_identity_as_username). The embedded broker
// enforces them through aedes hooks; a unit test holds the shipped Mosquitto file to them.
//
// Mosquitto semantics reproduced here: `pattern` rules apply to every principal with %u
// replaced by its username (never when the username contains /, + or #); `user` rules apply
// to that one user; a publish needs a matching write rule; a subscription needs a read rule
// that covers every topic the filter could match.

export type AclAccess = 'read' | 'write' | 'readwrite';

export interface AclRule {
  access: AclAccess;
  /** A topic filter; in pattern rules %u stands for the username. */
  topic: string;
  /** For a `user` rule, the user it belongs to; undefined for a pattern rule. */
  user?: string;
}

/** The shipped rule set. operatorId is OperatorConfig.id of the fleet (default "operator"). */
export function lockerAclRules(operatorId = 'operator'): AclRule[] {
  return [
    { access: 'readwrite', topic: 'lk/v1/op/#', user: operatorId },
    { access: 'readwrite', topic: 'lk/v1/c/%u/#' },
    { access: 'write', topic: 'lk/v1/c/+/l/%u/evt' },
    { access: 'write', topic: 'lk/v1/c/+/l/%u/res' },
    { access: 'write', topic: 'lk/v1/op/l/%u/evt' },
    { access: 'write', topic: 'lk/v1/op/l/%u/res' },
    { access: 'write', topic: 'lk/v1/op/l/%u/state' },
    { access: 'write', topic: 'lk/v1/op/l/%u/cfg' },
    { access: 'read', topic: 'lk/v1/c/+/l/%u/cmd' },
    { access: 'read', topic: 'lk/v1/c/+/l/%u/ack' },
    { access: 'read', topic: 'lk/v1/op/l/%u/cmd' },
    { access: 'read', topic: 'lk/v1/op/l/%u/ack' },
  ];
}

/** Reads the rules of a Mosquitto acl_file (user, topic and pattern lines; comments skipped). */
export function parseMosquittoAcl(text: string): AclRule[] {
  const rules: AclRule[] = [];
  let user: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword === 'user') {
      user = rest.join(' ');
      continue;
    }
    if (keyword !== 'topic' && keyword !== 'pattern') throw new Error(`unknown ACL line: ${line}`);
    const access: AclAccess = rest[0] === 'read' || rest[0] === 'write' || rest[0] === 'readwrite' ? rest[0] : 'readwrite';
    const topic = (rest[0] === access ? rest.slice(1) : rest).join(' ');
    if (keyword === 'pattern') rules.push({ access, topic });
    else rules.push(user === undefined ? { access, topic, user: '' } : { access, topic, user });
  }
  return rules;
}

/** The Mosquitto acl_file text of a rule set (deploy/mosquitto/acl is this plus comments). */
export function renderMosquittoAcl(rules: readonly AclRule[]): string {
  const lines: string[] = [];
  for (const r of rules.filter((x) => x.user !== undefined)) lines.push(`user ${r.user}`, `topic ${r.access} ${r.topic}`);
  for (const r of rules.filter((x) => x.user === undefined)) lines.push(`pattern ${r.access} ${r.topic}`);
  return lines.join('\n') + '\n';
}

function canSubstitute(username: string): boolean {
  return username.length > 0 && !/[/+#]/.test(username);
}

function rulesFor(rules: readonly AclRule[], username: string, wanted: 'read' | 'write'): string[] {
  const out: string[] = [];
  for (const r of rules) {
    if (r.access !== 'readwrite' && r.access !== wanted) continue;
    if (r.user !== undefined) {
      if (r.user === username) out.push(r.topic);
    } else if (canSubstitute(username)) {
      out.push(r.topic.split('%u').join(username));
    }
  }
  return out;
}

/** True when a concrete topic matches a filter (MQTT rules; $-topics never match a leading wildcard). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic that `sub` could match is also matched by `acl`. */
export function filterWithin(sub: string, acl: string): boolean {
  const s = sub.split('/');
  const a = acl.split('/');
  for (let i = 0; i < s.length; i++) {
    const al = a[i];
    const sl = s[i];
    if (al === '#') return true;
    if (al === undefined || sl === undefined) return false;
    if (sl === '#') return false;
    if (sl === '+') {
      if (al !== '+') return false;
      continue;
    }
    if (al !== '+' && al !== sl) return false;
  }
  return s.length === a.length;
}

export function mayPublish(rules: readonly AclRule[], username: string, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  return rulesFor(rules, username, 'write').some((f) => topicMatches(f, topic));
}

export function maySubscribe(rules: readonly AclRule[], username: string, filter: string): boolean {
  // Shared subscriptions are checked on the filter they wrap.
  const m = /^\$share\/[^/+#]+\/(.+)$/.exec(filter);
  const inner = m?.[1] ?? filter;
  return rulesFor(rules, username, 'read').some((f) => filterWithin(inner, f));
}
