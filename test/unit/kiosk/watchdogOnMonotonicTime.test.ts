// Issue 9, finding 8: the kiosk watchdog measures silence and backoff on monotonic time. A wall
// clock stepped back must not hide a hung kiosk page; one stepped forward must not restart a
// healthy one.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../kernel/clock.js';
import { silentLogger } from '../../../src/logger.js';
import { KioskWatchdog, type KioskWatchdogConfig } from '../../../src/kiosk/watchdog.js';

const config: KioskWatchdogConfig = { silenceS: 30, restartCommand: ['systemctl', 'restart', 'lockerd-kiosk'], restartTimeoutS: 20, backoffInitialS: 60, backoffMaxS: 300 };
const HOUR = 3_600_000;

function setup() {
  const clock = new ManualClock();
  const alarms: string[] = [];
  let runs = 0;
  const dog = new KioskWatchdog({
    config,
    clock,
    logger: silentLogger(),
    alarm: (event) => alarms.push(event.type),
    run: () => {
      runs++;
      return Promise.resolve({ ok: true, status: '0' });
    },
  });
  dog.start();
  return { clock, alarms, dog, runs: () => runs };
}

describe('kiosk watchdog on monotonic time', () => {
  it('a wall clock stepped back 1 h does not hide a silent kiosk', async () => {
    const { clock, alarms, dog, runs } = setup();
    await clock.advance(5_000);
    dog.beat();
    clock.stepWall(-HOUR);
    await clock.advance(30_000);
    expect(alarms).toEqual(['alarm.kiosk_silent']);
    expect(runs()).toBe(1);
    // The next restart is reported as a wall time a backoff from now.
    expect((dog.status().nextRestartAt ?? 0) - clock.now()).toBe(60_000);
    dog.stop();
  });

  it('a wall clock stepped forward 1 h does not restart a kiosk that keeps beating', async () => {
    const { clock, alarms, dog, runs } = setup();
    await clock.advance(5_000);
    dog.beat();
    // The step lands just before the watchdog's check, 25 s after the last beat.
    await clock.advance(24_000);
    clock.stepWall(HOUR);
    await clock.advance(2_000);
    expect(alarms).toEqual([]);
    dog.beat();
    for (let i = 0; i < 20; i++) {
      await clock.advance(5_000);
      dog.beat();
    }
    expect(alarms).toEqual([]);
    expect(runs()).toBe(0);
    expect(dog.status().lastBeatAt).toBe(clock.now());
    dog.stop();
  });
});
