// How deploy/systemd/lockerd.service starts node, read from the unit itself so the benchmarks
// measure what ships: its Environment= lines and the node flags of its ExecStart.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/packageRoot.js';

export interface UnitLaunch {
  /** Every Environment= line of the unit (NODE_ENV and NODE_OPTIONS included). */
  env: Record<string, string>;
  /** The node flags on the ExecStart line (those NODE_OPTIONS refuses). */
  execArgs: string[];
  /** NODE_OPTIONS's flags, then ExecStart's: for a child started with flags on its command line. */
  nodeArgs: string[];
  /** The unit's environment without NODE_ENV and NODE_OPTIONS (those are in nodeArgs). */
  extraEnv: Record<string, string>;
  /** For the tables: "node --a --b, K=V (the systemd unit)". */
  label: string;
}

export function readUnitLaunch(): UnitLaunch {
  const unit = readFileSync(join(packageRoot(), 'deploy', 'systemd', 'lockerd.service'), 'utf8');
  const env: Record<string, string> = {};
  let execArgs: string[] = [];
  for (const raw of unit.split('\n')) {
    const line = raw.trim();
    // Environment=KEY=VALUE or Environment="KEY=VALUE WITH SPACES"
    const m = /^Environment="?([A-Z_]+)=(.*?)"?$/.exec(line);
    if (m?.[1] && m[2] !== undefined) env[m[1]] = m[2];
    const exec = /^ExecStart=\S*node((?: --\S+)*) \S+\.js /.exec(line);
    if (exec) execArgs = (exec[1] ?? '').split(' ').filter(Boolean);
  }
  const { NODE_ENV: _env, NODE_OPTIONS: options = '', ...extraEnv } = env;
  const nodeArgs = [...options.split(' ').filter(Boolean), ...execArgs];
  const label = `node ${nodeArgs.join(' ')}${Object.entries(extraEnv).map(([k, v]) => `, ${k}=${v}`).join('')} (the systemd unit)`;
  return { env, execArgs, nodeArgs, extraEnv, label };
}
