// The kiosk's local HTTP server: the touchscreen pages (static, served from src/kiosk/public),
// the JSON API they use (docs/kiosk-api.md) and server-sent events with live door state.
// Loopback by default. Inputs are validated with zod; every failure is a coded error.
//
// Two event streams: the public one (anything on loopback may read it) carries only what a
// passer-by sees on the screen; the private one, of the paired kiosk terminal, also carries
// door sessions, deposits, alarms and the results of scans, which the server interprets for
// the screen in use (the page never sees scanned text). See docs/kiosk-api.md.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Duplex } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { z } from 'zod';
import { type Clock, type TimerHandle } from '../../kernel/clock.js';
import { SizeClass, sizeClasses, type LockerConfig } from '../config/schema.js';
import { LockerError, ErrorCodes, isLockerError, toLockerError } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { type RandomSource } from '../../kernel/random.js';
import { type Credentials } from '../domain/credentials.js';
import { type Locker, type LockerEvent } from '../domain/locker.js';
import { collectionSkipReasons } from '../domain/events.js';
import { type CourierIdentity, type DepositView, type DoorOpened } from '../domain/views.js';
import { allowedHostSet, checkOrigin, HANDLED, httpStatusFor, requestUrl, Router, securityHeaders, sendError, sendMethodNotAllowed, type RouteContext } from './http.js';
import { BadgeSessionIndex } from './badgeSessions.js';
import { kioskLimits, LoginGate, type KioskLimits } from './limits.js';
import { codeFromScan, looksLikeBadge, scanScreens, type ScanScreen } from './scans.js';
import { bearer, SessionBook } from './sessions.js';
import { supportDirectory } from './support.js';
import { addFlowRoutes } from './flowRoutes.js';
import { PickupReports } from './pickupReports.js';
import { TerminalPairings } from './terminal.js';

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export type KioskPush = { type: 'scanner'; connected: boolean } | { type: 'lockout'; lockedOut: boolean; retryAfterMs: number; failuresLeft: number } | LockerEvent;

export interface KioskServerDeps {
  locker: Locker;
  credentials: Credentials;
  config: LockerConfig;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  health: () => HealthReport;
  publicDir: string;
  /** Demo mode: the terminal pairs without its key (never on a real locker). */
  sim: boolean;
  /** The terminal key (kiosk-terminal.key in the data folder). */
  terminalKey: string;
  limits?: Partial<KioskLimits>;
  /** The code length in force (remote setConfig may change it); config.codes.length otherwise. */
  codeLength?: () => number;
  /** A heartbeat of the paired kiosk page arrived (the kiosk watchdog, src/kiosk/watchdog.ts). */
  onHeartbeat?: () => void;
}

export interface KioskStats {
  publicStreams: number;
  privateStreams: number;
  connections: number;
  courierSessions: number;
  operatorSessions: number;
  bounds: { headersTimeoutMs: number; requestTimeoutMs: number; idleSocketTimeoutMs: number; maxHeaderBytes: number; maxConnections: number };
}

const Code = z.object({ code: z.string().min(1).max(512) });
const Waybill = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');
const Badge = z.string().min(1).max(4096);

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

type ScanAction = 'pickup' | 'dropoff' | 'login' | 'waybill' | 'confirm';

interface DropoffOpened {
  sessionId: string;
  dropoffId: string;
  compartment: DoorOpened['compartment'];
  deposit: DepositView;
  /** Every follow-up call on this drop-off shows it (Authorization: Bearer <secret>). */
  secret: string;
}

export class KioskServer {
  readonly router: Router;
  private readonly server: Server;
  private readonly answering = new WeakSet<Duplex>();
  private readonly limits: KioskLimits;
  private readonly couriers: SessionBook<CourierIdentity>;
  private readonly operators: SessionBook<{ id: string }>;
  private readonly pairings: TerminalPairings;
  private readonly gates: Record<'badge' | 'pin' | 'operator' | 'pair', LoginGate>;
  private readonly streams = new Set<ServerResponse>();
  /** The terminal's private streams, by the pairing they belong to. */
  private readonly privateStreams = new Map<ServerResponse, string>();
  private readonly staticDirs: { prefix: string; dir: string }[] = [];
  private hosts: ReadonlySet<string> = new Set();
  private connections = 0;
  /** What a scan means now: the screen the paired terminal last reported. */
  private screen: { mode: ScanScreen; pairing: string; courierToken?: string; parcel?: string } | undefined;
  private scanBusy = false;
  private lastHeartbeatAt = -Infinity;
  private heartbeat?: TimerHandle;
  /** Badge sessions, so a revocation ends them at once. */
  private readonly badgeSessions: BadgeSessionIndex;
  private readonly offRevoked: () => void;
  private readonly reports: PickupReports;

