// Issue 11, defect 2: every error code the HTTP API can answer with (kernel/errors.ts, with a
// status in src/kiosk/http.ts other than the catch-all 500, and INTERNAL itself) has its own
// message in every kiosk catalogue; so do the kiosk's own OFFLINE and the operator's fault names.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { ErrorCodes, type ErrorCode } from '../../../kernel/errors.js';
import { httpStatusFor } from '../../../src/kiosk/http.js';

const dir = fileURLToPath(new URL('../../../src/kiosk/public/i18n/', import.meta.url));
const catalogues = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ language: f.slice(0, -5), entries: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, string> }));

const httpFacing = (Object.values(ErrorCodes) as ErrorCode[]).filter((c) => httpStatusFor(c) !== 500 || c === ErrorCodes.INTERNAL);

it('covers the codes the API answers with', () => {
  expect(httpFacing).toEqual(expect.arrayContaining(['STORE_FULL', 'BUS_DISCONNECTED', 'CODE_EXPIRED', 'TRANSACTION_STATE', 'INTERNAL']));
  expect(catalogues.map((c) => c.language)).toEqual(expect.arrayContaining(['en', 'zh-Hans']));
});

it.each(catalogues)('$language has a message for every HTTP-facing code', ({ entries }) => {
  const missing = [...httpFacing, 'OFFLINE'].filter((c) => !entries[`code.${c}`]?.trim());
  expect(missing).toEqual([]);
});

it.each(catalogues)('$language names every fault a compartment can carry', ({ entries }) => {
  const faults = ['LATCH_JAMMED', 'BOARD_SILENT', 'NEEDS_INSPECTION', 'OPERATOR', 'BUS_DISCONNECTED'];
  expect(faults.filter((f) => !entries[`fault.${f}`]?.trim())).toEqual([]);
});

it('gives each code its own words (no two codes share the English message)', () => {
  const en = catalogues.find((c) => c.language === 'en')?.entries ?? {};
  const texts = httpFacing.map((c) => en[`code.${c}`]);
  // A few codes are one thing to a person (a stale session, an expired one): allowed twins are listed.
  const twins = new Set(['NOT_AUTHENTICATED', 'SESSION_EXPIRED', 'HOST_NOT_ALLOWED', 'ORIGIN_NOT_ALLOWED', 'STREAMS_FULL', 'SESSIONS_FULL', 'BUS_CLOSED', 'TRANSPORT_ERROR', 'BUS_TIMEOUT']);
  const dupes = httpFacing.filter((c, i) => !twins.has(c) && texts.indexOf(texts[i]) !== i);
  expect(dupes).toEqual([]);
});
