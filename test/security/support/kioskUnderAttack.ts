// The real lockerd (simulator hardware) with its real kiosk server on a free loopback port, and
// the raw HTTP a stranger on the controller or a web page in its browser would send: any Host,
// Origin, content type, cookie or method, and event streams read as bytes.
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLockerd, type RunningLockerd } from '../../../src/composition/startLockerd.js';
import { makeDemoLocker, type ConfigOverrides, type DemoLocker } from '../../support/demoLocker.js';
import { scenarioOverrides, waitFor } from '../../support/lockerHarness.js';

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { error?: { code: string; message: string; context: Record<string, unknown> } } & Record<string, unknown>;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface KioskUnderAttackOptions {
  overrides?: ConfigOverrides;
  sim?: boolean;
  /** Passed to startLockerd as kioskLimits (bounds small enough for a test to reach). */
  limits?: Record<string, number>;
}

export class KioskUnderAttack {
  private constructor(
    readonly running: RunningLockerd,
    readonly demo: DemoLocker,
    readonly dataDir: string,
  ) {}

  static async start(o: KioskUnderAttackOptions = {}): Promise<KioskUnderAttack> {
    const dataDir = await mkdtemp(join(tmpdir(), 'lockerd-sec-'));
    const demo = await makeDemoLocker(dataDir, scenarioOverrides(o.overrides));
    const options = { config: demo.config, sim: o.sim ?? true, port: 0, ...(o.limits ? { kioskLimits: o.limits } : {}) };
    const running = await startLockerd(options as Parameters<typeof startLockerd>[0]);
    const k = new KioskUnderAttack(running, demo, dataDir);
    await waitFor('every door read once', () => running.locker.compartments().every((c) => c.door !== 'unknown' || c.state === 'out_of_service'), 5_000);
    return k;
  }

  get url(): string {
    return this.running.url;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** The Host a browser on the kiosk sends. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await this.running.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** One request exactly as given (no headers added but content-length). */
  raw(r: RawRequest): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: this.host, ...(r.headers ?? {}) };
      if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
      const req = request({ host: '127.0.0.1', port: this.port, method: r.method ?? 'GET', path: r.path, headers, setHost: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: RawReply['json'] = {};
          try {
            json = JSON.parse(text) as RawReply['json'];
          } catch {
            json = {};
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      if (r.body !== undefined) req.write(r.body);
      req.end();
    });
  }

  /** A JSON call as the kiosk's own page makes it (same origin). */
  json(method: string, path: string, body?: unknown, token?: string, extra: Record<string, string> = {}): Promise<RawReply> {
    return this.raw({
      method,
      path,
      headers: {
        origin: `http://${this.host}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...extra,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  /** An event stream read as text; cookie makes it the kiosk terminal's own. */
  async stream(cookie?: string): Promise<RawStream> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.port, method: 'GET', path: '/api/events', headers: { host: this.host, accept: 'text/event-stream', ...(cookie ? { cookie } : {}) }, setHost: false },
        (res) => {
          const s = new RawStream(res.statusCode ?? 0, res.headers, () => req.destroy());
          res.on('data', (c: Buffer) => s.add(c.toString('utf8')));
          res.on('error', () => undefined);
          resolve(s);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  /** Pairs like the kiosk page does and returns the cookie to send. */
  async pair(key?: string): Promise<string> {
    const r = await this.json('POST', '/api/kiosk/pair', key ? { key } : {});
    if (r.status !== 200) throw new Error(`pairing failed: ${r.status} ${r.text}`);
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    const cookie = set[0]?.split(';')[0];
    if (!cookie) throw new Error('pairing set no cookie');
    return cookie;
  }

  async announce(carrier: string, body: { waybill: string; size: string; kind?: 'parcel' | 'dropoff'; code?: string }): Promise<{ parcelId: string; code?: string }> {
    const r = await this.json('POST', `/sim/carriers/${carrier}/reservations`, body);
    if (r.status !== 200) throw new Error(`announce: ${r.status} ${r.text}`);
    return r.json as unknown as { parcelId: string; code?: string };
  }
}

export class RawStream {
  text = '';
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly close: () => void,
  ) {}

  add(s: string): void {
    this.text += s;
  }

  /** The data: messages received so far. */
  get events(): Record<string, unknown>[] {
    return this.text
      .split('\n\n')
      .map((m) =>
        m
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n'),
      )
      .filter(Boolean)
      .map((d) => JSON.parse(d) as Record<string, unknown>);
  }

  waitFor(what: string, match: (e: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return waitFor(what, () => this.events.find(match), timeoutMs);
  }
}
