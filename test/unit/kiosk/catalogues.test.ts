// The kiosk's message catalogues and markup: every language has the same keys and
// placeholders, the markup carries no literal text, and every key the screens use exists.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sizeClasses } from '../../../src/config/schema.js';

const publicDir = fileURLToPath(new URL('../../../src/kiosk/public/', import.meta.url));
const languages = readdirSync(join(publicDir, 'i18n'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

function catalogue(language: string): Record<string, string> {
  const parsed: unknown = JSON.parse(readFileSync(join(publicDir, 'i18n', `${language}.json`), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${language}.json is not an object`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new Error(`${language}.json: "${key}" is not a string`);
    out[key] = value;
  }
  return out;
}

const placeholders = (text: string): string[] => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
const html = readFileSync(join(publicDir, 'index.html'), 'utf8');
const scripts = readdirSync(publicDir)
  .filter((f) => f.endsWith('.js'))
  .map((f) => ({ file: f, source: readFileSync(join(publicDir, f), 'utf8') }));
const english = catalogue('en');

describe('kiosk message catalogues', () => {
  it('include English and Simplified Chinese', () => {
    expect(languages).toEqual(expect.arrayContaining(['en', 'zh-Hans']));
  });

  it.each(languages)('%s has exactly the keys of en, each non-empty with the same placeholders', (language) => {
    const other = catalogue(language);
    expect(Object.keys(other).sort()).toEqual(Object.keys(english).sort());
    for (const [key, text] of Object.entries(other)) {
      expect(text.trim(), `${language}: ${key}`).not.toBe('');
      expect(placeholders(text), `${language}: ${key}`).toEqual(placeholders(english[key] ?? ''));
    }
  });

  it('names every language in its own language', () => {
    const names = languages.map((l) => catalogue(l)['languageName']);
    expect(new Set(names).size).toBe(languages.length);
  });
});

describe('kiosk markup', () => {
  it('has no literal text outside data-i18n', () => {
    const text = html
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '')
      .replace(/<[^>]*>/g, '')
      .replace(/&[a-z]+;|&#\d+;/gi, 'X');
    expect(text.trim()).toBe('');
  });

  it('puts no literal text in attributes a person can read or hear', () => {
    expect(html).not.toMatch(/\s(aria-label|title|placeholder|alt)\s*=/i);
  });

  it('names only catalogue keys', () => {
    const used = [...html.matchAll(/data-i18n(?:-label)?="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(used.length).toBeGreaterThan(20);
    for (const key of used) expect(english, key).toHaveProperty([key]);
  });
});

describe('kiosk scripts', () => {
  it('ask only for keys the catalogue has', () => {
    let count = 0;
    for (const { file, source } of scripts) {
      for (const m of source.matchAll(/\bt\(\s*'([^']+)'/g)) {
        count += 1;
        expect(english, `${file}: ${m[1]}`).toHaveProperty([m[1] ?? '']);
      }
      // Keys built from a prefix, like t(`size.${s}`): the prefix must name some keys.
      for (const m of source.matchAll(/\bt\(\s*`([\w.]*)\$\{/g)) {
        const prefix = m[1] ?? '';
        expect(Object.keys(english).some((k) => k.startsWith(prefix)), `${file}: ${prefix}`).toBe(true);
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  it('have a label for every compartment size, state and door state', () => {
    const keys = [
      ...sizeClasses.map((s) => `size.${s}`),
      ...['free', 'occupied', 'out_of_service'].map((s) => `state.${s}`),
      ...['open', 'closed', 'unknown'].map((s) => `doorState.${s}`),
      ...['pickup', 'dropoff'].flatMap((m) => [`${m}.title`, `${m}.scanHint`, `door.${m}Step`, `wrong.${m}Text`, `jam.${m}Text`, `thanks.${m}`]),
    ];
    for (const key of keys) expect(english, key).toHaveProperty([key]);
  });

  // 50 KB until issue 11 (map, help, report, extend, a message per error code, the language menu,
  // accessibility, the door test report, the carrier list, settling an inspection, groups, the
  // drop-off size choice): 96 KB, about 30 KB gzipped, still without a build step or a framework.
  it('stay small: all JavaScript together under 96 KB', () => {
    const bytes = scripts.reduce((sum, s) => sum + Buffer.byteLength(s.source), 0);
    expect(bytes).toBeLessThan(96 * 1024);
  });
});