  constructor(private readonly d: KioskServerDeps) {
    this.limits = kioskLimits(d.limits);
    this.reports = new PickupReports(d.clock, d.random, d.config.kiosk.problemGraceS * 1000);
    const l = this.limits;
    this.router = new Router(d.config.kiosk.maxBodyBytes);
    const books = { perSubject: l.sessionsPerSubject, max: l.maxSessions };
    this.couriers = new SessionBook(d.clock, d.random, d.config.kiosk.sessionIdleMs, books);
    this.operators = new SessionBook(d.clock, d.random, d.config.kiosk.sessionIdleMs, books);
    this.pairings = new TerminalPairings(d.sim ? undefined : d.terminalKey, d.clock, d.random, l.terminalPairings, (gone) => {
      // A pairing pushed out by a newer one is no terminal any more: its private streams end.
      for (const [s, p] of this.privateStreams) {
        if (p !== gone) continue;
        this.privateStreams.delete(s);
        s.end();
      }
    });
    const gate = (): LoginGate => new LoginGate(d.clock, l.loginBurst, l.loginRefillPerSecond, l.loginConcurrency);
    this.gates = { badge: gate(), pin: gate(), operator: gate(), pair: gate() };
    this.staticDirs.push({ prefix: '/', dir: d.publicDir });
    this.badgeSessions = new BadgeSessionIndex(d.clock);
    const revoked = (row: Parameters<BadgeSessionIndex['endCovered']>[0]): void => {
      const ended = this.badgeSessions.endCovered(row);
      if (ended > 0) d.logger.info({ ended, issuer: row.issuer, by: row.kind }, 'kiosk sessions of a revoked badge ended');
    };
    this.offRevoked = d.credentials.onBadgeRevoked(revoked);
    this.routes();
    d.locker.on((e) => this.push(e));
    this.server = createServer(
      // requireHostHeader off: a request without Host reaches the Host allow-list and gets its coded 403.
      { maxHeaderSize: l.maxHeaderBytes, headersTimeout: l.headersTimeoutMs, requestTimeout: l.requestTimeoutMs, connectionsCheckingInterval: 1_000, requireHostHeader: false },
      (req, res) => {
        // A socket whose answer is under way (an event stream, a file) cannot take another
        // status line: a parse error on it ends the connection instead (see clientError below).
        this.answering.add(req.socket);
        res.once('close', () => this.answering.delete(req.socket));
        // A request is under way: the idle bound is off (requestTimeout bounds its arrival, and
        // after the answer Node's keepAliveTimeout ends a connection that stays quiet).
        req.socket.setTimeout(0);
        void this.onRequest(req, res);
      },
    );
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = l.maxConnections;
    this.server.on('connection', (socket) => {
      this.connections += 1;
      // A socket that sends nothing is ended (Node's own timeout handler destroys it).
      socket.setTimeout(l.idleSocketTimeoutMs);
      socket.once('close', () => (this.connections -= 1));
    });
    // Requests the HTTP parser refuses (headers too large or too slow, bad framing) get a coded
    // answer with the same headers as any other, and the connection ends.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable || (err.code === 'ECONNRESET' && !socket.readable) || this.answering.has(socket)) return void socket.destroy();
      const [status, reason, code] =
        err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', ErrorCodes.PAYLOAD_TOO_LARGE] : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', ErrorCodes.INPUT_INVALID] : [400, 'Bad Request', ErrorCodes.INPUT_INVALID];
      const body = JSON.stringify({ error: { code, message: reason.toLowerCase(), context: {} } });
      const headers = Object.entries({ ...securityHeaders, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), connection: 'close' })
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n');
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers}\r\n\r\n${body}`);
    });
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
    this.heartbeat = this.d.clock.setInterval(() => {
      for (const s of [...this.streams, ...this.privateStreams.keys()]) this.write(s, ': keep-alive\n\n');
    }, 15_000);
    const a = this.server.address() as AddressInfo;
    this.hosts = allowedHostSet(a.port, this.d.config.kiosk.allowedHosts, a.address);
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    this.offRevoked();
    this.heartbeat?.cancel();
    for (const s of [...this.streams, ...this.privateStreams.keys()]) s.end();
    this.streams.clear();
    this.privateStreams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  stats(): KioskStats {
    const l = this.limits;
    return {
      publicStreams: this.streams.size,
      privateStreams: this.privateStreams.size,
      connections: this.connections,
      courierSessions: this.couriers.size,
      operatorSessions: this.operators.size,
      bounds: { headersTimeoutMs: this.server.headersTimeout, requestTimeoutMs: this.server.requestTimeout, idleSocketTimeoutMs: l.idleSocketTimeoutMs, maxHeaderBytes: l.maxHeaderBytes, maxConnections: l.maxConnections },
    };
  }

  /** Sends an event to the open /api/events streams that may see it. */
  push(e: KioskPush): void {
    if (e.type === 'demo-code') return;
    const pub = publicView(e);
    const priv = privateView(e);
    if (pub) {
      const line = `data: ${JSON.stringify(pub)}\n\n`;
      for (const s of this.streams) this.write(s, line);
    }
    if (priv) {
      const line = `data: ${JSON.stringify(priv)}\n\n`;
      for (const s of this.privateStreams.keys()) this.write(s, line);
    }
  }

  /** A message for the paired terminal only (scan results: tokens, waybills, drop-off secrets). */
  private pushPrivate(pairing: string, message: Record<string, unknown>): void {
    const line = `data: ${JSON.stringify(message)}\n\n`;
    for (const [s, p] of this.privateStreams) if (p === pairing) this.write(s, line);
  }

  /** Writes to a stream; a reader that does not drain is dropped once its backlog passes the bound. */
  private write(s: ServerResponse, line: string): void {
    if (s.destroyed || s.writableEnded) {
      this.forget(s);
      return;
    }
    s.write(line);
    if (s.writableLength > this.limits.streamBufferBytes) {
      this.d.logger.warn({ buffered: s.writableLength }, 'dropped an event stream that does not drain');
      this.forget(s);
      s.destroy();
    }
  }

  private forget(s: ServerResponse): void {
    this.streams.delete(s);
    this.privateStreams.delete(s);
  }

  /** Opens a server-sent event stream on this response (bounded like the public stream). */
  openEventStream(ctx: RouteContext, streams: Set<ServerResponse>): typeof HANDLED {
    if (streams.size >= this.limits.publicStreams) throw streamsFull();
    this.startStream(ctx, false);
    streams.add(ctx.res);
    ctx.req.on('close', () => streams.delete(ctx.res));
    return HANDLED;
  }

  private startStream(ctx: RouteContext, paired: boolean): void {
    ctx.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    ctx.res.write(`retry: 2000\n\ndata: ${JSON.stringify({ type: 'terminal', paired })}\n\n`);
  }

  private events(ctx: RouteContext): typeof HANDLED {
    const pairing = this.pairings.fromCookie(ctx.req.headers.cookie);
    if (!pairing) return this.openEventStream(ctx, this.streams);
    if (this.privateStreams.size >= this.limits.privateStreams) throw streamsFull();
    this.startStream(ctx, true);
    this.privateStreams.set(ctx.res, pairing);
    ctx.req.on('close', () => this.privateStreams.delete(ctx.res));
    return HANDLED;
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
    try {
      try {
        checkOrigin(req, this.hosts);
        requestUrl(req);
      } catch (e) {
        req.resume();
        throw e;
      }
      if (await this.router.handle(req, res)) return;
      if (this.serveFile(req, res)) return;
      sendError(res, new LockerError(ErrorCodes.NOT_FOUND, 'nothing here'));
    } catch (e) {
      if (!isLockerError(e) || e.code === ErrorCodes.INTERNAL) this.d.logger.error({ err: e }, 'kiosk request failed');
      sendError(res, e);
    }
  }

  private serveFile(req: IncomingMessage, res: ServerResponse): boolean {
    const path = requestUrl(req).pathname;
    for (const { prefix, dir } of this.staticDirs) {
      if (!path.startsWith(prefix)) continue;
      let rel: string;
      try {
        rel = decodeURIComponent(path.slice(prefix.length));
      } catch {
        throw new LockerError(ErrorCodes.INPUT_INVALID, 'the path is not valid percent-encoding');
      }
      if (rel.includes('\0')) throw new LockerError(ErrorCodes.INPUT_INVALID, 'the path holds a NUL byte');
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = normalize(join(dir, rel));
      if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) continue;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendMethodNotAllowed(res, req.method ?? '', path, ['GET', 'HEAD']);
        return true;
      }
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

  /** The drop-off's starter secret; without one the drop-off is reported as missing. */
  private dropoffHolder(ctx: RouteContext): { secret: string } {
    const secret = bearer(ctx.req.headers.authorization);
    if (!secret) throw new LockerError(ErrorCodes.NOT_FOUND, `no deposit ${(ctx.params.id ?? '').slice(0, 64)}`);
    return { secret };
  }

  private terminal(ctx: RouteContext): string {
    const pairing = this.pairings.fromCookie(ctx.req.headers.cookie);
    if (!pairing) throw new LockerError(ErrorCodes.TERMINAL_NOT_PAIRED, 'only the paired kiosk terminal may do this');
    return pairing;
  }

  // ---------------------------------------------------------------- flows shared by API and scanner

  private async pickup(code: string): Promise<DoorOpened & { parcel: { kind: 'parcel'; carrier: string }; report: string }> {
    try {
      const { parcelId, carrier, ...opened } = await this.d.locker.pickup(code);
      // The handle for "report a problem" on this pickup (src/kiosk/pickupReports.ts); the
      // carrier, for its support contact on the screens that follow.
      return { ...opened, parcel: { kind: 'parcel', carrier }, report: this.reports.open(opened.sessionId, parcelId) };
    } finally {
      this.pushLockout();
    }
  }

  private async dropoff(code: string, accessible = false): Promise<DropoffOpened> {
    const secret = Buffer.from(this.d.random.bytes(24)).toString('base64url');
    try {
      const deposit = await this.d.locker.dropoff(code, secret, { accessible });
      return { sessionId: deposit.sessionId ?? deposit.id, dropoffId: deposit.id, compartment: deposit.compartment, deposit, secret };
    } finally {
      this.pushLockout();
    }
  }

  /** Runs a use of a typed code and then tells the screens the keypad budget. */
  private async withLockout<T>(f: () => Promise<T> | T): Promise<T> {
    try {
      return await f();
    } finally {
      this.pushLockout();
    }
  }

  private pushLockout(): void {
    try {
      this.push({ type: 'lockout', ...this.d.locker.lockout() });
    } catch (err) {
      this.d.logger.error({ err }, 'could not read the keypad lockout');
    }
  }

  private async courierByBadge(badge: string): Promise<{ token: string; courier: CourierIdentity; expiresAt: number }> {
    const identity = await this.gates.badge.run(() => this.d.credentials.courierByBadge(badge));
    const opened = this.openCourier(identity, identity.expiresAt);
    // A revocation of this badge ends the session at once.
    this.badgeSessions.track(opened.token, identity.badge, identity.expiresAt, () => this.couriers.close(`Bearer ${opened.token}`));
    return opened;
  }

  private openCourier(identity: CourierIdentity, badgeExpiresAt: unknown): { token: string; courier: CourierIdentity; expiresAt: number } {
    const courier: CourierIdentity = { carrier: identity.carrier, courierId: identity.courierId, permissions: identity.permissions };
    const s = this.couriers.open(courier, `${courier.carrier}/${courier.courierId}`, typeof badgeExpiresAt === 'number' ? badgeExpiresAt : undefined);
    return { token: s.token, courier, expiresAt: s.expiresAt };
  }

  private async operatorByBadge(badge: string): Promise<{ token: string; operator: { id: string }; expiresAt: number }> {
    const op = await this.gates.operator.run(() => this.d.credentials.operatorByBadge(badge));
    const s = this.operators.open({ id: op.id }, op.id, op.expiresAt);
    this.badgeSessions.track(s.token, op.badge, op.expiresAt, () => this.operators.close(`Bearer ${s.token}`));
    return { token: s.token, operator: { id: op.id }, expiresAt: s.expiresAt };
  }

  /** A courier badge, else an operator badge (a badge that is not a courier's is tried as one). */
  private async badgeLogin(badge: string): Promise<Record<string, unknown>> {
    try {
      const r = await this.courierByBadge(badge);
      return { role: 'courier', token: r.token, courier: r.courier, expiresAt: r.expiresAt };
    } catch (e) {
      const le = toLockerError(e);
      // Not a courier's badge (401, but not an expired one): it may be an operator's.
      if (httpStatusFor(le.code) === 401 && le.code !== ErrorCodes.BADGE_EXPIRED && le.code !== ErrorCodes.BADGE_REVOKED) {
        try {
          const r = await this.operatorByBadge(badge);
          return { role: 'operator', token: r.token, operator: r.operator, expiresAt: r.expiresAt };
        } catch (oe) {
          if (isLockerError(oe, ErrorCodes.BADGE_EXPIRED) || isLockerError(oe, ErrorCodes.BADGE_REVOKED) || isLockerError(oe, ErrorCodes.RATE_LIMITED)) throw oe;
        }
      }
      throw le;
    }
  }

  /**
   * Text from the barcode scanner, read for the screen the paired terminal shows. The result goes
   * to that terminal's private stream only; with no terminal paired the scan is dropped.
   */
  async scanned(text: string): Promise<void> {
    const screen = this.screen;
    if (!screen || !this.pairings.alive(screen.pairing) || this.scanBusy || screen.mode === 'none') return;
    const t = text.trim();
    if (!t || t.length > 4096) return;
    let action: ScanAction;
    // A signed badge logs in on any code screen; anything else there is the code, passed to the
    // code vault as scanned (digits in a link are taken out; other formats are the vault's to read).
    if (screen.mode === 'waybill') action = 'waybill';
    else if (screen.mode === 'collect') action = 'confirm';
    else if (screen.mode === 'login' || looksLikeBadge(t)) action = 'login';
    else if (screen.mode === 'home') action = 'pickup';
    else action = screen.mode;
    // One scan at a time; the next one means something only on the screen the page shows next.
    this.scanBusy = true;
    this.screen = { ...screen, mode: 'none' };
    const send = (m: Record<string, unknown>): void => this.pushPrivate(screen.pairing, { type: 'scan-result', action, ...m });
    try {
      if (action === 'waybill' || action === 'confirm') {
        const courier = screen.courierToken ? this.couriers.peek(screen.courierToken) : undefined;
        if (!courier) return;
        const waybill = Waybill.safeParse(t);
        if (!waybill.success) send({ state: 'failed', error: new LockerError(ErrorCodes.INPUT_INVALID, 'this is not a waybill').toJSON() });
        // A collected parcel's waybill: lockerd checks it (the page is told the outcome, not the text).
        else if (action === 'confirm') send({ state: 'ok', confirmation: this.d.locker.confirmCollection(courier, screen.parcel ?? '', { by: 'scanned', waybill: waybill.data }) });
        else send({ state: 'ok', waybill: waybill.data });
        return;
      }
      send({ state: 'busy' });
      if (action === 'login') send({ state: 'ok', ...(await this.badgeLogin(t)) });
      else if (action === 'pickup') send({ state: 'ok', opened: await this.pickup(codeFromScan(t) ?? t) });
      else send({ state: 'ok', opened: await this.dropoff(codeFromScan(t) ?? t) });
    } catch (e) {
      const le = toLockerError(e);
      if (le.code === ErrorCodes.INTERNAL) this.d.logger.error({ err: e }, 'scan failed');
      send({ state: 'failed', error: le.code === ErrorCodes.INTERNAL ? { code: le.code, message: 'internal error', context: {} } : le.toJSON() });
    } finally {
      this.scanBusy = false;
    }
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
      heartbeatMs: config.kiosk.heartbeatMs,
      codeLength: this.d.codeLength ? this.d.codeLength() : config.codes.length,
      sizes: sizeClasses,
      carriers: this.d.credentials.carriers(),
      support: supportDirectory(config.support, locker.views.carriers()),
      sim: this.d.sim,
    }));
    r.add('GET', '/api/events', (ctx) => this.events(ctx));

    // the kiosk terminal
    r.add('POST', '/api/kiosk/pair', async (ctx) => {
      const { key } = await ctx.body(z.object({ key: z.string().min(1).max(256).optional() }));
      const token = await this.gates.pair.run(() => this.pairings.pair(key));
      ctx.res.setHeader('set-cookie', this.pairings.cookie(token));
      return { paired: true, demo: this.pairings.demo };
    });
    r.add('POST', '/api/kiosk/heartbeat', async (ctx) => {
      this.terminal(ctx);
      await ctx.body(z.strictObject({}));
      // At most one a second counts (the page sends one every heartbeatMs); more are refused.
      const now = this.d.clock.monotonic();
      if (now - this.lastHeartbeatAt < 1_000) throw new LockerError(ErrorCodes.RATE_LIMITED, 'heartbeats come at most once a second', { retryAfterMs: 1_000 });
      this.lastHeartbeatAt = now;
      this.d.onHeartbeat?.();
      return { ok: true, everyMs: this.d.config.kiosk.heartbeatMs };
    });
    r.add('POST', '/api/kiosk/screen', async (ctx) => {
      const pairing = this.terminal(ctx);
      const { screen, parcel } = await ctx.body(z.object({ screen: z.enum(scanScreens), parcel: z.string().min(1).max(64).optional() }));
      // A waybill scan goes to the courier whose deposit or collection screen this is, so it
      // needs that session; a collection's scan confirms the parcel the screen names.
      let courierToken: string | undefined;
      if (screen === 'waybill' || screen === 'collect') {
        this.courier(ctx);
        courierToken = bearer(ctx.req.headers.authorization);
        if (screen === 'collect' && parcel === undefined) throw new LockerError(ErrorCodes.INPUT_INVALID, 'the collection screen names the parcel it confirms');
      }
      this.screen = { mode: screen, pairing, ...(courierToken ? { courierToken } : {}), ...(screen === 'collect' ? { parcel } : {}) };
      return { screen };
    });

    // consumer
    r.add('POST', '/api/pickup', async (ctx) => {
      const { code } = await ctx.body(Code);
      return this.pickup(code);
    });
    r.add('GET', '/api/lockout', () => locker.lockout());
    addFlowRoutes(r, { locker, config, reports: this.reports, withLockout: (f) => this.withLockout(f) });
    r.add('POST', '/api/dropoff', async (ctx) => {
      // accessible: the consumer asked for a low compartment (issue 11, flow 4).
      const { code, accessible } = await ctx.body(Code.extend({ accessible: z.boolean().optional() }));
      return this.dropoff(code, accessible === true);
    });
    r.add('GET', '/api/dropoff/:id', (ctx) => ({ deposit: locker.depositView(this.dropoffHolder(ctx), ctx.params.id ?? '') }));
    r.add('POST', '/api/dropoff/:id/done', (ctx) => ({ state: locker.depositView(this.dropoffHolder(ctx), ctx.params.id ?? '').state }));
    r.add('POST', '/api/dropoff/:id/cancel', (ctx) => ({ deposit: locker.cancel(this.dropoffHolder(ctx), ctx.params.id ?? '') }));
    // "Does not fit": the next larger free door (or the size asked); the first is released once closed.
    r.add('POST', '/api/dropoff/:id/wrong-size', async (ctx) => {
      const holder = this.dropoffHolder(ctx);
      const body = await ctx.body(z.object({ size: SizeClass.optional() }));
      return { deposit: await locker.wrongSize(holder, ctx.params.id ?? '', body.size) };
    });

    // courier
    r.add('POST', '/api/courier/login', async (ctx) => {
      const body = await ctx.body(z.union([z.object({ badge: Badge }), z.object({ carrier: z.string().min(1).max(64), courierId: z.string().min(1).max(64), pin: z.string().min(1).max(16) })]));
      if ('badge' in body) return this.courierByBadge(body.badge);
      const identity = await this.gates.pin.run(() => credentials.courierByPin(body.carrier, body.courierId, body.pin));
      return this.openCourier(identity, undefined);
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
    // The size screen: how many compartments of each size are free now (issue 11, flow 7).
    r.add('GET', '/api/courier/sizes', (ctx) => {
      this.courier(ctx);
      const all = locker.compartments();
      const inner = this.d.config.layout.sizes ?? {};
      return {
        sizes: sizeClasses.map((size) => {
          const dims = inner[size];
          return { size, free: all.filter((c) => c.size === size && c.state === 'free').length, total: all.filter((c) => c.size === size).length, ...(dims ? { inner: dims } : {}) };
        }),
      };
    });
    r.add('GET', '/api/courier/collections', (ctx) => {
      const courier = this.courier(ctx);
      return { items: locker.collections(courier), unconfirmed: locker.unconfirmedCollections(courier) };
    });
    r.add('POST', '/api/courier/collections/:parcelId/open', async (ctx) => locker.openCollection(this.courier(ctx), ctx.params.parcelId ?? ''));
    // The waybill typed to confirm a collected parcel, or "could not scan" with a reason (issue 11, flow 7).
    r.add('POST', '/api/courier/collections/:parcelId/confirm', async (ctx) => {
      const courier = this.courier(ctx);
      const body = await ctx.body(z.union([z.strictObject({ waybill: Waybill }), z.strictObject({ skip: z.enum(collectionSkipReasons) })]));
      const proof = 'waybill' in body ? { by: 'typed' as const, waybill: body.waybill } : { by: 'skipped' as const, reason: body.skip };
      return { confirmation: locker.confirmCollection(courier, ctx.params.parcelId ?? '', proof) };
    });

    // operator service mode
    r.add('POST', '/api/operator/login', async (ctx) => {
      const { badge } = await ctx.body(z.object({ badge: Badge }));
      return this.operatorByBadge(badge);
    });
    r.add('POST', '/api/operator/logout', (ctx) => {
      this.operators.close(ctx.req.headers.authorization);
      return {};
    });
    r.add('GET', '/api/operator/compartments', (ctx) => {
      this.operator(ctx);
      return { compartments: locker.compartments() };
    });
    r.add('GET', '/api/operator/compartments/:id', (ctx) => {
      this.operator(ctx);
      return locker.compartmentDetails(ctx.params.id ?? '');
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
    // Service mode "clear a stuck state" (issue 11, flow 8): Locker.clearStuck.
    r.add('POST', '/api/operator/compartments/:id/clear-stuck', async (ctx) => {
      const op = this.operator(ctx);
      const { reason } = await ctx.body(z.strictObject({ reason: z.string().trim().min(1).max(200) }));
      return { compartment: locker.clearStuck(ctx.params.id ?? '', reason, { kind: 'operator', id: op.id }) };
    });
    r.add('POST', '/api/operator/test-doors', async (ctx) => {
      const op = this.operator(ctx);
      return { results: await locker.testDoors({ kind: 'operator', id: op.id }) };
    });
    // Uncertain outcomes (docs/architecture.md, "Uncertain outcomes"): list, then open, look, close and settle.
    r.add('GET', '/api/operator/inspections', (ctx) => {
      this.operator(ctx);
      return { inspections: locker.inspectionList() };
    });
    r.add('POST', '/api/operator/compartments/:id/settle', async (ctx) => {
      const op = this.operator(ctx);
      const { verdict } = await ctx.body(z.strictObject({ verdict: z.enum(['empty', 'occupied']) }));
      return { compartment: await locker.settleInspection(ctx.params.id ?? '', verdict, { kind: 'operator', id: op.id }) };
    });
    r.add('GET', '/api/operator/alarms', (ctx) => {
      this.operator(ctx);
      return { alarms: locker.alarms.recent(50) };
    });
  }
}

function streamsFull(): LockerError {
  return new LockerError(ErrorCodes.STREAMS_FULL, 'too many event streams are open', { retryAfterMs: 5_000 });
}

/** What the public stream carries: what any passer-by sees on the screen, nothing to act with. */
function publicView(e: Exclude<KioskPush, { type: 'demo-code' }>): Record<string, unknown> | undefined {
  switch (e.type) {
    case 'door':
      return { type: 'door', compartment: e.compartment, door: e.door };
    case 'compartment':
    case 'scanner':
    case 'lockout':
      return e;
    default:
      return undefined;
  }
}

/** The paired terminal's stream: also door sessions, deposits (without waybill, carrier or code) and alarms. */
function privateView(e: Exclude<KioskPush, { type: 'demo-code' }>): Record<string, unknown> {
  if (e.type !== 'deposit') return e;
  const d = e.deposit;
  return {
    type: 'deposit',
    deposit: { id: d.id, kind: d.kind, state: d.state, compartment: d.compartment, ...(d.sessionId ? { sessionId: d.sessionId } : {}), ...(d.reassignedFrom ? { reassignedFrom: d.reassignedFrom } : {}) },
  };
}
