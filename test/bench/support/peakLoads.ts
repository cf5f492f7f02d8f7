// The loads of the peak-memory benchmark (test/bench/peakRss.ts), each aimed at a running
// lockerd from outside, as a stranger or a busy carrier would aim it:
//   carrier commands  signed and unsigned command messages published over MQTT as fast as the
//                     broker takes them (valid, wrong audience, bad signature, not a JWS,
//                     oversized, wrong tenant);
//   event streams     connection attempts to /api/events: many held open, many abandoned at
//                     every stage of the request;
//   HTTP fuzz         oversized bodies (declared and chunked), slowloris headers, idle
//                     connections, bad JSON, oversized headers, odd paths and methods, for a
//                     fixed time.
// Everything is seeded, so two runs send the same mix. Raw sockets throughout: the point is what
// lockerd holds, not what a well-behaved client would send.
import { connect, type Socket } from 'node:net';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { type RandomSource, randomInt } from '../../../kernel/random.js';
import { SystemClock } from '../../../kernel/clock.js';
import { signCommand } from '../../../src/cli/lockerctl/commandToken.js';
import { importSigningKey, type Ed25519PrivateJwk } from '../../../src/crypto/keys.js';
import { createIdFactory } from '../../../src/ids.js';
import { carrierTenant, operatorTenant, topicFor } from '../../../src/sync/topics.js';
import { sleep } from './processes.js';

// ---------------------------------------------------------------- carrier commands

export interface CommandSender {
  carrier: string;
  signing: Ed25519PrivateJwk;
  kid?: string;
}

export interface CommandLoadResult {
  published: number;
  /** By kind of message sent. */
  mix: Record<string, number>;
  /** Signed replies seen on the carriers' res topics, by error code (ok for success). */
  replies: Record<string, number>;
  publishSeconds: number;
}

type CommandKind = 'valid' | 'wrong-audience' | 'bad-signature' | 'not-jws' | 'oversized' | 'wrong-tenant';

function kindOf(i: number): CommandKind {
  const k = i % 10;
  if (k < 4) return 'valid';
  if (k === 4) return 'wrong-audience';
  if (k === 5 || k === 6) return 'bad-signature';
  if (k === 7) return 'not-jws';
  if (k === 8) return 'oversized';
  return 'wrong-tenant';
}

/** Flips one character of the signature part. */
function spoil(token: string): string {
  const at = token.length - 5;
  return token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
}

async function connected(url: string, clientId: string): Promise<MqttClient> {
  const client = mqttConnect(url, { clientId, clean: true, reconnectPeriod: 0, protocolVersion: 4, writeCache: false });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

/**
 * `count` command messages, signed beforehand, published at QoS 1 without waiting between
 * them; then waits until the replies stop for `quietMs`.
 */
export async function carrierCommands(o: { url: string; locker: string; senders: CommandSender[]; count: number; random: RandomSource; quietMs: number; maxWaitMs: number }): Promise<CommandLoadResult> {
  const clock = new SystemClock();
  const ids = createIdFactory(clock, o.random);
  const keys = await Promise.all(o.senders.map(async (s) => ({ ...s, key: await importSigningKey(s.signing) })));
  const oversized = Buffer.alloc(80 * 1024, 0x41);
  const messages: { topic: string; payload: Buffer }[] = [];
  const mix: Record<string, number> = {};
  for (let i = 0; i < o.count; i++) {
    const s = keys[i % keys.length];
    if (!s) throw new Error('no senders');
    const kind = kindOf(i);
    mix[kind] = (mix[kind] ?? 0) + 1;
    const tenant = kind === 'wrong-tenant' ? operatorTenant : carrierTenant(s.carrier);
    const topic = topicFor(tenant, o.locker, 'cmd');
    if (kind === 'not-jws') {
      messages.push({ topic, payload: Buffer.from(`{"cmd":"listParcels","n":${i}}`) });
      continue;
    }
    if (kind === 'oversized') {
      messages.push({ topic, payload: oversized });
      continue;
    }
    const signed = await signCommand({
      key: s.key,
      ...(s.kid ? { kid: s.kid } : {}),
      issuer: s.carrier,
      locker: kind === 'wrong-audience' ? 'another-locker' : o.locker,
      cmd: 'listParcels',
      clock,
      ids,
    });
    messages.push({ topic, payload: Buffer.from(kind === 'bad-signature' ? spoil(signed.token) : signed.token) });
  }
  const client = await connected(o.url, `peak-carriers-${randomInt(o.random, 1e9)}`);
  const replies: Record<string, number> = {};
  let lastReply = performance.now();
  client.on('message', (_topic, payload) => {
    lastReply = performance.now();
    try {
      const doc = JSON.parse(payload.toString('utf8')) as { ok?: boolean; error?: { code?: string } };
      const key = doc.ok ? 'ok' : (doc.error?.code ?? 'unreadable');
      replies[key] = (replies[key] ?? 0) + 1;
    } catch {
      replies.unreadable = (replies.unreadable ?? 0) + 1;
    }
  });
  try {
    const subs = [...new Set(o.senders.map((s) => topicFor(carrierTenant(s.carrier), o.locker, 'res'))), topicFor(operatorTenant, o.locker, 'res')];
    await client.subscribeAsync(subs, { qos: 1 });
    const t0 = performance.now();
    await Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
    const publishSeconds = (performance.now() - t0) / 1000;
    lastReply = performance.now();
    const until = performance.now() + o.maxWaitMs;
    while (performance.now() - lastReply < o.quietMs && performance.now() < until) await sleep(100);
    return { published: messages.length, mix, replies, publishSeconds };
  } finally {
    await client.endAsync(true);
  }
}

// ---------------------------------------------------------------- event streams

export interface StreamLoadResult {
  attempts: number;
  held: number;
  abandoned: number;
  /** Held attempts by what came back: 200, 429 (with its code), closed without an answer. */
  answers: Record<string, number>;
  /** Streams still open at the end of the hold. */
  openAtEnd: number;
}

function statusOf(head: string): string | undefined {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
  if (!m?.[1]) return undefined;
  const code = /"code":"([A-Z_]+)"/.exec(head)?.[1];
  return code ? `${m[1]} ${code}` : m[1];
}

function openSocket(port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', () => resolve(undefined));
  });
}

