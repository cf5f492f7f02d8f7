// Issue 9, finding 10 (reconnect): after a long outage the bus must not wait out its full
// backoff once the device is back. The backoff here is an hour: only the watched device path
// can bring the line back within the test.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchDevicePath } from '../../../hal/transport/serialTransport.js';
import { type LockBusEvent } from '../../../hal/types.js';
import { simulatedBus, waitForEvent, waitUntil } from '../../support/simulatedBus.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const input = {
  id: 'bus0',
  protocol: 'kerong-cu48' as const,
  transport: { kind: 'sim' as const },
  boards: [{ address: 0, locks: 8, energiseMs: 60 }],
  pollIntervalMs: 50,
  fastPollIntervalMs: 20,
  fastPollForMs: 300,
  replyTimeoutMs: 40,
  silentAfterMisses: 2,
};

const transportEvents = (events: LockBusEvent[]) => events.flatMap((e) => (e.type === 'transport' ? [e.connected] : []));

describe('reopening when the device path appears', () => {
  it('a watched device cuts a long backoff short, and the watch ends once connected', async () => {
    let onChange: (() => void) | undefined;
    let watches = 0;
    const { bus, registry, path, events } = simulatedBus(input, {
      bus: {
        reopenMinMs: 3_600_000,
        reopenMaxMs: 3_600_000,
        watchDevice: (cb) => {
          watches++;
          onChange = cb;
          return () => {
            onChange = undefined;
          };
        },
      },
    });
    cleanup.push(() => bus.close());
    await bus.open();
    expect(onChange).toBeUndefined();

    registry.unplug(path);
    await waitForEvent(events, (e) => e.type === 'transport' && !e.connected);
    expect(onChange).toBeDefined();
    // A change while the device is still absent: one failed attempt, still down, still watching.
    onChange?.();
    await new Promise((r) => setTimeout(r, 50));
    expect(transportEvents(events)).toEqual([true, false]);
    expect(onChange).toBeDefined();

    registry.replug(path);
    onChange?.();
    await waitUntil(() => transportEvents(events).length === 3, 3_000, 'reconnect on the device change');
    expect(transportEvents(events)).toEqual([true, false, true]);
    expect(onChange).toBeUndefined();
    expect(watches).toBe(1);
    await expect(bus.status(0)).resolves.toMatchObject({ board: 0 });
  });
});

describe('watchDevicePath', () => {
  it('reports the path appearing, also when its folder is created first (a udev by-id folder)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lockerd-watch-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'by-id', 'usb-adapter');
    let seen = 0;
    const stop = watchDevicePath(path, () => seen++);
    cleanup.push(stop);
    await writeFile(join(dir, 'unrelated'), '');
    await mkdir(join(dir, 'by-id'));
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toBe(0);
    await writeFile(path, '');
    await waitUntil(() => seen > 0, 3_000, 'the path to be reported');
  });
});
