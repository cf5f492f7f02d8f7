// Arbitrary HTTP requests for the kiosk API, built as raw bytes: methods, request targets
// (every route with garbage parameters, percent-encoding garbage, traversal, long paths),
// headers (Host, Origin, content-type, content-length lies, chunked bodies, authorization) and
// bodies (JSON with wrong types, huge, deeply nested, not JSON, not UTF-8).
import fc from 'fast-check';

/** Every route of the kiosk server (src/kiosk/server.ts) and the read-only simulator routes. */
export const kioskRoutes: readonly { method: string; path: string }[] = [
  { method: 'GET', path: '/api/health' },
  { method: 'GET', path: '/api/info' },
  { method: 'GET', path: '/api/events' },
  { method: 'POST', path: '/api/pickup' },
  { method: 'GET', path: '/api/lockout' },
  { method: 'POST', path: '/api/dropoff' },
  { method: 'GET', path: '/api/dropoff/:id' },
  { method: 'POST', path: '/api/dropoff/:id/done' },
  { method: 'POST', path: '/api/dropoff/:id/cancel' },
  { method: 'POST', path: '/api/dropoff/:id/wrong-size' },
  { method: 'POST', path: '/api/courier/login' },
  { method: 'POST', path: '/api/courier/logout' },
  { method: 'GET', path: '/api/courier/me' },
  { method: 'POST', path: '/api/courier/deposits' },
  { method: 'GET', path: '/api/courier/deposits/:id' },
  { method: 'POST', path: '/api/courier/deposits/:id/wrong-size' },
  { method: 'POST', path: '/api/courier/deposits/:id/reopen' },
  { method: 'POST', path: '/api/courier/deposits/:id/cancel' },
  { method: 'GET', path: '/api/courier/collections' },
  { method: 'POST', path: '/api/courier/collections/:id/open' },
  { method: 'POST', path: '/api/courier/collections/:id/confirm' },
  { method: 'GET', path: '/api/info/support-qr/:id' },
  { method: 'POST', path: '/api/operator/login' },
  { method: 'POST', path: '/api/operator/logout' },
  { method: 'GET', path: '/api/operator/compartments' },
  { method: 'POST', path: '/api/operator/compartments/:id/open' },
  { method: 'POST', path: '/api/operator/compartments/:id/service' },
  { method: 'POST', path: '/api/operator/compartments/:id/clear-stuck' },
  { method: 'POST', path: '/api/operator/test-doors' },
  { method: 'GET', path: '/api/operator/alarms' },
  { method: 'GET', path: '/sim/state' },
  { method: 'GET', path: '/sim/events' },
];

const staticPaths = ['/', '/index.html', '/app.js', '/api.js', '/ui.js', '/styles.css', '/i18n/en.json', '/i18n/zh-Hans.json', '/sim/', '/sim/index.html', '/sim/panel.js', '/favicon.ico'];

const traversal = [
  '/../../../../etc/passwd',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/%2e%2e%2f%2e%2e%2fpackage.json',
  '/sim/..%2f..%2fpackage.json',
  '/sim/%2e%2e/%2e%2e/src/errors.ts',
  '/i18n/..%2f..%2f..%2fpackage.json',
  '/..\\..\\package.json',
  '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd',
  '/index.html%00.png',
  '/%00',
  '/%ZZ',
  '/%',
  '/%%',
  '/%E0%A4%A',
  '/api/%ZZ',
  '/sim/%ZZ',
  '//etc/passwd',
  '/./././index.html',
];

/** Parameter values: ids that exist, ids that do not, and garbage. */
const param = fc.oneof(
  fc.constantFrom('A1', 'B6', 'D6', 'Z9', '0', '-1', '..', '.', '%2e%2e', '%ZZ', '%', '%00', '%2F', '%u0041', 'null', 'undefined', '__proto__', 'constructor', '01J0000000000000000000000'),
  fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent),
  fc.string({ maxLength: 30 }),
  fc.nat({ max: 12_000 }).map((n) => 'x'.repeat(n)),
  fc.uint8Array({ maxLength: 20 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
);

const query = fc.oneof(
  { weight: 6, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => `?${s.replace(/\s/g, '+')}`) },
  { weight: 1, arbitrary: fc.constantFrom('?a=%ZZ', '?__proto__[x]=1', '?code=123456', `?${'a=1&'.repeat(2000)}`, '#frag', '?') },
);