/**
 * `attempts` connections to /api/events in waves of `wave`: half are held open (reading what
 * comes), the rest are abandoned at once: before the request, halfway through its headers, or
 * right after sending it. Held streams stay open for `holdMs` after the last wave.
 */
export async function eventStreamAttempts(o: { port: number; attempts: number; wave: number; holdMs: number; random: RandomSource }): Promise<StreamLoadResult> {
  const host = `127.0.0.1:${o.port}`;
  const request = `GET /api/events HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n\r\n`;
  const held: { socket: Socket; head: string; closed: boolean }[] = [];
  const answers: Record<string, number> = {};
  let abandoned = 0;
  for (let start = 0; start < o.attempts; start += o.wave) {
    const wave: Promise<void>[] = [];
    for (let i = start; i < Math.min(o.attempts, start + o.wave); i++) {
      const kind = i % 2 === 0 ? 'hold' : (['before', 'half', 'after'] as const)[randomInt(o.random, 3)];
      wave.push(
        (async () => {
          const s = await openSocket(o.port);
          if (!s) {
            if (kind === 'hold') answers['refused at connect'] = (answers['refused at connect'] ?? 0) + 1;
            else abandoned++;
            return;
          }
          s.on('error', () => undefined);
          if (kind === 'hold') {
            const h = { socket: s, head: '', closed: false };
            held.push(h);
            s.on('data', (b: Buffer) => {
              if (h.head.length < 2048) h.head += b.toString('latin1');
            });
            s.once('close', () => (h.closed = true));
            s.write(request);
            return;
          }
          abandoned++;
          if (kind === 'half') s.write(request.slice(0, 30));
          else if (kind === 'after') s.write(request);
          s.destroy();
        })(),
      );
    }
    await Promise.all(wave);
    await sleep(20);
  }
  await sleep(o.holdMs);
  let openAtEnd = 0;
  for (const h of held) {
    const status = statusOf(h.head);
    const key = status ?? (h.closed ? 'closed without an answer' : 'no answer yet');
    answers[key] = (answers[key] ?? 0) + 1;
    if (!h.closed && status === '200') openAtEnd++;
    h.socket.destroy();
  }
  return { attempts: o.attempts, held: held.length, abandoned, answers, openAtEnd };
}

// ---------------------------------------------------------------- HTTP fuzz

export interface FuzzResult {
  seconds: number;
  /** Attacks started, by kind. */
  sent: Record<string, number>;
  /** What came back, by status (and code), over all kinds. */
  answers: Record<string, number>;
}

type FuzzKind = 'oversized-declared' | 'oversized-chunked' | 'slowloris' | 'idle-connections' | 'bad-json' | 'huge-header' | 'odd-path' | 'pickup-guess';
const fuzzKinds: readonly FuzzKind[] = ['oversized-declared', 'oversized-chunked', 'slowloris', 'idle-connections', 'bad-json', 'huge-header', 'odd-path', 'pickup-guess'];

const oddPaths = ['/%ff%fe', '/../../etc/passwd', '/api/..%2f..%2fetc', '//evil.example/api', '*', '/api/courier/deposits/%00', `/api/${'a'.repeat(4000)}`, '/api/dropoff/x/done?x=' + 'y'.repeat(2000)];

