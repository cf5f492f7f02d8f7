// A small HTTP toolkit for the kiosk API: routing by method and path pattern, bounded JSON
// bodies validated with zod, and one mapping from LockerError codes to HTTP statuses.
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type z } from 'zod';
import { LockerError, ErrorCodes, type ErrorCode, toLockerError } from '../errors.js';

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
  CODE_UNKNOWN: 404,
  RESERVATION_UNKNOWN: 404,
  TRANSACTION_STATE: 409,
  DOOR_BUSY: 409,
  WAYBILL_DUPLICATE: 409,
  NO_COMPARTMENT_FREE: 409,
  COMPARTMENT_UNAVAILABLE: 409,
  CODE_CAPACITY: 409,
  CODE_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  CODE_LOCKED_OUT: 429,
  PIN_LOCKED_OUT: 429,
  LATCH_JAMMED: 502,
  BOARD_SILENT: 502,
  BUS_CLOSED: 502,
  BUS_TIMEOUT: 502,
  TRANSPORT_ERROR: 502,
  STORE_FULL: 507,
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

  /** Handles the request if a route matches; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(safeDecode);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = match(r.parts, parts);
      if (!params) continue;
      pathMatched = true;
      if (r.method !== req.method) continue;
      const ctx: RouteContext = { req, res, params, url, body: (schema) => readJson(req, this.maxBodyBytes, schema) };
      try {
        const result = await r.handler(ctx);
        if (result !== HANDLED) sendJson(res, 200, result ?? {});
      } catch (e) {
        sendError(res, e);
      }
      return true;
    }
    if (pathMatched) {
      sendError(res, new LockerError(ErrorCodes.NOT_FOUND, `${req.method ?? ''} is not allowed on ${url.pathname}`));
      return true;
    }
    return false;
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

export function sendError(res: ServerResponse, e: unknown): void {
  const le = toLockerError(e);
  const headers: Record<string, string> = {};
  const retry = le.context.retryAfterMs;
  if ((le.code === ErrorCodes.CODE_LOCKED_OUT || le.code === ErrorCodes.PIN_LOCKED_OUT) && typeof retry === 'number') headers['retry-after'] = String(Math.ceil(retry / 1000));
  sendJson(res, httpStatusFor(le.code), { error: le.toJSON() }, headers);
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
