// The kiosk watchdog's rules on a manual clock: silence past silenceS raises one alarm per
// outage and runs the restart command; a lasting silence restarts again only with a doubling
// backoff (no restart storm); a heartbeat ends the outage; a hung command is bounded.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { execRunner, KioskWatchdog, type CommandRunner, type KioskWatchdogConfig } from '../../../src/kiosk/watchdog.js';

const config: KioskWatchdogConfig = { silenceS: 30, restartCommand: ['systemctl', 'restart', 'lockerd-kiosk'], restartTimeoutS: 20, backoffInitialS: 60, backoffMaxS: 300 };

function setup(run?: CommandRunner) {
  const clock = new ManualClock();
  const alarms: string[] = [];
  const runs: { at: number; argv: readonly string[]; timeoutMs: number }[] = [];
  const dog = new KioskWatchdog({
    config,
    clock,
    logger: silentLogger(),
    alarm: (event) => alarms.push(event.type),
    run:
      run ??
      ((argv, timeoutMs) => {
        runs.push({ at: clock.now(), argv, timeoutMs });
        return Promise.resolve({ ok: true, status: '0' });
      }),
  });
  dog.start();
  return { clock, alarms, runs, dog, t0: clock.now() };
}

describe('kiosk watchdog', () => {
  it('stays quiet while heartbeats come', async () => {
    const { clock, alarms, runs, dog } = setup();
    for (let i = 0; i < 100; i++) {
      await clock.advance(5_000);
      dog.beat();
    }
    expect(alarms).toEqual([]);
    expect(runs).toEqual([]);
    dog.stop();
  });

  it('after the silence: one alarm, the restart command, then restarts only with a doubling, capped backoff', async () => {
    const { clock, alarms, runs, dog, t0 } = setup();
    await clock.advance(10_000);
    dog.beat();
    await clock.advance(29_000);
    expect(runs).toEqual([]);
    await clock.advance(1_000); // 30 s after the last beat
    expect(alarms).toEqual(['alarm.kiosk_silent']);
    expect(runs).toEqual([{ at: t0 + 40_000, argv: config.restartCommand, timeoutMs: 20_000 }]);
    // An hour of silence: restarts after 60, 120, 240, then every 300 s; still one alarm.
    await clock.advance(3_600_000);
    const gaps = runs.slice(1).map((r, i) => (r.at - (runs[i]?.at ?? 0)) / 1000);
    expect(gaps.slice(0, 5)).toEqual([60, 120, 240, 300, 300]);
    expect(runs.length).toBeLessThanOrEqual(15);
    expect(alarms).toEqual(['alarm.kiosk_silent']);
    dog.stop();
  });

  it('a heartbeat ends the outage; the next outage alarms again and starts the backoff anew', async () => {
    const { clock, alarms, runs, dog } = setup();
    await clock.advance(31_000);
    await clock.advance(200_000);
    const before = runs.length;
    dog.beat();
    expect(alarms).toEqual(['alarm.kiosk_silent', 'alarm.kiosk_back']);
    expect(dog.status().silent).toBe(false);
    await clock.advance(29_000);
    expect(runs.length).toBe(before);
    await clock.advance(2_000);
    expect(alarms).toEqual(['alarm.kiosk_silent', 'alarm.kiosk_back', 'alarm.kiosk_silent']);
    expect(runs.length).toBe(before + 1);
    await clock.advance(60_000);
    expect(runs.length).toBe(before + 2);
    dog.stop();
  });

  it('never runs two restarts at once, even when the command hangs', async () => {
    let calls = 0;
    let finish: () => void = () => undefined;
    const { clock, dog } = setup(() => {
      calls++;
      return new Promise((resolve) => (finish = () => resolve({ ok: false, status: 'timed out (SIGKILL)' })));
    });
    await clock.advance(31_000);
    await clock.advance(600_000);
    expect(calls).toBe(1);
    finish();
    await clock.advance(0);
    await clock.advance(61_000);
    expect(calls).toBe(2);
    dog.stop();
  });

  it('runs the command without a shell and kills it after its timeout', async () => {
    expect(await execRunner([process.execPath, '-e', 'process.exit(0)'], 10_000)).toEqual({ ok: true, status: '0' });
    expect(await execRunner([process.execPath, '-e', 'process.exit(3)'], 10_000)).toEqual({ ok: false, status: '3' });
    // A shell would expand this; execFile passes it as one argument.
    expect(await execRunner([process.execPath, '-e', 'process.exit(process.argv[1] === "$(id)" ? 0 : 1)', '$(id)'], 10_000)).toMatchObject({ ok: true });
    expect(await execRunner([process.execPath, '-e', 'setTimeout(() => {}, 60000)'], 300)).toMatchObject({ ok: false, status: expect.stringContaining('timed out') });
    expect(await execRunner(['/nonexistent/restart-kiosk'], 1_000)).toEqual({ ok: false, status: 'ENOENT' });
  });
});
