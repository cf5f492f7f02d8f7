// The kiosk watchdog with a real headless Chromium: the page on the kiosk sends heartbeats;
// then its tab hangs (a busy loop started over CDP, never awaited) while the browser process
// keeps running. lockerd raises alarm.kiosk_silent on the operator stream, once, and runs the
// configured restart command, here a script that records its arguments. A fresh page ends the
// outage (alarm.kiosk_back).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/store/outbox.js';
import { KioskHarness, until } from '../../support/kioskHarness.js';

describe('a hung kiosk tab is noticed and its browser restarted', () => {
  let h: KioskHarness;
  let dir: string;
  let record: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-watchdog-'));
    record = join(dir, 'restarts.log');
    // What systemctl restart lockerd-kiosk would be on a Pi: a script that writes down each run.
    const script = 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")';
    h = await KioskHarness.start('hung-kiosk-tab', {
      overrides: {
        kiosk: {
          port: 0,
          heartbeatMs: 1_000,
          watchdog: { silenceS: 8, restartCommand: [process.execPath, '-e', script, record, 'restart', 'lockerd-kiosk'], restartTimeoutS: 10, backoffInitialS: 600, backoffMaxS: 600 },
        },
      },
    });
  });

  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const alarms = (): string[] => h.lockerd.locker.alarms.recent().map((a) => a.type).filter((t) => t.startsWith('alarm.kiosk'));

  it('the live page beats; once it hangs, one alarm and one restart', async () => {
    // The page beats: lockerd has seen a heartbeat after the page came up.
    const since = Date.now();
    await until(async () => Promise.resolve(h.lockerd.kioskWatchdog?.status().lastBeatAt !== undefined && (h.lockerd.kioskWatchdog?.status().lastBeatAt ?? 0) >= since), 15_000, 'a heartbeat');
    expect(alarms()).toEqual([]);

    // The tab hangs: its JavaScript never returns, the browser process lives on.
    const cdp = await h.page.context().newCDPSession(h.page);
    void cdp.send('Runtime.evaluate', { expression: 'while (true) {}' }).catch(() => undefined);
    expect(h.browser.isConnected()).toBe(true);

    await until(async () => (await readFile(record, 'utf8').catch(() => '')).trim() !== '', 30_000, 'the restart command ran');
    expect((await readFile(record, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as string[])).toEqual([['restart', 'lockerd-kiosk']]);
    expect(alarms()).toEqual(['alarm.kiosk_silent']);
    // On the operator stream: an outbox event without a carrier.
    const events = new Outbox(h.lockerd.db).rows().filter((r) => r.type.startsWith('alarm.kiosk'));
    expect(events.map((e) => [e.type, e.carrier])).toEqual([['alarm.kiosk_silent', null]]);
    expect(h.lockerd.kioskWatchdog?.status()).toMatchObject({ silent: true, restarts: 1 });
  });

  it('a fresh page (the restarted browser) beats again and ends the outage', async () => {
    const page = await h.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${h.lockerd.url}/`);
    await until(async () => Promise.resolve(h.lockerd.kioskWatchdog?.status().silent === false), 20_000, 'the outage ends');
    expect(alarms()).toEqual(['alarm.kiosk_back', 'alarm.kiosk_silent']);
    expect(h.lockerd.kioskWatchdog?.status().restarts).toBe(1);
  });
});
