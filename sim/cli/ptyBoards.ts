#!/usr/bin/env node
// Simulated lock boards on a pseudo-terminal, for whole-process tests and bench setups:
//   ptyBoards <pty-path> <protocol> <boards> [--bus ID] [--baud N] [--energise-ms N]
//             [--polarity latched-high|latched-low] [--item-sensors] [--strict-baud]
// <boards> is a comma list of ADDRESS:LOCKS, e.g. "0:48,1:48". The process prints
// "ready <path>" once the pty is open, then one "lock ..." line per physical change. Faults are
// injected through stdin, one command per line:
//   silent B on|off   close|force|put|take|bounce B L   jam B L on|off   garble|truncate N   state
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SystemClock } from '../../kernel/clock.js';
import { SerialBusConfig } from '../../src/config/schema.js';
import { createLogger } from '../../src/logger.js';
import { SimBus, simPositions } from '../boards/simBus.js';
import { PtyBoardBridge } from '../serial/ptyBoardBridge.js';
import { type SimPosition, SimWorld } from '../world.js';

const usage = 'usage: ptyBoards <pty-path> <kerong-cu16|kerong-cu48|generic-8a> <ADDR:LOCKS,...> [--bus ID] [--baud N] [--energise-ms N] [--polarity P] [--item-sensors] [--strict-baud]';

function parseBoards(text: string, extra: { polarity: string; energiseMs: number; itemSensors: boolean }): unknown[] {
  return text.split(',').map((part) => {
    const [address, locks] = part.split(':').map((n) => Number(n));
    return { address, locks, ...extra };
  });
}

/** Applies one stdin command to the world; returns an error text for a bad one. */
function command(world: SimWorld, bus: string, line: string): string | undefined {
  const [verb, ...args] = line.trim().split(/\s+/);
  const n = args.map((a) => Number(a));
  const at = (): SimPosition => ({ bus, board: n[0] ?? NaN, lock: n[1] ?? NaN });
  switch (verb) {
    case undefined:
    case '':
      return undefined;
    case 'silent':
      world.setBoardSilent(bus, n[0] ?? NaN, args[1] !== 'off');
      return undefined;
    case 'close':
      world.closeDoor(at());
      return undefined;
    case 'force':
      world.forceOpen(at());
      return undefined;
    case 'put':
      world.putParcel(at());
      return undefined;
    case 'take':
      world.takeParcel(at());
      return undefined;
    case 'bounce':
      world.bounceOnNextUnlock(at());
      return undefined;
    case 'jam':
      world.setJammed(at(), args[2] !== 'off');
      return undefined;
    case 'garble':
    case 'truncate':
      world.corruptReplies(bus, verb, n[0] ?? 1);
      return undefined;
    case 'state':
      process.stdout.write(`state ${JSON.stringify(world.allLocks())}\n`);
      return undefined;
    default:
      return `unknown command "${verb}"`;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      bus: { type: 'string', default: 'bus0' },
      baud: { type: 'string' },
      'energise-ms': { type: 'string', default: '500' },
      polarity: { type: 'string', default: 'latched-high' },
      'item-sensors': { type: 'boolean', default: false },
      'strict-baud': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [path, protocol, boards] = positionals;
  if (values.help || !path || !protocol || !boards) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const parsed = SerialBusConfig.safeParse({
    id: values.bus,
    protocol,
    transport: { kind: 'serial', path, ...(values.baud ? { baudRate: Number(values.baud) } : {}) },
    boards: parseBoards(boards, { polarity: values.polarity, energiseMs: Number(values['energise-ms']), itemSensors: values['item-sensors'] }),
  });
  if (!parsed.success) {
    process.stderr.write(`${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')}\n${usage}\n`);
    return 2;
  }
  const config = parsed.data;
  const clock = new SystemClock();
  const logger = createLogger({ level: process.env.LOCKERD_LOG_LEVEL ?? 'warn' });
  const world = new SimWorld(clock, simPositions(config));
  const simBus = new SimBus({ config, world, clock, strictBaud: values['strict-baud'] });
  const bridge = new PtyBoardBridge({ path, device: simBus, baudRate: simBus.baudRate, logger });
  world.on((e) => {
    if (e.type !== 'lock') return;
    const s = e.state;
    process.stdout.write(`lock ${s.position.board}/${s.position.lock} latched=${s.latched} door=${s.doorOpen ? 'open' : 'closed'} item=${s.itemPresent} cause=${e.cause}\n`);
  });
  await bridge.start();
  process.stdout.write(`ready ${path}\n`);

  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    try {
      const error = command(world, config.id, line);
      if (error) process.stdout.write(`error ${error}\n`);
    } catch (e) {
      process.stdout.write(`error ${e instanceof Error ? e.message : String(e)}\n`);
    }
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  input.close();
  await bridge.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ptyBoards: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
