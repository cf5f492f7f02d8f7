// A small HTTP toolkit for the kiosk API: routing by method and path pattern, bounded JSON
// bodies validated with zod, one mapping from LockerError codes to HTTP statuses, and the web
// origin rules every request passes first (Host allow-list, Origin, JSON bodies, headers).
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type z } from 'zod';
import { LockerError, ErrorCodes, type ErrorCode, toLockerError } from '../../kernel/errors.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  url: URL;
  /** Reads and validates the JSON body (bounded by maxBodyBytes). */
  body<T extends z.ZodType>(schema: T): Promise<z.infer<T>>;
}

export type Handler = (ctx: RouteContext) => Promise<unknown> | unknown;

interface Route {
  method: string;
  parts: string[];
  handler: Handler;
}

/** A handler that already wrote its own response (SSE, static files) returns this. */
export const HANDLED = Symbol('handled');

const statusOf: Partial<Record<ErrorCode, number>> = {
  INPUT_INVALID: 400,
  CODE_MALFORMED: 400,
  CMD_MALFORMED: 400,
  NOT_AUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  BADGE_INVALID: 401,
  BADGE_EXPIRED: 401,
  BADGE_REVOKED: 401,
  PIN_INVALID: 401,
  NOT_PERMITTED: 403,
  ADHOC_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HOST_NOT_ALLOWED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  TERMINAL_KEY_INVALID: 401,
  TERMINAL_NOT_PAIRED: 401,
  RATE_LIMITED: 429,
  // Caps on what a stranger may hold: 429 like the rate limits, so that every 5xx is a fault.
  STREAMS_FULL: 429,
  SESSIONS_FULL: 429,
  CODE_UNKNOWN: 404,
  RESERVATION_UNKNOWN: 404,
  TRANSACTION_STATE: 409,
  DOOR_BUSY: 409,
  DOOR_NOT_CLOSED: 409,
  NOTHING_STUCK: 409,
  WAYBILL_DUPLICATE: 409,
  WAYBILL_MISMATCH: 409,
  CONFIRM_TRIES_SPENT: 409,
  NO_COMPARTMENT_FREE: 409,
  COMPARTMENT_UNAVAILABLE: 409,
  CODE_CAPACITY: 409,
  EXTENSION_NOT_ALLOWED: 409,
  CODE_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  CODE_LOCKED_OUT: 429,
  PIN_LOCKED_OUT: 429,
  LATCH_JAMMED: 502,
  BOARD_SILENT: 502,
  BUS_CLOSED: 502,
  BUS_DISCONNECTED: 503,
  NEEDS_INSPECTION: 409,
  BUS_TIMEOUT: 502,
  TRANSPORT_ERROR: 502,
  STORE_FULL: 507,
  STORE_CORRUPT: 503,
  LOCKER_STOPPING: 503,
};

