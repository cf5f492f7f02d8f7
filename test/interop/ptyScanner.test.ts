// The scanner driver on a real tty: the native @serialport/bindings-cpp binding opens one end
// of a socat pty pair, the test types barcodes into the other end. Killing socat is the cable
// being pulled; starting it again on the same links is the cable going back in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BindingInterface } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialScanner } from '../../hal/scanner/serialScanner.js';
import { type ScannerEvent } from '../../hal/types.js';
import { SystemClock } from '../../kernel/clock.js';
import { silentLogger } from '../../src/logger.js';
import { startSocatPtyPair, type SocatPtyPair } from '../support/socatPtyPair.js';

async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('scanner on a real pty', () => {
  let dir: string;
  let pair: SocatPtyPair | undefined;
  let scanner: SerialScanner;
  const events: ScannerEvent[] = [];
  const scans = (): string[] => events.flatMap((e) => (e.type === 'scan' ? [e.text] : []));
  /** What a scanner types: bytes into the far end of the pair. */
  const type = (bytes: string | Uint8Array): Promise<void> => writeFile(pair?.b ?? '', bytes, { flag: 'r+' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lockerd-pty-'));
    pair = await startSocatPtyPair({ dir, aName: 'scanner', bName: 'keyboard' });
    const { autoDetect } = await import('@serialport/bindings-cpp');
    const binding: BindingInterface = autoDetect();
    scanner = new SerialScanner({
      path: pair.a,
      baudRate: 9600,
      binding,
      clock: new SystemClock(),
      logger: silentLogger(),
      framing: { suffix: 'cr', interByteTimeoutMs: 100, maxLength: 512, aimPrefix: true },
      reconnectMinMs: 100,
      jitter: () => 0.5,
      reconnectMaxMs: 1_000,
      presencePollMs: 100,
    });
    scanner.on((e) => events.push(e));
    await scanner.start();
  });

  afterAll(async () => {
    await scanner?.stop();
    await pair?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('scans typed into the pty arrive framed', async () => {
    expect(scanner.connected).toBe(true);
    expect(events[0]).toEqual({ type: 'connected' });

    await type('12345678\r');
    await until('first scan', () => scans().length === 1);

    // A QR payload with line breaks, sent in two writes inside the inter-byte timeout.
    await type(']Q1WIFI:S:Locker;\nT:WPA;');
    await sleep(20);
    await type('P:x;;\r\n');
    await until('QR scan', () => scans().length === 2);
    expect(events.at(-1)).toEqual({ type: 'scan', text: 'WIFI:S:Locker;\nT:WPA;P:x;;', symbology: ']Q1' });

    // Garbage on the line is rejected, and the next read is fine.
    await type(Uint8Array.of(0xff, 0x00, 0xfe, 0x0d));
    await until('reject', () => events.some((e) => e.type === 'rejected'));
    await type(']C10109501101020917\r');
    await until('third scan', () => scans().length === 3);

    expect(scans()).toEqual(['12345678', 'WIFI:S:Locker;\nT:WPA;P:x;;', '0109501101020917']);
    expect(events.filter((e) => e.type === 'rejected')).toEqual([{ type: 'rejected', code: 'SCAN_REJECTED', length: 3 }]);
  });

  it('killing socat disconnects; restarting it reconnects and scans work again', async () => {
    await pair?.stop();
    await until('disconnected', () => !scanner.connected && events.at(-1)?.type === 'disconnected');

    // Nothing to open for a while: the driver keeps retrying without throwing.
    await sleep(600);
    expect(scanner.connected).toBe(false);

    pair = await startSocatPtyPair({ dir, aName: 'scanner', bName: 'keyboard' });
    await until('reconnected', () => scanner.connected);
    expect(events.at(-1)).toEqual({ type: 'connected' });

    await type('87654321\r');
    await until('scan after replug', () => scans().at(-1) === '87654321');
    expect(events.filter((e) => e.type === 'connected')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'disconnected')).toHaveLength(1);
  });
});