/** Percent-encodes some characters of a path the way a client could (or should not). */
function mangle(path: string, mask: number[]): string {
  let out = '';
  [...path].forEach((ch, i) => {
    const m = mask[i % Math.max(1, mask.length)] ?? 0;
    if (ch !== '/' && m === 1) out += `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    else if (ch !== '/' && m === 2) out += `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    else if (m === 3 && ch === '/') out += '//';
    else out += ch;
  });
  return out;
}

const routePath = fc
  .record({
    route: fc.constantFrom(...kioskRoutes),
    params: fc.array(param, { minLength: 1, maxLength: 1 }),
    mangled: fc.option(fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 8 }), { freq: 2 }),
    trailing: fc.constantFrom('', '', '', '/', '/x', '/..', '%20'),
  })
  .map(({ route, params, mangled, trailing }) => {
    let p = route.path.replace(/:id/g, params[0] ?? 'A1') + trailing;
    if (mangled) p = mangle(p, mangled);
    return { path: p, routeMethod: route.method };
  });

export const requestTarget = fc.oneof(
  { weight: 10, arbitrary: fc.tuple(routePath, query).map(([r, q]) => ({ target: r.path + q, routeMethod: r.routeMethod as string | undefined })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...staticPaths), query).map(([p, q]) => ({ target: p + q, routeMethod: 'GET' as string | undefined })) },
  { weight: 2, arbitrary: fc.constantFrom(...traversal).map((t) => ({ target: t, routeMethod: undefined as string | undefined })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => ({ target: `/${s.replace(/[\s]/g, '')}`, routeMethod: undefined as string | undefined })) },
  { weight: 1, arbitrary: fc.nat({ max: 70_000 }).map((n) => ({ target: `/${'a/'.repeat(n >> 1)}`, routeMethod: undefined as string | undefined })) },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://127.0.0.1/api/info', 'http://evil.example/api/info', '127.0.0.1:80', '', '?', 'api/info').map((t) => ({ target: t, routeMethod: undefined as string | undefined })) },
);

export const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 3, arbitrary: fc.constantFrom('HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'QUERY') },
  { weight: 1, arbitrary: fc.constantFrom('get', 'Post', 'G E T', 'GET\u0000', 'PO\u00c9ST', '') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z!#$%&'*+.^_`|~-]{1,12}$/) },
);

/** JSON values of every type, nested, with keys a handler might trip on. */
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1e308, -0, 2 ** 53, '', 'A1', 'S', 'XXL', '123456', '0000000000', 'eyJhbGciOiJub25lIn0.e30.', '__proto__'),
    fc.string({ maxLength: 40 }),
    fc.double(),
    fc.integer(),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('code', 'badge', 'pin', 'carrier', 'courierId', 'waybill', 'size', 'accessible', 'reason', 'inService', '__proto__', 'constructor', 'x'), tie('v'), { maxKeys: 5 }),
  ),
})).v;

const sizeValue = fc.oneof(fc.constantFrom('XS', 'S', 'M', 'L', 'XL', 's', 'XXL', ''), jsonish);
const stringish = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[0-9]{0,12}$/), jsonish, fc.nat({ max: 5000 }).map((n) => '9'.repeat(n)));

/** Bodies shaped like each route's, with wrong types and out-of-range values. */
const shapedBody = fc.oneof(
  fc.record({ code: stringish }, { requiredKeys: [] }),
  fc.record({ badge: stringish }, { requiredKeys: [] }),
  fc.record({ carrier: fc.oneof(fc.constant('swiftpost'), stringish), courierId: stringish, pin: stringish }, { requiredKeys: [] }),
  fc.record({ waybill: stringish, size: sizeValue, accessible: fc.oneof(fc.boolean(), jsonish) }, { requiredKeys: [] }),
  fc.record({ size: sizeValue }, { requiredKeys: [] }),
  fc.record({ reason: stringish }, { requiredKeys: [] }),
  fc.record({ inService: fc.oneof(fc.boolean(), jsonish), reason: stringish }, { requiredKeys: [] }),
  fc.record({ text: stringish, bytes: jsonish }, { requiredKeys: [] }),
);

