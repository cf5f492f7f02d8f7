// The scanner driver opens its line through hal/transport/serialTransport, like the lock buses,
// instead of managing a SerialPortStream of its own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/packageRoot.js';

describe('the scanner driver', () => {
  it('uses the shared serial transport, not its own SerialPortStream', () => {
    const text = readFileSync(join(packageRoot(), 'hal/scanner/serialScanner.ts'), 'utf8');
    expect({ transport: text.includes("from '../transport/serialTransport.js'"), ownStream: text.includes('@serialport/stream') }).toEqual({ transport: true, ownStream: false });
  });
});
