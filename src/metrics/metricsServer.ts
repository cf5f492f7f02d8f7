// The /metrics endpoint: its own HTTP listener on loopback (not the kiosk server), for an agent
// on the controller to scrape. Bounded: only GET (and HEAD) /metrics, a Host header that names
// loopback (a web page in the kiosk browser cannot reach it through DNS rebinding), no request
// body, short timeouts, a few connections, and one scrape computed at a time (concurrent
// scrapes share it).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../config/deploymentChecks.js';
import { ErrorCodes, LockerError } from '../../kernel/errors.js';
import type { Logger } from '../logger.js';

export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

const MAX_CONNECTIONS = 8;

export class MetricsServer {
  private readonly server: Server;
  private scrape: Promise<string> | undefined;

  constructor(
    private readonly source: MetricsSource,
    private readonly logger: Logger,
  ) {
    this.server = createServer({ requestTimeout: 5_000, headersTimeout: 3_000, keepAliveTimeout: 2_000, maxHeaderSize: 8_192 }, (req, res) => this.handle(req, res));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.maxHeadersCount = 32;
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listens; resolves with the URL. Rejects with METRICS_LISTEN_FAILED (port taken, address missing). */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        reject(new LockerError(ErrorCodes.METRICS_LISTEN_FAILED, `cannot listen on ${host}:${port} for /metrics: ${err.message}`, { host, port }, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const reply = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // Nothing is read from a request: a body is refused, not buffered.
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'only GET /metrics\n', { allow: 'GET, HEAD', connection: 'close' });
    if (hasBody) return reply(400, 'no request body\n', { connection: 'close' });
    if (!hostIsLoopback(req.headers.host)) return reply(403, 'the metrics answer to a loopback Host only\n', { connection: 'close' });
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return reply(404, 'only GET /metrics\n');
    this.scrape ??= this.source.text().finally(() => (this.scrape = undefined));
    this.scrape.then(
      (text) => reply(200, text, { 'content-type': this.source.contentType }),
      (err: unknown) => {
        this.logger.error({ err }, 'collecting the metrics failed');
        reply(500, 'collecting the metrics failed\n');
      },
    );
  }
}

function hostIsLoopback(host: string | undefined): boolean {
  if (!host || host.length > 300) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return isLoopbackHost(name);
}