const nested = fc.tuple(fc.integer({ min: 1, max: 8000 }), fc.constantFrom('[', '{"a":')).map(([depth, open]) => open.repeat(depth) + (open === '[' ? ']'.repeat(depth) : `1${'}'.repeat(depth)}`));

export const body = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined as Buffer | undefined) },
  { weight: 8, arbitrary: shapedBody.map((b) => Buffer.from(JSON.stringify(b))) },
  { weight: 3, arbitrary: jsonish.map((b) => Buffer.from(JSON.stringify(b) ?? 'null')) },
  { weight: 1, arbitrary: nested.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('{', '{"code":', 'null', '1e999', '"', '{"code":"1","code":2}', '{"__proto__":{"code":"1"}}', '\ufeff{"code":"123456"}', 'code=123456', '\u0000').map((s) => Buffer.from(s)),
  },
  { weight: 1, arbitrary: fc.constantFrom(16_384, 16_385, 70_000, 1_100_000).map((n) => Buffer.from(`{"code":"${'1'.repeat(Math.max(0, n - 11))}"}`)) },
);

export interface AuthTokens {
  courier: string | undefined;
  operator: string | undefined;
}

/** What the fuzzer knows of the locker it fuzzes: its sessions and the codes of stored parcels. */
export interface FuzzContext {
  hostPort: string;
  tokens: AuthTokens;
  /** Pickup codes of parcels in the locker: the fuzzer sends only near misses of them. */
  codes: readonly string[];
}

/** A wrong code one edit away from a real one: a digit changed, dropped, added, or two swapped. */
export interface NearMiss {
  index: number;
  edit: 'change' | 'drop' | 'add' | 'swap';
  at: number;
  digit: number;
}

export function nearMissOf(code: string, m: NearMiss): string {
  const at = m.at % code.length;
  const d = Number(code[at] ?? '0');
  const other = String((d + 1 + (m.digit % 9)) % 10);
  switch (m.edit) {
    case 'change':
      return code.slice(0, at) + other + code.slice(at + 1);
    case 'drop':
      return code.slice(0, at) + code.slice(at + 1);
    case 'add':
      return code.slice(0, at) + String(m.digit % 10) + code.slice(at);
    case 'swap': {
      const next = (at + 1) % code.length;
      if (code[at] === code[next]) return code.slice(0, at) + other + code.slice(at + 1);
      const chars = [...code];
      [chars[at], chars[next]] = [chars[next] ?? '', chars[at] ?? ''];
      return chars.join('');
    }
  }
}

export type AuthChoice = 'none' | 'courier' | 'operator' | 'garbage';

export interface FuzzRequest {
  method: string;
  target: string;
  routeMethod: string | undefined;
  host: 'good' | 'none' | string;
  origin: string | undefined;
  contentType: string | undefined;
  /** 'right', 'none', or the lie sent as content-length. */
  length: 'right' | 'none' | 'chunked' | string;
  auth: AuthChoice;
  garbageAuth: string;
  extraHeaders: [string, string][];
  body: Buffer | undefined;
  /** Instead of the body: a near miss of a real code, sent to the pickup or drop-off route. */
  nearMiss: (NearMiss & { route: '/api/pickup' | '/api/dropoff' }) | undefined;
}

const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/);
const headerValue = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,60}$/) },
  { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((n) => 'v'.repeat(n)) },
  { weight: 1, arbitrary: fc.constantFrom('\u00e9', 'a\rb', 'a\nb', '\u0000', '\t', '') },
);

