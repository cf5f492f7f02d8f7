#!/usr/bin/env node
// The fleet simulator: many lockers, each with the real sync stack (signed envelopes, one
// stream per carrier, QoS 1), sending parcel events to an MQTT broker, and the carriers' back
// ends consuming them through MQTT 5 shared subscriptions, restoring per-stream order by seq
// and verifying every signature. Runs for a bounded time, then prints latency, completeness
// and order. Loopback or lab brokers only: it opens one connection per locker.
//
//   node dist/fleet/fleetSimulator.js (or npx tsx fleet/fleetSimulator.ts)
//     --url mqtt://127.0.0.1:1883 [--lockers 1000] [--rate 1000] [--duration 30]
//     [--carriers 2] [--members 2] [--processes 1] [--protocol 4|5]
//     [--password PW] [--warmup 0] [--seed S] [--json]
//     [--data-dir DIR] [--synchronous normal|full] [--cache-kib 256] [--retain 1000]
//
// Every locker keeps its outbox in its own SQLite file (<data-dir>/<locker>/lockerd.db, WAL:
// three descriptors each, plus its MQTT socket); the simulator raises its open-files limit
// before it forks the locker processes, or says how (fleet/openFiles.ts). Without --data-dir
// the files go to a new folder under the temp dir, removed after the run.
//
// The broker must know the principals: lockers locker-0001..locker-NNNN and carriers swiftpost,
// parcelgo, ... (all with --password), with the shipped ACL (deploy/mosquitto/acl), or accept
// anonymous clients while still applying the ACL by username.
import { parseArgs } from 'node:util';
import { describeFleetReport, runFleetSimulation } from './fleetSimulation.js';

const usage =
  'usage: fleetSimulator --url URL [--lockers N] [--rate EVENTS_PER_S] [--duration S] [--carriers N] [--members N] ' +
  '[--processes N] [--protocol 4|5] [--password PW] [--warmup S] [--seed S] [--json] ' +
  '[--data-dir DIR] [--synchronous normal|full] [--cache-kib KIB] [--retain ROWS]';

function number(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      lockers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      carriers: { type: 'string' },
      members: { type: 'string' },
      processes: { type: 'string' },
      protocol: { type: 'string' },
      password: { type: 'string' },
      warmup: { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      synchronous: { type: 'string' },
      'cache-kib': { type: 'string' },
      retain: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.url) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 1;
  }
  const protocol = values.protocol === undefined ? 4 : Number(values.protocol);
  if (protocol !== 4 && protocol !== 5) throw new Error('--protocol must be 4 or 5');
  const synchronous = values.synchronous ?? 'normal';
  if (synchronous !== 'normal' && synchronous !== 'full') throw new Error('--synchronous must be normal or full');
  const report = await runFleetSimulation({
    url: values.url,
    ...(values.password !== undefined ? { password: values.password } : {}),
    lockers: Math.round(number(values.lockers, 1000, 'lockers')),
    ratePerS: number(values.rate, 1000, 'rate'),
    durationMs: number(values.duration, 30, 'duration') * 1000,
    carriers: Math.round(number(values.carriers, 2, 'carriers')),
    members: Math.round(number(values.members, 2, 'members')),
    lockerProcesses: Math.round(number(values.processes, 1, 'processes')),
    protocolVersion: protocol,
    warmupMs: values.warmup === undefined || values.warmup === '0' ? 0 : number(values.warmup, 0, 'warmup') * 1000,
    ...(values.seed !== undefined ? { seed: values.seed } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    synchronous,
    cacheKiB: Math.round(number(values['cache-kib'], 256, 'cache-kib')),
    retainAcked: Math.round(number(values.retain, 1000, 'retain')),
    log: (line) => process.stderr.write(`[fleet] ${line}\n`),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${describeFleetReport(report).join('\n')}\n`);
  return report.complete ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    process.exit(1);
  },
);
