// lockerd doctor: probes what a locker needs and says plainly what is wrong. Buses are opened
// with the real drivers and every configured board is asked for its status (a CU16 bus with
// no baud rate set is tried at 19200, then 9600); the scanner's port is opened; the clock's
// synchronisation is asked of whatever the machine has (doctor/clockProbe.ts); the broker gets
// one MQTT CONNECT with the locker's credentials and TLS settings (doctor/mqttConnectProbe.ts).
// A port held by a running lockerd says so, with the command that stops the service.
import { connect } from 'node:net';
import { type Clock } from '../../kernel/clock.js';
import { type LockerConfig, type BusConfig, type ScannerConfig } from '../config/schema.js';
import { isLoopbackHost } from '../config/deploymentChecks.js';
import { createHardware } from '../composition/hardware.js';
import { toLockerError } from '../../kernel/errors.js';
import { type Logger } from '../logger.js';
import { probeClock, type ClockProbeOptions, type ProbeStatus } from './doctor/clockProbe.js';
import { probeMqttConnect, type MqttProbeResult } from './doctor/mqttConnectProbe.js';
import { cryptoRandom } from '../../kernel/random.js';

export interface DoctorLine {
  what: string;
  /** 'unknown': the check could not tell (not a failure: doctor still exits 0). */
  status: ProbeStatus;
  detail: string;
}

export interface DoctorDeps {
  clock: Clock;
  logger: Logger;
  clockProbe?: ClockProbeOptions;
  /** For the broker's CONNECT; default 5000 ms. */
  brokerTimeoutMs?: number;
  /** Whether lockerd itself is running; default: does its kiosk port answer on this machine. */
  lockerdRunning?: () => Promise<boolean>;
  /** Opens and closes a serial port (the scanner's); default: the native serialport binding. */
  openSerial?: (path: string, baudRate: number) => Promise<void>;
}

/** The hint for a port another process holds: almost always the service itself. */
export const STOP_SERVICE_HINT = 'another process holds it; if lockerd is running, stop it first: sudo systemctl stop lockerd (start it again afterwards)';

export async function runDoctor(config: LockerConfig, deps: DoctorDeps): Promise<{ lines: DoctorLine[] }> {
  const lines: DoctorLine[] = [];
  const running = await (deps.lockerdRunning ?? (() => kioskAnswers(config)))();
  if (running)
    lines.push({
      what: 'lockerd',
      status: 'unknown',
      detail: `is running (its kiosk answers on port ${config.kiosk.port}): it holds the buses and the scanner; stop it for a full check: sudo systemctl stop lockerd`,
    });
  for (const bus of config.hardware.buses) lines.push(...(await probeBus(config, bus, deps)));
  lines.push(await probeScanner(config.hardware.scanner, deps));
  const clock = await probeClock(deps.clock, deps.clockProbe);
  lines.push({ what: 'clock', ...clock });
  if (config.mqtt) lines.push(await probeBroker(config, running, deps));
  else lines.push({ what: 'broker', status: 'ok', detail: 'none configured (offline locker: events stay in the outbox)' });
  return { lines };
}

function withPortHint(message: string): string {
  return /cannot lock port|resource temporarily unavailable|EBUSY|device or resource busy/i.test(message) ? `${message}: ${STOP_SERVICE_HINT}` : message;
}

async function probeBus(config: LockerConfig, bus: BusConfig, deps: DoctorDeps): Promise<DoctorLine[]> {
  const rates = bus.protocol === 'kerong-cu16' && bus.transport.kind === 'serial' && bus.transport.baudRate === undefined ? [19200, 9600] : [undefined];
  let last: DoctorLine[] = [];
  for (const baudRate of rates) {
    const probeBusConfig = baudRate && bus.transport.kind === 'serial' ? { ...bus, transport: { ...bus.transport, baudRate } } : bus;
    const single = { ...config, hardware: { buses: [probeBusConfig] } } as LockerConfig;
    const lines: DoctorLine[] = [];
    try {
      const hw = await createHardware(single, { ...deps, random: cryptoRandom() });
      const lockBus = hw.buses.get(bus.id);
      if (!lockBus) throw new Error('bus was not created');
      await lockBus.open();
      const boards = bus.protocol === 'gpio' ? [0] : bus.boards.map((b) => b.address);
      for (const board of boards) {
        const what = `bus ${bus.id} board ${board}${baudRate ? ` @${baudRate}` : ''}`;
        try {
          const s = await lockBus.status(board);
          const open = s.locks.filter((l) => !l.latched).map((l) => l.lock);
          lines.push({ what, status: 'ok', detail: `answers; ${s.locks.length} locks, unlatched: ${open.join(',') || 'none'}` });
        } catch (e) {
          lines.push({ what, status: 'fail', detail: `${toLockerError(e).message} (wrong address or baud, A/B swapped, or no power)` });
        }
      }
      await lockBus.close();
    } catch (e) {
      lines.push({ what: `bus ${bus.id}`, status: 'fail', detail: withPortHint(toLockerError(e).message) });
    }
    last = lines;
    if (lines.every((l) => l.status === 'ok')) return lines;
  }
  return last;
}

