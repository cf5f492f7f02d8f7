// Checks that depend on how a configuration is used rather than on its shape: settings that
// only the simulator demo may use, keys still holding the shipped examples' placeholders, and
// whether the kiosk would answer beyond the controller itself. They run on the raw input (so a
// file with other errors still gets every finding at once) and on a parsed configuration alike.
import { isIP } from 'node:net';
import type { ConfigIssue } from './configIssue.js';

/**
 * The shipped examples mark every key they cannot know with this word (deploy/examples/*.json),
 * in the key material or its kid. A key that still carries it was never replaced.
 */
const PLACEHOLDER = /placeholder/i;

/**
 * Problems that make a configuration unfit for a real locker (anything started without --sim):
 * demo settings that are on, and keys that are still the examples' placeholders. Paths are the
 * dotted paths of the file.
 */
export function demoOnlyIssues(raw: unknown): ConfigIssue[] {
  if (!isRecord(raw)) return [];
  const out: ConfigIssue[] = [];
  const demo = isRecord(raw.demo) ? raw.demo : {};
  if (demo.revealCodes === true) {
    out.push({ path: 'demo.revealCodes', message: 'a demo setting (pickup codes in local API replies); refused outside --sim: remove it' });
  }
  const key = (value: unknown, path: string): void => {
    if (!isRecord(value)) return;
    for (const field of ['x', 'kid'] as const) {
      const v = value[field];
      if (typeof v === 'string' && PLACEHOLDER.test(v)) {
        out.push({ path: `${path}.${field}`, message: 'still the example\'s placeholder key; put the real public key here (refused outside --sim)' });
        return;
      }
    }
  };
  arrayOf(raw.carriers).forEach((c, i) => {
    if (!isRecord(c)) return;
    arrayOf(c.signingKeys).forEach((k, j) => key(k, `carriers.${i}.signingKeys.${j}`));
    key(c.encryptionKey, `carriers.${i}.encryptionKey`);
  });
  const operator = isRecord(raw.operator) ? raw.operator : {};
  arrayOf(operator.signingKeys).forEach((k, j) => key(k, `operator.signingKeys.${j}`));
  const mqtt = isRecord(raw.mqtt) ? raw.mqtt : {};
  if (typeof mqtt.password === 'string' && PLACEHOLDER.test(mqtt.password)) {
    out.push({ path: 'mqtt.password', message: 'still a placeholder; put the locker\'s broker password here (refused outside --sim)' });
  }
  return out;
}

/**
 * True when a listen address reaches only this machine: "localhost", 127.0.0.0/8, ::1 and
 * IPv4-mapped loopback. Everything else, 0.0.0.0, "::" and any other name included, may be
 * reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^(?:0:0:0:0:0|:):ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped?.[1] !== undefined && mapped[1].startsWith('127.');
  }
  return false;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function arrayOf(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
