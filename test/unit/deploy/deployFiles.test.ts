// The deployment files (issue 12, section 4), read as the machine reads them:
// - udev: every rule matches one adapter by its USB serial number and gives it its own name
//   (the CH340 rule's lockerbus%n collided with the FTDI rule's lockerbus0; the scanner rule
//   took any Honeywell device);
// - systemd: no ordering on a device nothing pulls in, a system call filter, an optional GPIO
//   path, the tty DeviceAllow lines, Type=notify with a watchdog, and an exposure of at most
//   2.0 by systemd-analyze security where systemd is installed;
// - install.sh: valid bash, refuses a configuration whose dataDir the unit does not allow (and
//   simulated hardware) before touching the machine, builds as an unprivileged user and never
//   installs test/ or sim/.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';
import { ShutdownConfig } from '../../../src/config/schema.js';

const root = packageRoot();

interface UdevRule {
  line: number;
  matches: Map<string, string>;
  assigns: { key: string; op: string; value: string }[];
}

/** udev rule syntax: comma-separated KEY op "value"; "==" and "!=" match, the rest assign. */
function parseUdevRules(text: string): UdevRule[] {
  const rules: UdevRule[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const rule: UdevRule = { line: i + 1, matches: new Map(), assigns: [] };
    const re = /\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(,|$)/gy;
    let consumed = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      const [, key = '', op = '', value = ''] = m;
      if (op === '==' || op === '!=') rule.matches.set(`${key}${op === '!=' ? '!' : ''}`, value);
      else rule.assigns.push({ key, op, value });
      consumed = re.lastIndex;
      if (consumed >= line.length) break;
    }
    if (consumed < line.length) throw new Error(`line ${i + 1}: cannot parse "${line.slice(consumed)}"`);
    rules.push(rule);
  });
  return rules;
}

describe('udev rules', () => {
  const rules = parseUdevRules(readFileSync(join(root, 'deploy/udev/99-lockerd.rules'), 'utf8'));

  it('parse, and every rule is a tty matched by vendor and serial number', () => {
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const r of rules) {
      expect(r.matches.get('SUBSYSTEM'), `line ${r.line}`).toBe('tty');
      expect(r.matches.get('ATTRS{idVendor}'), `line ${r.line}`).toMatch(/^[0-9a-f]{4}$/);
      expect(r.matches.get('ATTRS{serial}'), `line ${r.line}: no ATTRS{serial}`).toMatch(/\S/);
      expect(r.matches.get('ATTRS{serial}'), `line ${r.line}: a pattern would match several devices`).not.toMatch(/[*?[]/);
    }
  });

  it('gives each device one stable name of its own', () => {
    const names = rules.flatMap((r) => r.assigns.filter((a) => a.key === 'SYMLINK' || a.key === 'NAME').map((a) => a.value));
    expect(names.length).toBe(rules.length);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n, 'no enumeration-order substitutions (%n, %k, $number)').not.toMatch(/[%$]/);
    expect(names).toContain('lockerscanner');
    expect(names.filter((n) => /^lockerbus\d+$/.test(n)).length).toBe(rules.length - 1);
  });

  it('has no two rules for the same adapter serial, and the README says how to find the serial', () => {
    const keys = rules.map((r) => `${r.matches.get('ATTRS{idVendor}')}/${r.matches.get('ATTRS{serial}')}`);
    expect(new Set(keys).size).toBe(keys.length);
    const readme = readFileSync(join(root, 'deploy/udev/README.md'), 'utf8');
    expect(readme).toContain('udevadm info');
    expect(readme).toContain('ID_SERIAL_SHORT');
  });
});

