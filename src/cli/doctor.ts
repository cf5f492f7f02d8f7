// lockerd doctor: probes what a locker needs and says plainly what is wrong. Buses are opened
// with the real drivers and every configured board is asked for its status (a CU16 bus with
// no baud rate set is tried at 19200, then 9600); the scanner's device path, the clock's
// synchronisation and the broker's TCP port are checked.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { type Clock } from '../clock.js';
import { type LockerConfig, type BusConfig } from '../config/schema.js';
import { createHardware } from '../composition/hardware.js';
import { toLockerError } from '../errors.js';
import { type Logger } from '../logger.js';
import { cryptoRandom } from '../random.js';

export interface DoctorLine {
  what: string;
  ok: boolean;
  detail: string;
}

export async function runDoctor(config: LockerConfig, deps: { clock: Clock; logger: Logger }): Promise<{ lines: DoctorLine[] }> {
  const lines: DoctorLine[] = [];
  for (const bus of config.hardware.buses) lines.push(...(await probeBus(config, bus, deps)));
  const sc = config.hardware.scanner;
  if (sc?.transport.kind === 'serial') {
    const present = await stat(sc.transport.path).then(
      () => true,
      () => false,
    );
    lines.push({ what: `scanner ${sc.transport.path}`, ok: present, detail: present ? 'device present' : 'device missing (unplugged, or wrong path; use /dev/serial/by-id/...)' });
  }
  lines.push(await probeClock());
  if (config.mqtt) lines.push(await probeBroker(config.mqtt.url));
  return { lines };
}

async function probeBus(config: LockerConfig, bus: BusConfig, deps: { clock: Clock; logger: Logger }): Promise<DoctorLine[]> {
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
        try {
          const s = await lockBus.status(board);
          const open = s.locks.filter((l) => !l.latched).map((l) => l.lock);
          lines.push({ what: `bus ${bus.id} board ${board}${baudRate ? ` @${baudRate}` : ''}`, ok: true, detail: `answers; ${s.locks.length} locks, unlatched: ${open.join(',') || 'none'}` });
        } catch (e) {
          lines.push({ what: `bus ${bus.id} board ${board}${baudRate ? ` @${baudRate}` : ''}`, ok: false, detail: `${toLockerError(e).message} (wrong address or baud, A/B swapped, or no power)` });
        }
      }
      await lockBus.close();
    } catch (e) {
      lines.push({ what: `bus ${bus.id}`, ok: false, detail: toLockerError(e).message });
    }
    last = lines;
    if (lines.every((l) => l.ok)) return lines;
  }
  return last;
}

function probeClock(): Promise<DoctorLine> {
  return new Promise((resolve) => {
    execFile('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], (err, stdout) => {
      if (err) resolve({ what: 'clock', ok: false, detail: 'cannot ask timedatectl; events are flagged clockSynced=false until NTP is confirmed' });
      else resolve({ what: 'clock', ok: stdout.trim() === 'yes', detail: stdout.trim() === 'yes' ? 'synchronised (NTP)' : 'not synchronised: a Pi has no battery clock' });
    });
  });
}

function probeBroker(url: string): Promise<DoctorLine> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ what: 'broker', ok: false, detail: `bad URL ${url}` });
      return;
    }
    const port = Number(u.port || (u.protocol === 'mqtts:' ? 8883 : 1883));
    const socket = connect({ host: u.hostname, port, timeout: 3000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ what: `broker ${u.hostname}:${port}`, ok: true, detail: 'TCP port open' });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ what: `broker ${u.hostname}:${port}`, ok: false, detail: 'no answer within 3 s' });
    });
    socket.once('error', (e) => resolve({ what: `broker ${u.hostname}:${port}`, ok: false, detail: e.message }));
  });
}