/** One request on its own socket; resolves with the status line's code (and error code) or how it ended. */
function exchange(port: number, write: (s: Socket) => Promise<void> | void, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let head = '';
    let done = false;
    const finish = (what: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => finish('still open at our timeout'), timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? (statusOf(head) ?? 'reset') : `error ${e.code ?? ''}`));
    s.on('data', (b: Buffer) => {
      head += b.toString('latin1');
      // A whole head and, if any, a small JSON body: enough to read the code.
      if (head.includes('\r\n\r\n') && (head.includes('}') || !head.includes('application/json'))) finish(statusOf(head) ?? 'unreadable answer');
    });
    s.once('close', () => finish(statusOf(head) ?? 'closed without an answer'));
    s.once('connect', () => {
      Promise.resolve(write(s)).catch(() => finish('write failed'));
    });
  });
}

function writeSlowly(s: Socket, text: string, everyMs: number, shouldStop: () => boolean): Promise<void> {
  return (async () => {
    for (const ch of text) {
      if (s.destroyed || shouldStop()) return;
      s.write(ch);
      await sleep(everyMs);
    }
  })();
}

/** Streams `total` bytes in chunks of `chunk`, awaiting drain, until the socket ends. */
async function pour(s: Socket, total: number, chunk: Buffer, chunked: boolean): Promise<void> {
  for (let sent = 0; sent < total && !s.destroyed; sent += chunk.length) {
    const ok = chunked ? s.write(`${chunk.length.toString(16)}\r\n`) && s.write(chunk) && s.write('\r\n') : s.write(chunk);
    if (!ok) await new Promise<void>((r) => s.once('drain', () => r()).once('close', () => r()));
  }
  if (chunked && !s.destroyed) s.write('0\r\n\r\n');
}

/** `workers` loops of seeded attacks for `seconds`. */
export async function httpFuzz(o: { port: number; seconds: number; workers: number; random: RandomSource }): Promise<FuzzResult> {
  const host = `127.0.0.1:${o.port}`;
  const until = performance.now() + o.seconds * 1000;
  const stop = (): boolean => performance.now() >= until;
  const sent: Record<string, number> = {};
  const answers: Record<string, number> = {};
  const megabyte = Buffer.alloc(256 * 1024, 0x7b);
  const count = (key: string): void => {
    answers[key] = (answers[key] ?? 0) + 1;
  };
  const attack = async (kind: FuzzKind): Promise<void> => {
    sent[kind] = (sent[kind] ?? 0) + 1;
    const post = (path: string, extra: string): string => `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${extra}\r\n`;
    switch (kind) {
      case 'oversized-declared':
        count(await exchange(o.port, (s) => (s.write(post('/api/pickup', 'Content-Length: 10485760\r\n')), pour(s, 10 * 2 ** 20, megabyte, false)), 20_000));
        return;
      case 'oversized-chunked':
        count(await exchange(o.port, (s) => (s.write(post('/api/courier/login', 'Transfer-Encoding: chunked\r\n')), pour(s, 4 * 2 ** 20, megabyte, true)), 20_000));
        return;
      case 'slowloris': {
        const many = Array.from({ length: 20 }, () =>
          exchange(o.port, (s) => writeSlowly(s, `GET /api/info HTTP/1.1\r\nHost: ${host}\r\nX-Slow: ${'z'.repeat(200)}\r\n\r\n`, 150, stop), 25_000),
        );
        for (const r of await Promise.all(many)) count(r);
        return;
      }
      case 'idle-connections': {
        const sockets = (await Promise.all(Array.from({ length: 100 }, () => openSocket(o.port)))).filter((s): s is Socket => s !== undefined);
        for (const s of sockets) s.on('error', () => undefined);
        count(`idle connections opened ${sockets.length} of 100`);
        await sleep(3_000);
        for (const s of sockets) s.destroy();
        return;
      }
      case 'bad-json': {
        const bodies = ['{"code":', '[1,2,', '\u0000\u0001\u0002', '{"code":"' + 'x'.repeat(15_000) + '"}', 'null', '{"__proto__":{"x":1},"code":"12345678"}'];
        const body = bodies[randomInt(o.random, bodies.length)] ?? '';
        count(await exchange(o.port, (s) => void s.write(post('/api/pickup', `Content-Length: ${Buffer.byteLength(body)}\r\n`) + body), 10_000));
        return;
      }
      case 'huge-header':
        count(await exchange(o.port, (s) => void s.write(`GET /api/info HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'h'.repeat(64 * 1024)}\r\n\r\n`), 10_000));
        return;
      case 'odd-path': {
        const path = oddPaths[randomInt(o.random, oddPaths.length)] ?? '/';
        const method = ['GET', 'PUT', 'DELETE', 'BREW', 'OPTIONS'][randomInt(o.random, 5)] ?? 'GET';
        count(await exchange(o.port, (s) => void s.write(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 10_000));
        return;
      }
      case 'pickup-guess': {
        const body = JSON.stringify({ code: String(randomInt(o.random, 1e8)).padStart(8, '0') });
        count(await exchange(o.port, (s) => void s.write(post('/api/pickup', `Content-Length: ${body.length}\r\n`) + body), 10_000));
        return;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.workers }, async () => {
      while (!stop()) await attack(fuzzKinds[randomInt(o.random, fuzzKinds.length)] ?? 'odd-path');
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, sent, answers };
}
