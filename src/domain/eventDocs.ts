// Renders the event catalogue (events.ts) for people and for carriers' validators: the JSON
// Schema in docs/events.schema.json and the event table in docs/protocol.md. Pure; written by
// scripts/generateEventDocs.ts and compared in test/unit/domain/eventDocs.test.ts.
import { catalogue, eventsJsonSchema, type EventType } from './events.js';

export const TABLE_BEGIN = '<!-- events:begin (generated from src/domain/events.ts: npm run docs:events) -->';
export const TABLE_END = '<!-- events:end -->';

export function renderEventsSchema(): string {
  return `${JSON.stringify(eventsJsonSchema(), null, 2)}\n`;
}

interface JsonObjectSchema {
  properties?: Record<string, unknown>;
  required?: string[];
}

/** The Markdown table of every event: type, stream, data fields (`?` when optional), meaning. */
export function renderEventTable(): string {
  const schema = eventsJsonSchema() as { $defs: Record<string, JsonObjectSchema> };
  const rows = (Object.keys(catalogue) as EventType[]).map((type) => {
    const def = catalogue[type];
    const s = schema.$defs[type] ?? {};
    const required = new Set(s.required ?? []);
    const fields = Object.keys(s.properties ?? {}).map((f) => `\`${f}${required.has(f) ? '' : '?'}\``);
    return `| \`${type}\` | ${def.stream} | ${fields.join(', ') || '-'} | ${def.doc} |`;
  });
  return ['| type | stream | data | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** protocol.md with its generated block replaced (the markers stay). */
export function withEventTable(markdown: string): string {
  const a = markdown.indexOf(TABLE_BEGIN);
  const b = markdown.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error('docs/protocol.md has no event table markers');
  return `${markdown.slice(0, a + TABLE_BEGIN.length)}\n${renderEventTable()}\n${markdown.slice(b)}`;
}
