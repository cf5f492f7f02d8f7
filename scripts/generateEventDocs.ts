// Writes docs/events.schema.json and the event table of docs/protocol.md from the event
// catalogue (src/domain/events.ts). Run: npm run docs:events. CI fails when they are stale
// (test/unit/domain/eventDocs.test.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEventsSchema, withEventTable } from '../src/domain/eventDocs.js';

const root = join(import.meta.dirname, '..');
writeFileSync(join(root, 'docs/events.schema.json'), renderEventsSchema());
const protocol = join(root, 'docs/protocol.md');
writeFileSync(protocol, withEventTable(readFileSync(protocol, 'utf8')));
console.log('wrote docs/events.schema.json and the event table in docs/protocol.md');
