// Fetching a release: the manifest (small, read into memory) and the bundle (streamed to a
// .part file, resumed with a Range request after a broken connection). HTTPS with the
// configured CA; plain HTTP only to a loopback address and only when the configuration allows it
// (tests, the simulator). Every transfer is bounded in bytes and in idle time; redirects are not
// followed (the signed command names the exact place).
import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../../kernel/clock.js';
import { isLoopbackHost } from '../config/deploymentChecks.js';
import { LockerError } from '../../kernel/errors.js';

export interface FetchOptions {
  /** PEM text of the CA that signs the release server's certificate (the system's CAs when absent). */
  ca?: string;
  allowHttpLoopback: boolean;
  /** A connection silent this long is dropped (and resumed). */
  idleTimeoutMs?: number;
  /** Ends every transfer when it fires: the bound on the whole download. */
  signal?: AbortSignal;
}

function fail(message: string, context: Record<string, unknown> = {}): LockerError {
  return new LockerError('UPDATE_DOWNLOAD_FAILED', message, context);
}

/** Parses and checks a release URL: https, or http to loopback when allowed. */
export function checkReleaseUrl(raw: string, o: Pick<FetchOptions, 'allowHttpLoopback'>): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('not a URL');
  }
  if (url.username || url.password) throw fail('credentials in a release URL are refused');
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && o.allowHttpLoopback && isLoopbackHost(url.hostname)) return url;
  throw fail(`only https is allowed for releases${o.allowHttpLoopback ? ' (http only to loopback)' : ''}`, { protocol: url.protocol });
}

function get(url: URL, o: FetchOptions, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(fail('the download took longer than allowed', { final: true }));
    const common = { method: 'GET', headers: { 'user-agent': 'lockerd-updater', ...headers }, timeout: o.idleTimeoutMs ?? 30_000, ...(o.signal ? { signal: o.signal } : {}) };
    const req = url.protocol === 'https:' ? httpsRequest(url, { ...common, ...(o.ca ? { ca: o.ca } : {}) }) : httpRequest(url, common);
    req.on('response', resolve);
    req.on('timeout', () => req.destroy(fail('the release server stopped answering')));
    req.on('error', (e) =>
      reject(e instanceof LockerError ? e : o.signal?.aborted ? fail('the download took longer than allowed', { final: true }) : fail(`cannot reach the release server: ${e.message}`)),
    );
    req.end();
  });
}

/** A small document (the manifest): at most maxBytes, status 200 only. */
export async function fetchSmall(url: URL, maxBytes: number, o: FetchOptions): Promise<Buffer> {
  const res = await get(url, o);
  if (res.statusCode !== 200) {
    res.resume();
    throw fail(`the release server answered ${res.statusCode ?? '?'} for the manifest`, { status: res.statusCode });
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > maxBytes) {
      res.destroy();
      throw fail(`the manifest is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export interface BundleDownload {
  url: URL;
  /** The .part file; bytes already in it are kept and the rest is asked for with Range. */
  file: string;
  expectedSize: number;
  maxBytes: number;
  clock: Clock;
  attempts?: number;
  /** Told after every attempt, for the log: bytes on disk and whether the server resumed. */
  progress?: (p: { bytes: number; resumed: boolean; attempt: number }) => void;
}

/** Downloads into file until it holds expectedSize bytes; resumes after a broken transfer. */
export async function downloadBundle(d: BundleDownload, o: FetchOptions): Promise<number> {
  if (d.expectedSize > d.maxBytes) throw fail(`the bundle is ${d.expectedSize} bytes, more than the ${d.maxBytes} allowed (updates.maxBundleBytes)`);
  const attempts = d.attempts ?? 5;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const have = sizeOf(d.file);
    if (have === d.expectedSize) return have;
    if (have > d.expectedSize) throw fail('the partial download is longer than the bundle', { bytes: have });
    try {
      const res = await get(d.url, o, have > 0 ? { range: `bytes=${have}-` } : {});
      const resumed = res.statusCode === 206;
      if (res.statusCode !== 200 && !resumed) {
        res.resume();
        throw fail(`the release server answered ${res.statusCode ?? '?'} for the bundle`, { status: res.statusCode });
      }
      const start = resumed ? have : 0;
      await writeBody(res, createWriteStream(d.file, { flags: resumed ? 'a' : 'w', mode: 0o600 }), d.expectedSize - start, o.signal);
      d.progress?.({ bytes: sizeOf(d.file), resumed, attempt });
    } catch (e) {
      lastError = e;
      if (e instanceof LockerError && e.context.final === true) throw e;
      d.progress?.({ bytes: sizeOf(d.file), resumed: false, attempt });
      await d.clock.sleep(Math.min(30_000, 250 * 2 ** (attempt - 1)));
    }
  }
  if (sizeOf(d.file) === d.expectedSize) return d.expectedSize;
  throw lastError instanceof LockerError ? lastError : fail(`the bundle could not be downloaded in ${attempts} attempts`);
}

function writeBody(res: IncomingMessage, out: WriteStream, allowed: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let n = 0;
    let done = false;
    const finish = (e?: unknown): void => {
      if (done) return;
      done = true;
      if (e) {
        res.destroy();
        out.end(() => reject(e));
      } else out.end(() => resolve());
    };
    res.on('data', (chunk: Buffer) => {
      n += chunk.length;
      // More than the manifest promised: a bound, not something to resume.
      if (n > allowed) return finish(new LockerError('UPDATE_TAMPERED', 'the bundle is longer than its manifest says', { final: true }));
      if (!out.write(chunk)) {
        res.pause();
        out.once('drain', () => res.resume());
      }
    });
    res.on('end', () => finish(res.complete ? undefined : fail('the transfer was cut off')));
    res.on('aborted', () => finish(fail('the transfer was cut off')));
    res.on('close', () => finish(res.complete ? undefined : fail('the transfer was cut off')));
    res.on('error', (e) => finish(signal?.aborted ? fail('the download took longer than allowed', { final: true }) : fail(`the transfer failed: ${e.message}`)));
    out.on('error', (e) => finish(fail(`cannot write the bundle: ${e.message}`)));
  });
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
