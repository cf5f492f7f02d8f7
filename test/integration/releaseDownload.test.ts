// Fetching releases: HTTPS with the configured CA only (plain HTTP only to loopback, and only
// when allowed), a bundle resumed with Range after cuts, restarted when the server ignores
// Range, and bounded by the manifest's size and by maxBundleBytes.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../kernel/clock.js';
import { checkReleaseUrl, downloadBundle, fetchSmall } from '../../src/update/download.js';
import { makeCertificates } from '../support/testCertificates.js';

const clock = Object.assign(new SystemClock(), { sleep: () => Promise.resolve() });
const bundle = Buffer.alloc(200_000, 7).map((_, i) => (i * 31) % 251);
let dir: string;
let mode: 'cut-twice' | 'ignore-range' | 'too-long' | 'stall' = 'cut-twice';
let stalled: () => void = () => undefined;
let cuts = 0;
const ranges: (string | undefined)[] = [];

function handler(req: IncomingMessage, res: ServerResponse): void {
  ranges.push(req.headers.range);
  if (req.url === '/manifest') return void res.writeHead(200).end('manifest-bytes');
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (mode === 'stall') {
    res.writeHead(200, { 'content-length': bundle.length });
    res.write(bundle.subarray(0, 1000), () => stalled());
    return;
  }
  if (mode === 'too-long') return void res.writeHead(200).end(Buffer.concat([bundle, Buffer.from('extra')]));
  if (m && mode === 'cut-twice') {
    const from = Number(m[1]);
    res.writeHead(206, { 'content-length': bundle.length - from });
    if (cuts < 2) {
      cuts++;
      res.write(bundle.subarray(from, from + 50_000), () => res.socket?.end());
      return;
    }
    return void res.end(bundle.subarray(from));
  }
  res.writeHead(200, { 'content-length': bundle.length });
  if (mode === 'cut-twice' && cuts === 0) {
    cuts++;
    res.write(bundle.subarray(0, 50_000), () => res.socket?.end());
    return;
  }
  res.end(bundle);
}

let http: Server;
let https: Server;
let httpPort = 0;
let httpsPort = 0;
let ca = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockerd-download-'));
  const certs = makeCertificates(dir, []);
  ca = readFileSync(certs.ca, 'utf8');
  http = createHttp(handler);
  https = createHttps({ cert: readFileSync(certs.broker.cert), key: readFileSync(certs.broker.key) }, handler);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  const port = (s: Server): number => {
    const a = s.address();
    return typeof a === 'object' && a ? a.port : 0;
  };
  httpPort = port(http);
  httpsPort = port(https);
});

afterAll(() => {
  http.close();
  https.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('release download', () => {
  it('allows https, and http only to loopback when configured', () => {
    expect(checkReleaseUrl('https://releases.example/x.jws', { allowHttpLoopback: false }).hostname).toBe('releases.example');
    expect(() => checkReleaseUrl('http://127.0.0.1:1/x', { allowHttpLoopback: false })).toThrow(expect.objectContaining({ code: 'UPDATE_DOWNLOAD_FAILED' }));
    expect(() => checkReleaseUrl('http://releases.example/x', { allowHttpLoopback: true })).toThrow(expect.objectContaining({ code: 'UPDATE_DOWNLOAD_FAILED' }));
    expect(checkReleaseUrl('http://127.0.0.1:1/x', { allowHttpLoopback: true }).protocol).toBe('http:');
    expect(() => checkReleaseUrl('https://u:p@releases.example/x', { allowHttpLoopback: false })).toThrow(/credentials/);
    expect(() => checkReleaseUrl('file:///etc/passwd', { allowHttpLoopback: true })).toThrow(expect.objectContaining({ code: 'UPDATE_DOWNLOAD_FAILED' }));
  });

  it('trusts the configured CA over https, and refuses a server the CA did not sign', async () => {
    const url = new URL(`https://127.0.0.1:${httpsPort}/manifest`);
    expect((await fetchSmall(url, 1024, { ca, allowHttpLoopback: false })).toString()).toBe('manifest-bytes');
    await expect(fetchSmall(url, 1024, { allowHttpLoopback: false })).rejects.toMatchObject({ code: 'UPDATE_DOWNLOAD_FAILED' });
    await expect(fetchSmall(url, 5, { ca, allowHttpLoopback: false })).rejects.toMatchObject({ code: 'UPDATE_DOWNLOAD_FAILED' });
  });

  it('resumes a cut transfer with Range until the bundle is complete', async () => {
    mode = 'cut-twice';
    cuts = 0;
    ranges.length = 0;
    const file = join(dir, 'cut.part');
    await downloadBundle({ url: new URL(`https://127.0.0.1:${httpsPort}/b`), file, expectedSize: bundle.length, maxBytes: 1_000_000, clock }, { ca, allowHttpLoopback: false });
    expect(readFileSync(file).equals(bundle)).toBe(true);
    // Where each cut landed depends on the socket; each retry asks for the rest of what it has.
    expect(ranges).toHaveLength(3);
    expect(ranges[0]).toBeUndefined();
    const offsets = ranges.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1]));
    expect(offsets[0]).toBeGreaterThan(0);
    expect(offsets[1]).toBeGreaterThan(offsets[0] ?? 0);
    expect(offsets[1]).toBeLessThan(bundle.length);
  });

  it('starts over when the server ignores Range, and keeps to the sizes', async () => {
    mode = 'ignore-range';
    const file = join(dir, 'ignore.part');
    writeFileSync(file, bundle.subarray(0, 1000));
    await downloadBundle({ url: new URL(`http://127.0.0.1:${httpPort}/b`), file, expectedSize: bundle.length, maxBytes: 1_000_000, clock }, { allowHttpLoopback: true });
    expect(statSync(file).size).toBe(bundle.length);
    expect(readFileSync(file).equals(bundle)).toBe(true);

    mode = 'too-long';
    await expect(
      downloadBundle({ url: new URL(`http://127.0.0.1:${httpPort}/b`), file: join(dir, 'long.part'), expectedSize: bundle.length, maxBytes: 1_000_000, clock }, { allowHttpLoopback: true }),
    ).rejects.toMatchObject({ code: 'UPDATE_TAMPERED' });
    await expect(
      downloadBundle({ url: new URL(`http://127.0.0.1:${httpPort}/b`), file: join(dir, 'big.part'), expectedSize: bundle.length, maxBytes: 1000, clock }, { allowHttpLoopback: true }),
    ).rejects.toMatchObject({ code: 'UPDATE_DOWNLOAD_FAILED' });
  });

  it('gives up when the bound on the whole download ends it, and does not retry', async () => {
    mode = 'stall';
    ranges.length = 0;
    const abort = new AbortController();
    stalled = () => abort.abort();
    await expect(
      downloadBundle({ url: new URL(`http://127.0.0.1:${httpPort}/b`), file: join(dir, 'stall.part'), expectedSize: bundle.length, maxBytes: 1_000_000, clock }, { allowHttpLoopback: true, signal: abort.signal }),
    ).rejects.toMatchObject({ code: 'UPDATE_DOWNLOAD_FAILED', message: expect.stringContaining('longer than allowed') });
    expect(ranges).toHaveLength(1);
  });
});