export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  method,
  target: requestTarget,
  host: fc.oneof(
    { weight: 12, arbitrary: fc.constant('good') },
    { weight: 1, arbitrary: fc.constantFrom('none', 'localhost', 'evil.example', 'evil.example:80', '127.0.0.1.nip.io', '[::1]', '', '127.0.0.1:1', 'localhost.', ' 127.0.0.1') },
    { weight: 1, arbitrary: headerValue },
  ),
  origin: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined as string | undefined) },
    { weight: 5, arbitrary: fc.constant('good') },
    { weight: 2, arbitrary: fc.constantFrom('http://evil.example', 'null', 'http://localhost', 'https://127.0.0.1', 'file://') },
    { weight: 1, arbitrary: headerValue },
  ),
  contentType: fc.oneof(
    { weight: 10, arbitrary: fc.constant('application/json' as string | undefined) },
    { weight: 3, arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json, text/plain', 'application/jsonx', '') },
    { weight: 1, arbitrary: headerValue },
  ),
  length: fc.oneof(
    { weight: 14, arbitrary: fc.constant('right') },
    { weight: 1, arbitrary: fc.constantFrom('none', 'chunked') },
    { weight: 1, arbitrary: fc.constantFrom('0', '1', '-1', '99999999999', '1e3', 'abc', '1, 2', '16384', '16385', ' 5') },
    { weight: 1, arbitrary: fc.nat({ max: 40 }).map(String) },
  ),
  auth: fc.constantFrom<AuthChoice>('none', 'none', 'none', 'none', 'courier', 'courier', 'operator', 'garbage', 'garbage'),
  garbageAuth: fc.oneof(fc.constantFrom('Bearer ', 'Bearer', 'bearer x', 'Basic YTpi', 'Bearer a b', 'Bearer \u00e9'), fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`), fc.nat({ max: 9000 }).map((n) => `Bearer ${'t'.repeat(n)}`)),
  extraHeaders: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, string][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(headerName, headerValue), { maxLength: 3 }) }),
  body,
  nearMiss: fc.oneof(
    { weight: 11, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.record({ index: fc.nat(), edit: fc.constantFrom('change' as const, 'drop' as const, 'add' as const, 'swap' as const), at: fc.nat(), digit: fc.nat(), route: fc.constantFrom('/api/pickup' as const, '/api/dropoff' as const) }),
    },
  ),
}).map(({ target, ...r }) => ({ ...r, target: target.target, routeMethod: target.routeMethod }));

/** Same request, more often with the route's own method (so handlers get reached). */
export const kioskRequest: fc.Arbitrary<FuzzRequest> = fc.tuple(fuzzRequest, fc.nat({ max: 9 })).map(([r, n]) => (n < 5 && r.routeMethod ? { ...r, method: r.routeMethod } : r));

/**
 * The request as bytes on the wire; `incomplete` when it declares more body than it sends (the
 * client then half-closes, or the server would wait for the rest).
 */
export function encodeRequest(req: FuzzRequest, ctx: FuzzContext): { bytes: Buffer; incomplete: boolean } {
  const code = req.nearMiss && ctx.codes.length > 0 ? nearMissOf(ctx.codes[req.nearMiss.index % ctx.codes.length] ?? '', req.nearMiss) : undefined;
  const r = req.nearMiss && code !== undefined ? { ...req, method: 'POST', target: req.nearMiss.route, body: Buffer.from(JSON.stringify({ code })) } : req;
  const lines = [`${r.method} ${r.target} HTTP/1.1`];
  if (r.host === 'good') lines.push(`Host: ${ctx.hostPort}`);
  else if (r.host !== 'none') lines.push(`Host: ${r.host}`);
  if (r.origin !== undefined) lines.push(`Origin: ${r.origin === 'good' ? `http://${ctx.hostPort}` : r.origin}`);
  if (r.contentType !== undefined && r.body !== undefined) lines.push(`Content-Type: ${r.contentType}`);
  const token = r.auth === 'courier' ? ctx.tokens.courier : r.auth === 'operator' ? ctx.tokens.operator : undefined;
  if (token) lines.push(`Authorization: Bearer ${token}`);
  else if (r.auth === 'garbage') lines.push(`Authorization: ${r.garbageAuth}`);
  for (const [k, v] of r.extraHeaders) lines.push(`${k}: ${v}`);
  let payload = r.body ?? Buffer.alloc(0);
  if (r.body !== undefined || r.length !== 'right') {
    if (r.length === 'right') lines.push(`Content-Length: ${payload.length}`);
    else if (r.length === 'chunked') {
      lines.push('Transfer-Encoding: chunked');
      payload = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from(payload.length > 0 ? '\r\n0\r\n\r\n' : '\r\n')]);
    } else if (r.length !== 'none') lines.push(`Content-Length: ${r.length}`);
  }
  // Node reads " 5" as 5 (whitespace around a field value is not part of it).
  const declared = /^\s*\d+\s*$/.test(r.length) ? Number(r.length.trim()) : undefined;
  return { bytes: Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]), incomplete: declared !== undefined && declared > payload.length };
}
