// doctor's broker check: one MQTT CONNECT with the locker's own credentials, client id and TLS
// settings, and the broker's answer (CONNACK code, TLS error, refused connection) in words.
//
// Written on a bare socket rather than with MQTT.js on purpose: after the CONNACK it closes
// without reading anything else. The CONNECT resumes the locker's persistent session (clean
// session off, MQTT 5 with lockerd's session expiry), so commands the broker holds for the
// locker are not consumed: a QoS 1 message sent to this connection is never acknowledged and
// the broker delivers it again when lockerd connects. MQTT.js would acknowledge it and lose it.
import { readFileSync } from 'node:fs';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type MqttConfig } from '../../config/schema.js';

export type MqttProbeResult =
  | { kind: 'accepted'; code: number; sessionPresent: boolean }
  | { kind: 'refused'; code: number; reason: string }
  | { kind: 'tls'; code: string; message: string }
  | { kind: 'network'; code: string; message: string }
  | { kind: 'timeout'; stage: 'connect' | 'connack' }
  | { kind: 'protocol'; message: string }
  | { kind: 'config'; message: string };

export interface MqttProbeOptions {
  /** Default 5000 ms for TCP, TLS and the CONNACK together. */
  timeoutMs?: number;
}

/** lockerd's session expiry (src/sync/syncClient.ts): the probe must not shorten it. */
const SESSION_EXPIRY_S = 7 * 24 * 3600;
/** A CONNACK is a few bytes; a v5 one with a reason string and user properties stays small. */
const MAX_CONNACK_BYTES = 4096;

const v4Reasons: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  3: 'server unavailable',
  4: 'bad user name or password',
  5: 'not authorized',
};

const v5Reasons: Record<number, string> = {
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8c: 'bad authentication method',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9f: 'connection rate exceeded',
};

export function connackReason(protocolVersion: 4 | 5, code: number): string {
  if (code === 0) return 'accepted';
  return (protocolVersion === 5 ? v5Reasons[code] : v4Reasons[code]) ?? `code ${code}`;
}

function utf8(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 0xffff) throw new RangeError('string longer than 65535 bytes');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** The CONNECT packet (MQTT 3.1.1 or 5), clean session off, no will. */
export function encodeConnect(o: { protocolVersion: 4 | 5; clientId: string; username?: string; password?: string; keepaliveS: number }): Buffer {
  let flags = 0;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  const keepalive = Buffer.alloc(2);
  keepalive.writeUInt16BE(Math.min(0xffff, o.keepaliveS));
  const props: Buffer[] = [];
  if (o.protocolVersion === 5) {
    const expiry = Buffer.alloc(5);
    expiry.writeUInt8(0x11, 0);
    expiry.writeUInt32BE(SESSION_EXPIRY_S, 1);
    props.push(varint(expiry.length), expiry);
  }
  const variable = Buffer.concat([utf8('MQTT'), Buffer.of(o.protocolVersion, flags), keepalive, ...props]);
  const payload = Buffer.concat([utf8(o.clientId), ...(o.username !== undefined ? [utf8(o.username)] : []), ...(o.password !== undefined ? [utf8(o.password)] : [])]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.of(0x10), varint(body.length), body]);
}

/** Reads a CONNACK from the start of `buf`; undefined while incomplete. */
export function decodeConnack(buf: Buffer): { sessionPresent: boolean; code: number } | { error: string } | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== 0x20) return { error: `expected CONNACK, got packet type 0x${(buf[0] ?? 0).toString(16)}` };
  let len = 0;
  let mult = 1;
  let i = 1;
  for (; ; i++) {
    if (i >= buf.length) return undefined;
    const b = buf[i] ?? 0;
    len += (b & 0x7f) * mult;
    mult *= 128;
    if ((b & 0x80) === 0) break;
    if (i >= 4) return { error: 'malformed CONNACK length' };
  }
  if (len < 2) return { error: 'CONNACK too short' };
  if (buf.length < i + 1 + 2) return undefined;
  return { sessionPresent: ((buf[i + 1] ?? 0) & 1) === 1, code: buf[i + 2] ?? 0 };
}

const tlsErrorCodes = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME|ALTNAME/;

/** One CONNECT to the configured broker with the locker's identity; never rejects. */
export function probeMqttConnect(mqtt: MqttConfig, lockerId: string, options: MqttProbeOptions = {}): Promise<MqttProbeResult> {
  const u = new URL(mqtt.url);
  const secure = u.protocol === 'mqtts:';
  const port = Number(u.port || (secure ? 8883 : 1883));
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  let tlsFiles: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  try {
    tlsFiles = {
      ...(mqtt.tls?.ca !== undefined ? { ca: readFileSync(mqtt.tls.ca) } : {}),
      ...(mqtt.tls?.cert !== undefined ? { cert: readFileSync(mqtt.tls.cert) } : {}),
      ...(mqtt.tls?.key !== undefined ? { key: readFileSync(mqtt.tls.key) } : {}),
    };
  } catch (e) {
    return Promise.resolve({ kind: 'config', message: `cannot read a TLS file: ${(e as Error).message}` });
  }
  const packet = encodeConnect({
    protocolVersion: mqtt.protocolVersion,
    // The id lockerd itself uses, so the check proves what lockerd will meet (the shipped
    // brokers bind ids to principals and may refuse any other).
    clientId: mqtt.clientId ?? mqtt.username ?? lockerId,
    ...(mqtt.username !== undefined ? { username: mqtt.username } : {}),
    ...(mqtt.password !== undefined ? { password: mqtt.password } : {}),
    keepaliveS: mqtt.keepaliveS,
  });
  return new Promise((resolve) => {
    let settled = false;
    let stage: 'connect' | 'connack' = 'connect';
    let received = Buffer.alloc(0);
    const socket: Socket = secure
      ? tlsConnect({
          host,
          port,
          ...(isIP(host) === 0 ? { servername: host } : {}),
          rejectUnauthorized: mqtt.tls?.rejectUnauthorized ?? true,
          ...tlsFiles,
        })
      : tcpConnect({ host, port });
    const finish = (r: MqttProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (r.kind === 'accepted') socket.end(Buffer.of(0xe0, 0x00));
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', stage }), options.timeoutMs ?? 5_000);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      stage = 'connack';
      socket.write(packet);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_CONNACK_BYTES) return finish({ kind: 'protocol', message: 'oversized answer to CONNECT' });
      const ack = decodeConnack(received);
      if (ack === undefined) return;
      if ('error' in ack) return finish({ kind: 'protocol', message: ack.error });
      if (ack.code === 0) return finish({ kind: 'accepted', code: 0, sessionPresent: ack.sessionPresent });
      finish({ kind: 'refused', code: ack.code, reason: connackReason(mqtt.protocolVersion, ack.code) });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? 'ERROR';
      finish(secure && tlsErrorCodes.test(code) ? { kind: 'tls', code, message: e.message } : { kind: 'network', code, message: e.message });
    });
    socket.on('close', () => finish(stage === 'connack' ? { kind: 'protocol', message: 'the broker closed the connection without a CONNACK' } : { kind: 'network', code: 'ECONNRESET', message: 'connection closed' }));
  });
}
