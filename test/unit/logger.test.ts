import { describe, expect, it } from 'vitest';
import { createLogger, SECRET_LOG_FIELDS } from '../../src/logger.js';

function capture(): { lines: Record<string, unknown>[]; destination: { write(s: string): void } } {
  const lines: Record<string, unknown>[] = [];
  return { lines, destination: { write: (s) => void lines.push(JSON.parse(s) as Record<string, unknown>) } };
}

describe('the logger keeps fields named like secrets out of every line', () => {
  it.each(SECRET_LOG_FIELDS)('%s is redacted at the top level and one level down, at trace level too', (field) => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'trace', destination }).child({ channel: 'test' });
    log.trace({ [field]: 'S3CRET-1', nested: { [field]: 'S3CRET-2' } }, 'a careless line');
    expect(JSON.stringify(lines)).not.toContain('S3CRET');
    expect(lines[0]?.[field]).toBe('[redacted]');
  });

  it('leaves error codes and lengths alone', () => {
    const { lines, destination } = capture();
    createLogger({ level: 'info', destination }).warn({ code: 'SCAN_REJECTED', length: 12 }, 'scan rejected');
    expect(lines[0]).toMatchObject({ code: 'SCAN_REJECTED', length: 12 });
  });
});