/** The unit's settings, key -> every value (a key may repeat). */
function parseUnit(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

describe('systemd unit', () => {
  const unitFile = join(root, 'deploy/systemd/lockerd.service');
  const unit = parseUnit(readFileSync(unitFile, 'utf8'));
  const all = (k: string): string => (unit.get(k) ?? []).join(' ');

  it('is not ordered after a device nothing pulls in (lockerd starts degraded without its adapter)', () => {
    expect(all('After')).not.toMatch(/\.device\b/);
    expect(all('BindsTo')).toBe('');
    expect(all('Requires')).not.toMatch(/\.device\b/);
  });

  it('keeps Type=notify with a watchdog, filters system calls, and makes the GPIO path optional', () => {
    expect(all('Type')).toBe('notify');
    expect(Number(all('WatchdogSec'))).toBeGreaterThan(0);
    expect(all('SystemCallFilter')).toContain('@system-service');
    expect(all('SystemCallFilter')).toContain('~@privileged');
    const rw = all('ReadWritePaths').split(/\s+/);
    expect(rw).toContain('/var/lib/lockerd');
    expect(rw).toContain('-/sys/class/gpio');
    expect(rw).not.toContain('/sys/class/gpio');
    for (const dev of ['char-ttyUSB rw', 'char-ttyACM rw', 'char-ttyAMA rw', 'char-ttyS rw']) expect(unit.get('DeviceAllow')).toContain(dev);
    expect(all('DevicePolicy')).toBe('closed');
    expect(all('StateDirectory')).toBe('lockerd');
  });

  it('gives a stop the longest drain of door sessions plus the rest of the stop before systemd kills it', () => {
    // shutdown.drainMs tops out at 12 s; the MQTT goodbye and the closes after it take up to 3 s.
    expect(ShutdownConfig.safeParse({ drainMs: 12_000 }).success).toBe(true);
    expect(ShutdownConfig.safeParse({ drainMs: 12_001 }).success).toBe(false);
    expect(ShutdownConfig.parse({}).drainMs).toBe(10_000);
    expect(Number(all('TimeoutStopSec')) * 1000).toBeGreaterThanOrEqual(12_000 + 3_000);
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('scores an exposure of at most 2.0 in systemd-analyze security', () => {
    const out = execFileSync('/usr/bin/systemd-analyze', ['security', '--offline=true', '--no-pager', unitFile], { encoding: 'utf8' });
    const level = /Overall exposure level for lockerd\.service: (\d+\.\d)/.exec(out)?.[1];
    expect(level, out).toBeDefined();
    expect(Number(level)).toBeLessThanOrEqual(2.0);
  });
});

describe('install.sh', () => {
  const script = join(root, 'deploy/install.sh');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockerd-install-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function dryRun(config: Record<string, unknown>, name: string): Promise<{ code: number; out: string; err: string }> {
    // Tests may run as root: never start a script that would take "--dry-run" for a file name
    // and install for real.
    if (!/^if \[ "\$\{1:-\}" = "--dry-run" \]; then$/m.test(readFileSync(script, 'utf8'))) throw new Error('install.sh has no --dry-run: not running it');
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(config));
    return new Promise((resolve) => {
      execFile('bash', [script, '--dry-run', file], { timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: stdout, err: stderr });
      });
    });
  }

  const production = (): Record<string, unknown> => JSON.parse(readFileSync(join(root, 'deploy/examples/lockerd.cu48.json'), 'utf8')) as Record<string, unknown>;

  it('is valid bash', () => {
    execFileSync('bash', ['-n', script]);
  });

  it('refuses a configuration whose dataDir is not the one the unit allows, before any change', async () => {
    const r = await dryRun({ ...production(), dataDir: '/srv/lockerd' }, 'elsewhere');
    expect(r.code).toBe(1);
    expect(r.err).toContain('dataDir is /srv/lockerd: the unit lets lockerd write only /var/lib/lockerd');
    expect(r.out).not.toContain('+ ');
    const relative = await dryRun({ ...production(), dataDir: 'data' }, 'relative');
    expect(relative.code).toBe(1);
  });

  it('refuses simulated hardware (the installed package has no simulator)', async () => {
    const cfg = production();
    const r = await dryRun({ ...cfg, hardware: { ...(cfg.hardware as object), scanner: { transport: { kind: 'sim' } } } }, 'sim');
    expect(r.code).toBe(1);
    expect(r.err).toContain('hardware.scanner.transport is simulated hardware');
  });

  it('accepts /var/lib/lockerd, builds as lockerd-build, and installs neither test/ nor sim/', async () => {
    const r = await dryRun({ ...production(), dataDir: '/var/lib/lockerd/' }, 'good');
    expect(r.err).not.toContain('cannot be installed');
    expect(r.code).toBe(0);
    const commands = r.out.split('\n').filter((l) => l.startsWith('+ '));
    const npm = commands.filter((l) => /\bnpm\b/.test(l));
    expect(npm.length).toBeGreaterThan(0);
    for (const l of npm) expect(l).toMatch(/^\+ runuser -u lockerd-build -- /);
    const intoOpt = commands.filter((l) => /\/opt\/lockerd/.test(l) && /^\+ (cp|install|mv)\b/.test(l));
    expect(intoOpt.length).toBeGreaterThan(0);
    for (const l of intoOpt) {
      expect(l).not.toMatch(/\/(test|sim)(\s|\/|$)/);
      expect(l).not.toMatch(/\/dist\/(test|sim)\b/);
    }
  });

  it('installs a release beside earlier ones, switches `current` by a rename, and installs the update units', async () => {
    const r = await dryRun({ ...production(), dataDir: '/var/lib/lockerd' }, 'layout');
    expect(r.code, r.err).toBe(0);
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const commands = r.out.split('\n').filter((l) => l.startsWith('+ '));
    // What runs goes to releases/<version>, never straight into /opt/lockerd.
    const copies = commands.filter((l) => /^\+ cp -a /.test(l) && /\/opt\/lockerd/.test(l));
    expect(copies.length).toBeGreaterThan(0);
    for (const l of copies) expect(l).toContain(`/opt/lockerd/releases/${version}.new/`);
    expect(commands).toContain(`+ mv /opt/lockerd/releases/${version}.new /opt/lockerd/releases/${version}`);
    expect(commands).toContain(`+ ln -sfn releases/${version} /opt/lockerd/current.new`);
    expect(commands).toContain('+ mv -T /opt/lockerd/current.new /opt/lockerd/current');
    expect(commands.some((l) => /lockerd\.service\.d\/updates\.conf/.test(l))).toBe(true);
    expect(commands.some((l) => /lockerd-rollback\.service/.test(l) && /lockerd-update-gate\.timer/.test(l))).toBe(true);
    expect(commands).toContain('+ install -m 0644 -o lockerd -g lockerd /opt/lockerd/releases/' + version + '/dist/src/update/bootGuard.js /opt/lockerd/bin/lockerd-update-guard.js');
    expect(commands).toContain('+ systemctl enable --now lockerd-update-gate.timer');
    // The unit starts what `current` points at, with or without the drop-in.
    const unit = readFileSync(join(root, 'deploy/systemd/lockerd.service'), 'utf8');
    // (node flags may come first: V8 flags that NODE_OPTIONS refuses, e.g. --heap-growing-percent)
    const start = /^ExecStart=\/usr\/bin\/node ((?:--[a-z-]+=\S+ )*)\/opt\/lockerd\/current\/dist\/src\/cli\/lockerd\.js start /m;
    expect(unit).toMatch(start);
    // The update drop-in replaces ExecStart: it keeps the same node flags.
    const dropIn = readFileSync(join(root, 'deploy/systemd/lockerd.service.d/updates.conf'), 'utf8');
    expect(start.exec(dropIn)?.[1]).toBe(start.exec(unit)?.[1]);
    expect(unit).toMatch(/^WorkingDirectory=\/opt\/lockerd\/current$/m);
  });
});
