// `lockerd doctor` as an installer runs it (issue 12, section 3), as a real process against a
// real Mosquitto and a real pty: the broker check makes an MQTT CONNECT with the locker's
// credentials and TLS settings and reports the broker's answer; a port another process has
// locked says "Cannot lock port" with the command that stops the service; the scanner is always
// listed; a machine without timedatectl gets "unknown" for the clock, not a failure; and no raw
// JSON log line appears in the output.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingInterface, BindingPortInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeSerialBinding } from '../../hal/transport/serialTransport.js';
import { packageRoot } from '../../src/packageRoot.js';
import { freePort } from '../support/freePort.js';
import { MosquittoBroker, mosquittoAvailable } from '../support/mosquittoBroker.js';
import { type SocatPty, socatAvailable, startSocatPty } from '../support/socatPty.js';
import { makeCertificates, type CertificateSet } from '../support/testCertificates.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

let dir: string;
let emptyPath: string;

function doctor(config: Record<string, unknown>, name: string): Promise<Run> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve) => {
    // PATH without timedatectl or chronyc: the clock check must fall back, not fail.
    execFile(process.execPath, ['--import', 'tsx', join(packageRoot(), 'src', 'cli', 'lockerd.ts'), 'doctor', '--config', file], { timeout: 60_000, cwd: packageRoot(), env: { ...process.env, PATH: emptyPath, LOCKERD_LOG_LEVEL: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
    });
  });
}

function lineOf(r: Run, what: RegExp): string {
  const line = r.out.split('\n').find((l) => what.test(l));
  if (line === undefined) throw new Error(`no line ${String(what)} in:\n${r.out}\n${r.err}`);
  return line;
}

function expectNoJsonLines(r: Run): void {
  for (const line of `${r.out}\n${r.err}`.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    throw new Error(`a raw JSON line in doctor's output: ${JSON.stringify(parsed)}`);
  }
}

