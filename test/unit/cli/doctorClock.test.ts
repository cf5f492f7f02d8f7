// doctor's clock check where timedatectl is absent (issue 12, section 3): it reports
// "unknown" instead of failing, and asks chrony or systemd-timesyncd's flag file instead. The
// tools are real executables on a PATH made for each case.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeClock } from '../../../src/cli/doctor/clockProbe.js';
import { ManualClock } from '../../../kernel/clock.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockerd-clock-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A directory holding the given tools, each a shell script printing `out` with `exit`. */
function pathWith(name: string, tools: Record<string, { out: string; exit?: number }>): string {
  const bin = mkdtempSync(join(dir, `${name}-`));
  for (const [tool, t] of Object.entries(tools)) {
    const file = join(bin, tool);
    writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' '${t.out}'\nexit ${t.exit ?? 0}\n`);
    chmodSync(file, 0o755);
  }
  return bin;
}

const now = new ManualClock(Date.UTC(2026, 5, 1));
const noFlag = (): string => join(dir, 'no-flag');

describe('the clock check without timedatectl', () => {
  it('is unknown, not a failure, when nothing can tell', async () => {
    const r = await probeClock(now, { path: pathWith('empty', {}), timesyncFlag: noFlag() });
    expect(r.status).toBe('unknown');
    expect(r.detail).toMatch(/no timedatectl, no chronyc, no .*no-flag/);
  });

  it('asks chrony: leap status Normal is synchronised, Not synchronised fails', async () => {
    const synced = await probeClock(now, { path: pathWith('chrony-ok', { chronyc: { out: 'Reference ID    : C0A80001\nLeap status     : Normal' } }), timesyncFlag: noFlag() });
    expect(synced).toEqual({ status: 'ok', detail: 'synchronised (chronyc: leap status Normal)' });
    const unsynced = await probeClock(now, { path: pathWith('chrony-no', { chronyc: { out: 'Leap status     : Not synchronised' } }), timesyncFlag: noFlag() });
    expect(unsynced.status).toBe('fail');
  });

  it('takes systemd-timesyncd’s flag file as synchronised', async () => {
    const flag = join(dir, 'synchronized');
    writeFileSync(flag, '');
    expect((await probeClock(now, { path: pathWith('flag', {}), timesyncFlag: flag })).status).toBe('ok');
  });

  it('fails a clock earlier than this release, whatever else', async () => {
    const r = await probeClock(new ManualClock(Date.UTC(1970, 0, 2)), { path: pathWith('epoch', {}), timesyncFlag: noFlag() });
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('1970-01-02');
  });

  it('still believes timedatectl where it answers, and falls through where it cannot reach systemd', async () => {
    expect((await probeClock(now, { path: pathWith('td-yes', { timedatectl: { out: 'yes' } }), timesyncFlag: noFlag() })).status).toBe('ok');
    expect((await probeClock(now, { path: pathWith('td-no', { timedatectl: { out: 'no' } }), timesyncFlag: noFlag() })).status).toBe('fail');
    const noBus = await probeClock(now, { path: pathWith('td-nobus', { timedatectl: { out: 'System has not been booted with systemd', exit: 1 }, chronyc: { out: 'Leap status     : Normal' } }), timesyncFlag: noFlag() });
    expect(noBus.status).toBe('ok');
  });
});