async function openNativeSerial(path: string, baudRate: number): Promise<void> {
  const { loadNativeSerialBinding, SerialTransport } = await import('../../hal/transport/serialTransport.js');
  const transport = new SerialTransport({ path, baudRate, binding: await loadNativeSerialBinding() });
  await transport.open();
  await transport.close();
}

async function probeScanner(sc: ScannerConfig | undefined, deps: DoctorDeps): Promise<DoctorLine> {
  if (!sc) return { what: 'scanner', status: 'ok', detail: 'none configured (codes are typed on the keypad)' };
  if (sc.transport.kind === 'sim') return { what: 'scanner (simulated)', status: 'ok', detail: 'the simulator stands in for it' };
  const { path, baudRate } = sc.transport;
  const what = `scanner ${path}`;
  try {
    await (deps.openSerial ?? openNativeSerial)(path, baudRate);
    return { what, status: 'ok', detail: `opens at ${baudRate} baud; scan a code with lockerd running to see it read` };
  } catch (e) {
    const message = toLockerError(e).message;
    if (/no such file|ENOENT/i.test(message)) return { what, status: 'fail', detail: 'device missing (unplugged, or wrong path: use the /dev/lockerscanner link of deploy/udev or /dev/serial/by-id/...)' };
    if (/permission denied|EACCES/i.test(message)) return { what, status: 'fail', detail: `${message} (is this user in the dialout group?)` };
    return { what, status: 'fail', detail: withPortHint(message) };
  }
}

/** Does something answer on the kiosk's port on this machine (lockerd runs)? */
function kioskAnswers(config: LockerConfig): Promise<boolean> {
  const host = isLoopbackHost(config.kiosk.host) ? config.kiosk.host : '127.0.0.1';
  if (config.kiosk.port === 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port: config.kiosk.port, timeout: 1_000 });
    const done = (v: boolean): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

async function probeBroker(config: LockerConfig, running: boolean, deps: DoctorDeps): Promise<DoctorLine> {
  const mqtt = config.mqtt;
  if (!mqtt) return { what: 'broker', status: 'ok', detail: 'none configured' };
  const u = new URL(mqtt.url);
  const what = `broker ${mqtt.url.replace(/\/\/[^@/]*@/, '//')}`;
  if (running)
    return {
      what,
      status: 'unknown',
      detail: 'not checked while lockerd runs: a second connection with its identity would take over its session; stop it first (sudo systemctl stop lockerd)',
    };
  if (u.protocol === 'ws:' || u.protocol === 'wss:') return { what, status: 'unknown', detail: 'MQTT over WebSockets is not probed by doctor' };
  const as = `${mqtt.username !== undefined ? `user "${mqtt.username}"` : 'no user name'}${mqtt.tls?.cert !== undefined ? ', client certificate' : ''}, MQTT ${mqtt.protocolVersion === 5 ? '5' : '3.1.1'}`;
  return { what, ...describeProbe(await probeMqttConnect(mqtt, config.locker.id, { timeoutMs: deps.brokerTimeoutMs ?? 5_000 }), as) };
}

export function describeProbe(r: MqttProbeResult, as: string): { status: ProbeStatus; detail: string } {
  switch (r.kind) {
    case 'accepted':
      return { status: 'ok', detail: `CONNACK 0, accepted (${as})` };
    case 'refused': {
      const hint = /user name or password|not authori[sz]ed|bad authentication/.test(r.reason)
        ? ': check mqtt.username and mqtt.password against the broker (mosquitto_passwd) and its ACL'
        : /identifier/.test(r.reason)
          ? ': the broker binds client ids to principals; leave mqtt.clientId out'
          : '';
      return { status: 'fail', detail: `refused, CONNACK ${r.code} ${r.reason} (${as})${hint}` };
    }
    case 'tls':
      return { status: 'fail', detail: `TLS: ${r.code} ${r.message} (check mqtt.tls.ca, the broker certificate's name, and the clock)` };
    case 'network':
      return { status: 'fail', detail: `${r.code}: ${r.message}` };
    case 'timeout':
      return { status: 'fail', detail: r.stage === 'connect' ? 'no answer to the connection within the timeout (firewall, wrong host or port)' : 'connected, but no CONNACK within the timeout (is this an MQTT port? TLS on a plain port?)' };
    case 'protocol':
      return { status: 'fail', detail: `not an MQTT answer: ${r.message} (TLS on a plain port, or plain on a TLS port?)` };
    case 'config':
      return { status: 'fail', detail: r.message };
  }
}