async function config(over: { mqtt?: Record<string, unknown>; bus?: Record<string, unknown>; scanner?: Record<string, unknown> | null; kioskPort?: number } = {}): Promise<Record<string, unknown>> {
  return {
    version: 1,
    locker: { id: 'L1' },
    dataDir: join(dir, 'data'),
    hardware: {
      buses: [over.bus ?? { id: 'b0', protocol: 'kerong-cu48', transport: { kind: 'sim' }, boards: [{ address: 0, locks: 4 }] }],
      ...(over.scanner === null ? {} : { scanner: over.scanner ?? { transport: { kind: 'sim' } } }),
    },
    layout: { version: 1, compartments: [{ id: 'A1', size: 'M', bus: 'b0', board: 0, lock: 1 }] },
    kiosk: { port: over.kioskPort ?? (await freePort()) },
    ...(over.mqtt ? { mqtt: over.mqtt } : {}),
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockerd-doctor-'));
  emptyPath = join(dir, 'bin');
  mkdirSync(emptyPath);
  // The simulated bus keeps its world file in the data folder.
  mkdirSync(join(dir, 'data'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!mosquittoAvailable())('doctor asks the broker with the locker’s credentials', () => {
  let broker: MosquittoBroker;
  beforeAll(async () => {
    broker = await MosquittoBroker.start({ users: { L1: 'right-horse-battery' } });
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('reports CONNACK 0 with the right password, over MQTT 3.1.1 and 5', async () => {
    for (const protocolVersion of [4, 5]) {
      const r = await doctor(await config({ mqtt: { url: broker.url, username: 'L1', password: 'right-horse-battery', protocolVersion } }), `good-${protocolVersion}`);
      expect(lineOf(r, /broker/)).toMatch(new RegExp(`^ok {4}broker mqtt://127\\.0\\.0\\.1:${broker.port}: CONNACK 0, accepted \\(user "L1", MQTT ${protocolVersion === 5 ? '5' : '3\\.1\\.1'}\\)$`));
      expect(r.code).toBe(0);
      expectNoJsonLines(r);
    }
  });

  it('reports the refusal and its CONNACK code with a wrong password, and never prints the password', async () => {
    for (const protocolVersion of [4, 5]) {
      const r = await doctor(await config({ mqtt: { url: broker.url, username: 'L1', password: 'wrong-pony-staple', protocolVersion } }), `bad-${protocolVersion}`);
      const line = lineOf(r, /broker/);
      expect(line).toMatch(/^FAIL {2}broker .*: refused, CONNACK (5 not authorized|4 bad user name or password|134 bad user name or password|135 not authorized) \(user "L1"/);
      expect(line).toContain('check mqtt.username and mqtt.password');
      expect(r.code).toBe(1);
      expect(`${r.out}${r.err}`).not.toContain('wrong-pony-staple');
      expectNoJsonLines(r);
    }
  });

  it('does not connect while lockerd runs (its kiosk port answers) and says how to stop it', async () => {
    const kiosk: Server = createServer((s) => s.destroy());
    const port = await freePort();
    await new Promise<void>((resolve) => kiosk.listen(port, '127.0.0.1', resolve));
    try {
      const r = await doctor(await config({ kioskPort: port, mqtt: { url: broker.url, username: 'L1', password: 'right-horse-battery' } }), 'running');
      expect(lineOf(r, /^\?\? +lockerd:/)).toContain('sudo systemctl stop lockerd');
      expect(lineOf(r, /broker/)).toMatch(/^\?\? +broker .*not checked while lockerd runs/);
    } finally {
      await new Promise((resolve) => kiosk.close(resolve));
    }
  });
});

describe.skipIf(!mosquittoAvailable())('doctor over TLS with client certificates', () => {
  let broker: MosquittoBroker;
  let certs: CertificateSet;
  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(join(dir, 'certs-')), ['L1']);
    broker = await MosquittoBroker.start({ users: {}, tls: { cafile: certs.ca, certfile: certs.broker.cert, keyfile: certs.broker.key } });
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('is accepted with the CA and the locker certificate', async () => {
    const l1 = certs.clients.L1!;
    const r = await doctor(await config({ mqtt: { url: broker.url, tls: { ca: certs.ca, cert: l1.cert, key: l1.key } } }), 'tls-good');
    expect(lineOf(r, /broker/)).toMatch(/^ok {4}broker mqtts:.*CONNACK 0, accepted \(no user name, client certificate, MQTT 3\.1\.1\)$/);
  });

  it('names the TLS error without the CA', async () => {
    const l1 = certs.clients.L1!;
    const r = await doctor(await config({ mqtt: { url: broker.url, tls: { cert: l1.cert, key: l1.key } } }), 'tls-no-ca');
    expect(lineOf(r, /broker/)).toMatch(/^FAIL {2}broker mqtts:.*: TLS: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE) .*check mqtt\.tls\.ca/);
    expectNoJsonLines(r);
  });
});

describe.skipIf(!socatAvailable())('doctor and ports another process holds', () => {
  let pty: SocatPty;
  let binding: BindingInterface;
  const held: BindingPortInterface[] = [];
  beforeAll(async () => {
    pty = await startSocatPty('lockerd-doctor-pty-');
    binding = await loadNativeSerialBinding();
    // What the running service does: open both ends with serialport's exclusive lock.
    for (const path of [pty.a, pty.b]) held.push(await binding.open({ path, baudRate: 19200, lock: true }));
  });
  afterAll(async () => {
    for (const p of held) await p.close().catch(() => undefined);
    await pty?.stop();
  });

  it('says "Cannot lock port" for the bus and the scanner, with the hint to stop the service, and prints no JSON', async () => {
    const r = await doctor(
      await config({
        bus: { id: 'b0', protocol: 'kerong-cu48', transport: { kind: 'serial', path: pty.a, baudRate: 19200 }, boards: [{ address: 0, locks: 4 }] },
        scanner: { transport: { kind: 'serial', path: pty.b } },
      }),
      'locked',
    );
    const bus = lineOf(r, /bus b0/);
    expect(bus).toMatch(/^FAIL {2}bus b0: .*Cannot lock port.*: another process holds it; if lockerd is running, stop it first: sudo systemctl stop lockerd/);
    expect(lineOf(r, /scanner/)).toMatch(/^FAIL {2}scanner .*Cannot lock port.*sudo systemctl stop lockerd/);
    expect(r.code).toBe(1);
    expectNoJsonLines(r);
  });
});

describe('doctor lists every part', () => {
  it('lists the scanner whether simulated, absent or missing, and never fails the clock for want of timedatectl', async () => {
    const simulated = await doctor(await config(), 'sim-scanner');
    expect(lineOf(simulated, /scanner/)).toMatch(/^ok {4}scanner \(simulated\)/);
    expect(lineOf(simulated, /clock/)).toMatch(/^(ok|\?\?) +clock: /);
    expect(lineOf(simulated, /broker/)).toMatch(/^ok {4}broker: none configured/);
    expect(simulated.code).toBe(0);

    const none = await doctor(await config({ scanner: null }), 'no-scanner');
    expect(lineOf(none, /scanner/)).toMatch(/^ok {4}scanner: none configured/);

    const missing = await doctor(await config({ scanner: { transport: { kind: 'serial', path: join(dir, 'no-such-tty') } } }), 'missing-scanner');
    expect(lineOf(missing, /scanner/)).toMatch(/^FAIL {2}scanner .*no-such-tty: device missing/);
    expectNoJsonLines(missing);
  });
});
