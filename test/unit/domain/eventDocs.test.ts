// The generated event documents are current: regenerate from the catalogue and compare.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderEventsSchema, withEventTable } from '../../../src/domain/eventDocs.js';

const root = join(import.meta.dirname, '../../..');

describe('generated event docs (run `npm run docs:events` when this fails)', () => {
  it('docs/events.schema.json matches the catalogue', () => {
    expect(readFileSync(join(root, 'docs/events.schema.json'), 'utf8')).toBe(renderEventsSchema());
  });

  it('the event table in docs/protocol.md matches the catalogue', () => {
    const doc = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
    expect(doc).toBe(withEventTable(doc));
  });

  it('docs/protocol.md calls the compartment `compartment`, as the wire does', () => {
    const doc = readFileSync(join(root, 'docs/protocol.md'), 'utf8');
    const envelopeExample = doc.slice(doc.indexOf('## Event envelope'), doc.indexOf('## Acknowledgements'));
    expect(envelopeExample).not.toContain('compartmentId');
  });
});
