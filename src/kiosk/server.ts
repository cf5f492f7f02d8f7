// The kiosk's local HTTP server: the touchscreen pages (static, served from src/kiosk/public),
// the JSON API they use (docs/kiosk-api.md) and server-sent events with live door state.
// Loopback by default. Inputs are validated with zod; every failure is a coded error.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { z } from 'zod';
import { type Clock } from '../clock.js';
import { SizeClass, sizeClasses, type LockerConfig } from '../config/schema.js';
import { LockerError, ErrorCodes } from '../errors.js';
import { type Logger } from '../logger.js';
import { type RandomSource } from '../random.js';
import { type Credentials } from '../domain/credentials.js';
import { type Locker, type LockerEvent } from '../domain/locker.js';
import { type CourierIdentity } from '../domain/views.js';
import { BadgeSessionIndex } from './badgeSessions.js';
import { HANDLED, Router, sendError, type RouteContext } from './http.js';
import { SessionBook } from './sessions.js';

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export type KioskPush = { type: 'scan'; text: string } | { type: 'scanner'; connected: boolean } | LockerEvent;

export interface KioskServerDeps {
  locker: Locker;
  credentials: Credentials;
  config: LockerConfig;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  health: () => HealthReport;
  publicDir: string;
  sim: boolean;
}

const Code = z.object({ code: z.string().min(1).max(512) });
const Waybill = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const mime: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

export class KioskServer {
  readonly router: Router;
  private readonly server: Server;
  private readonly couriers: SessionBook<CourierIdentity>;
  private readonly operators: SessionBook<{ id: string }>;
  private readonly streams = new Set<ServerResponse>();
  private readonly staticDirs: { prefix: string; dir: string }[] = [];
  private heartbeat?: NodeJS.Timeout;
  /** Badge sessions, so a revocation ends them at once. */
  private readonly badgeSessions: BadgeSessionIndex;
  private readonly offRevoked: () => void;

  constructor(private readonly d: KioskServerDeps) {
    this.router = new Router(d.config.kiosk.maxBodyBytes);
    this.couriers = new SessionBook(d.clock, d.random, d.config.kiosk.sessionIdleMs);
    this.operators = new SessionBook(d.clock, d.random, d.config.kiosk.sessionIdleMs);
    this.staticDirs.push({ prefix: '/', dir: d.publicDir });
    this.badgeSessions = new BadgeSessionIndex(d.clock);
    const revoked = (row: Parameters<BadgeSessionIndex['endCovered']>[0]): void => {
      const ended = this.badgeSessions.endCovered(row);
      if (ended > 0) d.logger.info({ ended, issuer: row.issuer, by: row.kind }, 'kiosk sessions of a revoked badge ended');
    };
    this.offRevoked = d.credentials.onBadgeRevoked(revoked);
    this.routes();
    d.locker.on((e) => this.push(e));
    this.server = createServer((req, res) => void this.onRequest(req, res));
    this.server.keepAliveTimeout = 5_000;
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 60_000;
  }