export function httpStatusFor(code: ErrorCode): number {
  return statusOf[code] ?? 500;
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(private readonly maxBodyBytes: number) {}

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, parts: pattern.split('/').filter(Boolean), handler });
  }

  /** Handles the request if a route matches; false otherwise. A known path with another method is 405. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = requestUrl(req);
    const parts = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = match(r.parts, parts);
      if (!params) continue;
      if (r.method !== req.method) {
        if (!allowed.includes(r.method)) allowed.push(r.method);
        continue;
      }
      const ctx: RouteContext = { req, res, params, url, body: (schema) => readJson(req, this.maxBodyBytes, schema) };
      try {
        const result = await r.handler(ctx);
        if (result !== HANDLED) sendJson(res, 200, result ?? {});
      } catch (e) {
        sendError(res, e);
      }
      return true;
    }
    if (allowed.length) {
      sendMethodNotAllowed(res, req.method ?? '', url.pathname, allowed);
      return true;
    }
    return false;
  }
}

export function sendMethodNotAllowed(res: ServerResponse, method: string, path: string, allowed: string[]): void {
  // An unread body is drained so the connection can answer.
  res.req.resume();
  sendError(res, new LockerError(ErrorCodes.METHOD_NOT_ALLOWED, `${method.slice(0, 16)} is not allowed on ${path.slice(0, 200)}`, { allow: allowed }), { allow: allowed.join(', ') });
}

/**
 * The request target as a URL. Only the origin form (a path starting with one '/') is served: an
 * absolute URL, '//host', '*' or anything that does not parse is 400 INPUT_INVALID.
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//')) throw new LockerError(ErrorCodes.INPUT_INVALID, 'the request target must be a path');
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new LockerError(ErrorCodes.INPUT_INVALID, 'the request target is not a valid path');
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function match(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? '';
    const v = parts[i] ?? '';
    if (p.startsWith(':')) params[p.slice(1)] = v;
    else if (p !== v) return undefined;
  }
  return params;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: unknown, extraHeaders: Record<string, string> = {}): void {
  const le = toLockerError(e);
  const headers: Record<string, string> = { ...extraHeaders };
  const retry = le.context.retryAfterMs;
  if (typeof retry === 'number' && retryAfterCodes.has(le.code)) headers['retry-after'] = String(Math.max(1, Math.ceil(retry / 1000)));
  const status = httpStatusFor(le.code);
  // A 500 says nothing about the inside (no message of a thrown error, no path, no stack).
  const body = status >= 500 && status < 502 ? { code: ErrorCodes.INTERNAL, message: 'internal error', context: {} } : le.toJSON();
  sendJson(res, status, { error: body }, headers);
}

const retryAfterCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCodes.CODE_LOCKED_OUT, ErrorCodes.PIN_LOCKED_OUT, ErrorCodes.RATE_LIMITED, ErrorCodes.STREAMS_FULL, ErrorCodes.SESSIONS_FULL]);

// ---------------------------------------------------------------- web origin rules

/** Sent on every answer: the kiosk is never framed, sniffed, referred or shared cross-origin. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const safeMethods: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The web origin rules, before any route runs:
 * - Host must be one of the allowed names with the listening port (no DNS rebinding);
 * - a request a browser marks cross-origin (Origin or Sec-Fetch-Site) is refused, except a
 *   top-level navigation GET (the kiosk launcher's start page); a request without either
 *   header comes from no browser (curl, lockerctl) and is allowed;
 * - a state-changing request with a body must say application/json.
 * Returns the Host the request was made to.
 */
export function checkOrigin(req: IncomingMessage, allowedHosts: ReadonlySet<string>): string {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowedHosts.has(host)) throw new LockerError(ErrorCodes.HOST_NOT_ALLOWED, 'this host name is not served here');
  const method = req.method ?? 'GET';
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const navigation = safeMethods.has(method) && req.headers['sec-fetch-mode'] === 'navigate';
  if (!navigation) {
    if (origin !== undefined && origin !== `http://${host}`) throw new LockerError(ErrorCodes.ORIGIN_NOT_ALLOWED, 'requests from other origins are refused');
    if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') throw new LockerError(ErrorCodes.ORIGIN_NOT_ALLOWED, 'requests from other origins are refused');
  }
  if (!safeMethods.has(method)) {
    const type = req.headers['content-type'];
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (type !== undefined ? (type.split(';')[0] ?? '').trim().toLowerCase() !== 'application/json' : hasBody)
      throw new LockerError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'request bodies must be application/json');
  }
  return host;
}

/** Loopback names (and the configured extra names) with the listening port. */
export function allowedHostSet(port: number, extra: readonly string[], boundAddress?: string): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]', ...extra.map((n) => n.toLowerCase())];
  if (boundAddress && boundAddress !== '0.0.0.0' && boundAddress !== '::') names.push(boundAddress.includes(':') ? `[${boundAddress}]` : boundAddress);
  const out = new Set<string>();
  for (const n of names) {
    out.add(`${n}:${port}`);
    if (port === 80) out.add(n);
  }
  return out;
}

async function readJson<T extends z.ZodType>(req: IncomingMessage, limit: number, schema: T): Promise<z.infer<T>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new LockerError(ErrorCodes.PAYLOAD_TOO_LARGE, `request body over ${limit} bytes`, { limit });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new LockerError(ErrorCodes.PAYLOAD_TOO_LARGE, `request body over ${limit} bytes`, { limit });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let data: unknown = {};
  if (text.trim()) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new LockerError(ErrorCodes.INPUT_INVALID, 'the request body is not JSON');
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success)
    throw new LockerError(ErrorCodes.INPUT_INVALID, parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '), {
      issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  return parsed.data;
}