  /** Serves another folder of static files under a prefix (the simulator panel). */
  serveStatic(prefix: string, dir: string): void {
    this.staticDirs.unshift({ prefix, dir });
  }

  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // Keeps idle proxies and the browser's EventSource from dropping the stream.
    this.heartbeat = setInterval(() => {
      for (const s of this.streams) s.write(': keep-alive\n\n');
    }, 15_000);
    const a = this.server.address() as AddressInfo;
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    this.offRevoked();
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const s of this.streams) s.end();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Sends an event to every open /api/events stream. */
  push(e: KioskPush): void {
    // The event stream is open to anything on loopback: codes never go on it, and a deposit
    // is reduced to what a screen needs (no waybill, no carrier).
    if (e.type === 'demo-code') return;
    const out = e.type === 'deposit' ? { type: 'deposit', deposit: { id: e.deposit.id, kind: e.deposit.kind, state: e.deposit.state, compartment: e.deposit.compartment, ...(e.deposit.sessionId ? { sessionId: e.deposit.sessionId } : {}), ...(e.deposit.reassignedFrom ? { reassignedFrom: e.deposit.reassignedFrom } : {}) } } : e;
    const line = `data: ${JSON.stringify(out)}\n\n`;
    for (const s of this.streams) s.write(line);
  }

  /** Opens a server-sent event stream on this response; returns a function that writes to it. */
  openEventStream(ctx: RouteContext, streams: Set<ServerResponse>): typeof HANDLED {
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    ctx.res.write('retry: 2000\n\n');
    streams.add(ctx.res);
    ctx.req.on('close', () => streams.delete(ctx.res));
    return HANDLED;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (await this.router.handle(req, res)) return;
      if ((req.method === 'GET' || req.method === 'HEAD') && this.serveFile(req, res)) return;
      sendError(res, new LockerError(ErrorCodes.NOT_FOUND, `nothing at ${req.url ?? ''}`));
    } catch (e) {
      this.d.logger.error({ err: e }, 'kiosk request failed');
      sendError(res, e);
    }
  }

  private serveFile(req: IncomingMessage, res: ServerResponse): boolean {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    for (const { prefix, dir } of this.staticDirs) {
      if (!path.startsWith(prefix)) continue;
      let rel = decodeURIComponent(path.slice(prefix.length));
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(dir, rel));
      if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) continue;
      res.writeHead(200, { 'content-type': mime[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache', 'content-length': statSync(file).size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
      return true;
    }
    return false;
  }

  private courier(ctx: RouteContext): CourierIdentity {
    return this.couriers.get(ctx.req.headers.authorization);
  }

  private operator(ctx: RouteContext): { id: string } {
    return this.operators.get(ctx.req.headers.authorization);
  }

  private routes(): void {
    const r = this.router;
    const { locker, credentials, config } = this.d;

    r.add('GET', '/api/health', (ctx) => {
      const h = this.d.health();
      if (!h.ok) {
        ctx.res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        ctx.res.end(JSON.stringify(h));
        return HANDLED;
      }
      return h;
    });
    r.add('GET', '/api/info', () => ({
      lockerId: config.locker.id,
      ...(config.locker.name ? { name: config.locker.name } : {}),
      languages: ['en', 'zh-Hans'],
      screenIdleMs: config.kiosk.screenIdleMs,
      codeLength: config.codes.length,
      sizes: sizeClasses,
      carriers: this.d.credentials.carriers(),
      sim: this.d.sim,
    }));
    r.add('GET', '/api/events', (ctx) => this.openEventStream(ctx, this.streams));

    // consumer
    r.add('POST', '/api/pickup', async (ctx) => {
      const { code } = await ctx.body(Code);
      return { ...(await locker.pickup(code)), parcel: { kind: 'parcel' } };
    });
    r.add('GET', '/api/lockout', () => locker.lockout());
    r.add('POST', '/api/dropoff', async (ctx) => {
      const { code } = await ctx.body(Code);
      const deposit = await locker.dropoff(code);
      return { sessionId: deposit.sessionId ?? deposit.id, dropoffId: deposit.id, compartment: deposit.compartment, deposit };
    });
    r.add('GET', '/api/dropoff/:id', (ctx) => ({ deposit: locker.depositView(undefined, ctx.params.id ?? '') }));
    r.add('POST', '/api/dropoff/:id/done', (ctx) => ({ state: locker.depositView(undefined, ctx.params.id ?? '').state }));
    r.add('POST', '/api/dropoff/:id/cancel', (ctx) => ({ deposit: locker.cancel(undefined, ctx.params.id ?? '') }));

    // courier
    r.add('POST', '/api/courier/login', async (ctx) => {
      const body = await ctx.body(
        z.union([
          z.object({ badge: z.string().min(1).max(4096) }),
          z.object({ carrier: z.string().min(1).max(64), courierId: z.string().min(1).max(64), pin: z.string().min(1).max(16) }),
        ]),
      );
      const badgeLogin = 'badge' in body ? await credentials.courierByBadge(body.badge) : undefined;
      const identity = badgeLogin ?? ('badge' in body ? undefined : await credentials.courierByPin(body.carrier, body.courierId, body.pin));
      if (!identity) throw new LockerError(ErrorCodes.INPUT_INVALID, 'a badge or a courier ID and PIN is needed');
      const courier: CourierIdentity = { carrier: identity.carrier, courierId: identity.courierId, permissions: identity.permissions };
      const s = this.couriers.open(courier, 'expiresAt' in identity && typeof identity.expiresAt === 'number' ? identity.expiresAt : undefined);
      if (badgeLogin) this.badgeSessions.track(s.token, badgeLogin.badge, badgeLogin.expiresAt, () => this.couriers.close(`Bearer ${s.token}`));
      return { token: s.token, courier, expiresAt: s.expiresAt };
    });
    r.add('POST', '/api/courier/logout', (ctx) => {
      this.couriers.close(ctx.req.headers.authorization);
      return {};
    });
    r.add('GET', '/api/courier/me', (ctx) => ({ courier: this.courier(ctx) }));
    r.add('POST', '/api/courier/deposits', async (ctx) => {
      const courier = this.courier(ctx);
      const body = await ctx.body(z.object({ waybill: Waybill, size: SizeClass, accessible: z.boolean().optional() }));
      return { deposit: await locker.startDeposit(courier, body) };
    });
    r.add('GET', '/api/courier/deposits/:id', (ctx) => ({ deposit: locker.depositView(this.courier(ctx), ctx.params.id ?? '') }));
    r.add('POST', '/api/courier/deposits/:id/wrong-size', async (ctx) => {
      const courier = this.courier(ctx);
      const body = await ctx.body(z.object({ size: SizeClass.optional() }));
      return { deposit: await locker.wrongSize(courier, ctx.params.id ?? '', body.size) };
    });
    r.add('POST', '/api/courier/deposits/:id/reopen', async (ctx) => ({ deposit: await locker.reopen(this.courier(ctx), ctx.params.id ?? '') }));
    r.add('POST', '/api/courier/deposits/:id/cancel', (ctx) => ({ deposit: locker.cancel(this.courier(ctx), ctx.params.id ?? '') }));
    r.add('GET', '/api/courier/collections', (ctx) => ({ items: locker.collections(this.courier(ctx)) }));
    r.add('POST', '/api/courier/collections/:parcelId/open', async (ctx) => locker.openCollection(this.courier(ctx), ctx.params.parcelId ?? ''));

    // operator service mode
    r.add('POST', '/api/operator/login', async (ctx) => {
      const { badge } = await ctx.body(z.object({ badge: z.string().min(1).max(4096) }));
      const op = await credentials.operatorByBadge(badge);
      const s = this.operators.open({ id: op.id }, op.expiresAt);
      this.badgeSessions.track(s.token, op.badge, op.expiresAt, () => this.operators.close(`Bearer ${s.token}`));
      return { token: s.token, operator: { id: op.id }, expiresAt: s.expiresAt };
    });
    r.add('POST', '/api/operator/logout', (ctx) => {
      this.operators.close(ctx.req.headers.authorization);
      return {};
    });
    r.add('GET', '/api/operator/compartments', (ctx) => {
      this.operator(ctx);
      return { compartments: locker.compartments() };
    });
    r.add('POST', '/api/operator/compartments/:id/open', async (ctx) => {
      const op = this.operator(ctx);
      const { reason } = await ctx.body(z.object({ reason: z.string().trim().min(1).max(200) }));
      return locker.remoteOpen(ctx.params.id ?? '', reason, { kind: 'operator', id: op.id });
    });
    r.add('POST', '/api/operator/compartments/:id/service', async (ctx) => {
      const op = this.operator(ctx);
      const body = await ctx.body(z.object({ inService: z.boolean(), reason: z.string().trim().max(200).optional() }));
      return { compartment: locker.setService(ctx.params.id ?? '', body.inService, body.reason, { kind: 'operator', id: op.id }) };
    });
    r.add('POST', '/api/operator/test-doors', async (ctx) => {
      const op = this.operator(ctx);
      return { results: await locker.testDoors({ kind: 'operator', id: op.id }) };
    });
    r.add('GET', '/api/operator/alarms', (ctx) => {
      this.operator(ctx);
      return { alarms: locker.alarms.recent(50) };
    });
  }
}
